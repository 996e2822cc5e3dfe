#!/bin/bash
set -e
if [ "$(id -u)" = '0' ]; then
  chown -R mongodb /data/db
  exec gosu mongodb "$BASH_SOURCE" "$@"
fi
exec "$@"
