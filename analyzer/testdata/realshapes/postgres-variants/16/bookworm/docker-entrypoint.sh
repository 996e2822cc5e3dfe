#!/usr/bin/env bash
set -Eeo pipefail

# Loads VAR from VAR or from the file VAR_FILE names (docker secrets).
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# Creates the data directories with the right owner; as root it can fix
# them, as another user it can only try.
docker_create_db_directories() {
	local user; user="$(id -u)"
	mkdir -p "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ "$user" = '0' ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

docker_init_database_dir() {
	file_env 'POSTGRES_INITDB_ARGS'
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "$@"'
}

_main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" = 'postgres' ]; then
		docker_create_db_directories
		if [ "$(id -u)" = '0' ]; then
			# Started as root: run this script again as postgres.
			exec gosu postgres "$BASH_SOURCE" "$@"
		fi
		if [ ! -s "$PGDATA/PG_VERSION" ]; then
			file_env 'POSTGRES_USER' 'postgres'
			file_env 'POSTGRES_PASSWORD'
			docker_init_database_dir
		fi
	fi
	exec "$@"
}

_main "$@"
