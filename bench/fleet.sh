# Sourced by `bench/run.sh --fleet-in-netns W` inside `unshare -n`: the
# fleet step (issue 19). One `portpanel serve` with its agent listener on a
# Unix socket, on PostgreSQL; bench/cmd/fleetsim enrolls FLEET_HOSTS
# virtual agents and measures the control plane's CPU and RSS while they
# poll every FLEET_POLL, then times remote changes to `applied`; with the
# fleet still running, the 200-client mix loads the pages and the API,
# the Hosts page and GET /api/v1/hosts among them. Appends target lines to
# $W/results.
#
# The store: $PORTPANEL_BENCH_PG, else $PORTPANEL_TEST_PG (a cluster
# someone runs: a database of our own is made in it and dropped after),
# else a throwaway cluster of our own (db/dbtest/pgcluster.sh). --quick
# falls back to SQLite when PostgreSQL cannot start; the full run needs
# PostgreSQL.

source bench/lib.sh

started=()
pgdir="" pgdb="" pgadmin=""
cleanup() {
  for p in "${started[@]}"; do stop "$p"; done
  if [ -n "$pgdb" ]; then psql_bin "$pgadmin" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ -n "$pgdir" ]; then bash db/dbtest/pgcluster.sh stop "$pgdir" || true; fi
}
trap cleanup EXIT

psql_bin() { # URL ARGS...: psql of Debian's newest PostgreSQL, else the one on PATH
  local url=$1 bin
  shift
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  "${bin:+$bin/}psql" "$url" -v ON_ERROR_STOP=1 -qAt "$@"
}
# with_db URL NAME: URL naming database NAME instead of its own.
with_db() { sed -E "s|^(postgres(ql)?://[^/?]*)/?[^?]*|\1/$2|" <<<"$1"; }

store=""
pgurl=${PORTPANEL_BENCH_PG:-${PORTPANEL_TEST_PG:-}}
if [ -z "$pgurl" ]; then
  # Not under $W: the postgres user cannot enter root's 0700 temp dir.
  pgdir=$(mktemp -d /tmp/portpanel-bench-pg.XXXXXX)
  if pgurl=$(bash db/dbtest/pgcluster.sh start "$pgdir" 2>"$W/pgcluster.log"); then
    echo "# fleet: a throwaway PostgreSQL cluster in $pgdir"
  else
    rm -rf "$pgdir"
    pgurl="" pgdir=""
    echo "# fleet: PostgreSQL did not start: $(tail -n 3 "$W/pgcluster.log" | tr '\n' ' ')"
  fi
else
  echo "# fleet: PostgreSQL from the environment"
fi
if [ -n "$pgurl" ]; then
  pgadmin=$pgurl
  pgdb="portpanel_fleetsim_$$"
  psql_bin "$pgadmin" -c "CREATE DATABASE $pgdb" >/dev/null
  store=$(with_db "$pgurl" "$pgdb")
  echo "# fleet: on $(psql_bin "$pgadmin" -c 'SHOW server_version') (database $pgdb)"
elif [ "${FLEET_SQLITE_OK:-}" = 1 ]; then
  store="$W/fleet.db"
  echo "# fleet: on SQLite (--quick without PostgreSQL)"
else
  echo "bench: the fleet run needs PostgreSQL: set PORTPANEL_BENCH_PG or install Debian's postgresql" >&2
  exit 1
fi

pp="$W/bin/portpanel"
printf '%s\n' "$BENCH_PASSWORD" | "$pp" user add bench --role admin --password-stdin --db "$store" >/dev/null
FLEET_TOKEN=$("$pp" token create --user bench --db "$store" 2>>"$W/fleet-setup.log" | tail -n1 | awk '{print $NF}')
export FLEET_TOKEN

