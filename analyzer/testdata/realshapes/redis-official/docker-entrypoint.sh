#!/bin/sh
set -e

# Arguments that start with a dash are options for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# Started as root: hand the data directory to redis, then restart this
# script as redis so that the server never runs as root.
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

# Keep the umask the server would have had before the entrypoint existed.
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
