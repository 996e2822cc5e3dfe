#!/bin/sh
set -e

# `docker run memcached -m 64` passes options to memcached.
case "$1" in
	-*) set -- memcached "$@" ;;
esac

exec "$@"