"$pp" serve --addr 127.0.0.1:18085 --db "$store" --agent-listen "unix:$W/agent.sock" --config-root "$W/root" \
  --sysctl-file "$W/root/etc/sysctl.d/90-portpanel.conf" --boot-reader systemd --proc-sys /proc/sys ${FLEET_SERVE_ARGS:-} \
  >"$W/serve-fleet.log" 2>&1 &
server=$!
started+=("$server")
wait_port 18085

# PostgreSQL's CPU is shown (not judged) when the cluster is ours alone.
pgpid=""
if [ -n "$pgdir" ]; then pgpid=$(head -n1 "$pgdir/data/postmaster.pid"); fi
"$W/bin/fleetsim" -server "unix://$W/agent.sock" -api http://127.0.0.1:18085 -token-env FLEET_TOKEN \
  -hosts "$FLEET_HOSTS" -poll "$FLEET_POLL" -round "$FLEET_ROUND" -rounds "$FLEET_ROUNDS" \
  -changes "$FLEET_CHANGES" -pid "$server" ${pgpid:+-pg-pid "$pgpid"} -hold >"$W/fleetsim.out" 2>&1 &
sim=$!
started+=("$sim")
# Enrollment, one poll interval of starts, the rounds and the changes.
for _ in $(seq 1800); do
  grep -q '^hosts=' "$W/fleetsim.out" && break
  kill -0 "$sim" 2>/dev/null || break
  sleep 0.5
done
sed -n '/^#/p' "$W/fleetsim.out"
fs=$(grep '^hosts=' "$W/fleetsim.out" || true)
echo "# fleetsim: ${fs:-no figures}"

# The 200-client mix, the fleet still polling and reporting.
mix=/,/hosts,/api/v1/hosts,/changes,/api/v1/range,/api/v1/changes,/metrics
declare -A fp99=()
mix_errors=0
for round in $(seq "$LOAD_ROUNDS"); do
  [ -n "$fs" ] || break
  m=$("$W/bin/load" -base http://127.0.0.1:18085 -user bench -token-env FLEET_TOKEN -paths "$mix" \
    -c "$MIXED_C" -d "$MIXED_D" -warm 2 -per-path 2>>"$W/fleet-load.log") || { echo "# fleet mix failed: $(tail -n 2 "$W/fleet-load.log")"; break; }
  head -n1 <<<"$m" | sed "s/^/# fleet round $round, mixed, $MIXED_C connections, $MIXED_D: /"
  sed -n 's/^path=/#   /p' <<<"$m"
  mix_errors=$((mix_errors + $(kv "$(head -n1 <<<"$m")" errors)))
  while read -r line; do
    p=${line%% *} p=${p#path=}
    fp99[$p]+=" $(kv "$line" p99_ms)"
  done < <(grep '^path=' <<<"$m")
done
kill -TERM "$sim" 2>/dev/null || true
wait "$sim" 2>/dev/null || true
grep '^# final' "$W/fleetsim.out" || true

n=$(human "$FLEET_HOSTS")
{
  echo "fleet-$n-cpu $(kv "$fs" cpu_cores)cores <=1cores"
  echo "fleet-$n-rss $(kv "$fs" rss_mb)MB <=512MB"
  echo "fleet-$n-applied-p50 $(kv "$fs" applied_p50_ms)ms <=1000ms"
  errs=""
  if [ -n "$fs" ]; then errs=$(($(kv "$fs" unauthorized) + $(kv "$fs" errors) + $(kv "$fs" changes_failed))); fi
  echo "fleet-$n-agent-errors $errs ==0"
  # shellcheck disable=SC2086 # the rounds' figures, one word each
  echo "fleet-$n-p99-hosts-page $(median ${fp99[/hosts]:-})ms <=100ms"
  # shellcheck disable=SC2086
  echo "fleet-$n-p99-api-hosts $(median ${fp99[/api/v1/hosts]:-})ms <=100ms"
  echo "fleet-$n-mix-errors $mix_errors ==0"
} >>"$W/results"
