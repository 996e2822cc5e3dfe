#!/usr/bin/env bash
# Stops the daemons the test and rehearsal scripts started, and only
# those: each left its pid in $DOCKOPT_CACHE/rehearse/*.pid when it started
# one (a daemon that was already running has no such file and is left
# alone). Sourced by scripts/test.sh and scripts/rehearse/compose.sh for
# their EXIT trap; DOCKOPT_KEEP=1 (scripts/test.sh --keep) keeps them.
stop_started_daemons() {
	local cache=${DOCKOPT_CACHE:?} pidfile pid name
	if [ "${DOCKOPT_KEEP:-0}" = 1 ]; then
		for pidfile in "$cache"/rehearse/*.pid; do
			[ -f "$pidfile" ] && printf 'kept running: %s (pid %s)\n' "$(basename "$pidfile" .pid)" "$(cat "$pidfile")" >&2
		done
		return 0
	fi
	for pidfile in "$cache"/rehearse/*.pid; do
		[ -f "$pidfile" ] || continue
		name=$(basename "$pidfile" .pid)
		pid=$(cat "$pidfile")
		rm -f "$pidfile"
		case "$name" in
		postgresql)
			# pg_ctlcluster started it; the pid file holds "VERSION CLUSTER".
			# shellcheck disable=SC2086
			pg_ctlcluster --skip-systemctl-redirect $pid stop >/dev/null 2>&1 || true
			;;
		*)
			kill -TERM "$pid" 2>/dev/null || continue
			# dockerd stops its containers and its containerd first.
			for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			kill -KILL "$pid" 2>/dev/null || true
			;;
		esac
		printf 'stopped %s, which this run started\n' "$name" >&2
	done
}
