#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for tests, from Debian's
# postgresql package, never touching the machine's own clusters or /etc:
#   pgcluster.sh start DIR   initdb in DIR/data as the unprivileged postgres
#                            user, start it listening on a Unix socket in DIR
#                            only (no TCP), fsync off; print its URL
#   pgcluster.sh stop DIR    stop it and remove DIR
#   pgcluster.sh halt DIR    stop the server, keeping its data
#   pgcluster.sh resume DIR  start the halted server again
# DIR must be new or empty; it is made owned by postgres. Run as root
# (runuser). Used by test.sh and by tests that stop PostgreSQL under a
# running portpanel (db/dbtest/pgtest.NewCluster).
set -euo pipefail

cmd=${1:?usage: pgcluster.sh start|stop|halt|resume DIR}
dir=${2:?usage: pgcluster.sh start|stop|halt|resume DIR}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pgcluster.sh: no initdb under /usr/lib/postgresql/*/bin (install Debian's postgresql package)" >&2
  exit 1
fi
as_pg() { runuser -u postgres -- "$@"; }

start_server() {
  # listen_addresses='': Unix socket only. fsync off: a test cluster
  # thrown away on a crash needs no durability, and tests run faster.
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -o \
    "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
}

case $cmd in
start)
  mkdir -p "$dir"
  chown postgres: "$dir"
  chmod 0700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  start_server || { cat "$dir/log" >&2; exit 1; }
  echo "postgres:///postgres?host=$dir&user=postgres"
  ;;
halt)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  start_server || { cat "$dir/log" >&2; exit 1; }
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "pgcluster.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac
