#!/bin/sh
set -eu
tar czf "/backup/$(date +%F).tar.gz" /data
