#!/usr/bin/env bash
# bench/run.sh [--quick]: the benchmark suite (issues 6, 12 and 19;
# the targets are in BENCHMARKS.md; the fleet's store is
# $PORTPANEL_BENCH_PG, else $PORTPANEL_TEST_PG, else a throwaway cluster:
# bench/fleet.sh). Builds portpanel and
# the tools in bench/cmd, measures each target side by side in this one
# run, and prints one line per target: NAME MEASURED TARGET PASS|FAIL
# (lines starting with # are details). Exits 1 if a target fails; with
# --quick (sizes of a smoke test, a few seconds each) targets are printed
# but not enforced, and only a measurement that cannot be taken fails.
# Run as root: servers and applies run in private network namespaces
# (unshare -n), so nothing here touches this host's sysctls or /etc.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# kv LINE KEY: the value of KEY=VALUE in a tool's output line.
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

if [ "${1:-}" = --in-netns ]; then
  # Re-executed by the outer run inside `unshare -n`: the load tests.
  source bench/netns.sh
  exit
fi
if [ "${1:-}" = --fleet-in-netns ]; then
  # Re-executed by the outer run inside `unshare -n`: the fleet.
  source bench/fleet.sh
  exit
fi

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "bench/run.sh: run as root: servers and applies run in private network namespaces" >&2
  exit 1
fi

# Sizes. The full run follows the issue; --quick keeps every step but
# shrinks it to a smoke test.
if [ $quick = 1 ]; then
  export LOAD_D=2s LOAD_ROUNDS=1 MIXED_D=2s LAT_D=0.3s LOAD_C=64 MIXED_C=200
  SMALL_ROWS=1000 SMALL_SAMPLES=1000 LARGE_ROWS=10000 LARGE_SAMPLES=10000
  APPLIES=20 SOCKETS=2000 SCAN_TIMES=1x
  # 1,000 hosts polling every 10 s: a third of the full run's report
  # rate, in well under a minute.
  export FLEET_HOSTS=1000 FLEET_POLL=10s FLEET_ROUND=5s FLEET_ROUNDS=2 FLEET_CHANGES=5 FLEET_SQLITE_OK=1
else
  export LOAD_D=15s LOAD_ROUNDS=3 MIXED_D=20s LAT_D=5s LOAD_C=64 MIXED_C=200
  SMALL_ROWS=1000 SMALL_SAMPLES=1000 LARGE_ROWS=1000000 LARGE_SAMPLES=10000000
  APPLIES=200 SOCKETS=50000 SCAN_TIMES=3x
  export FLEET_HOSTS=10000 FLEET_POLL=30s FLEET_ROUND=30s FLEET_ROUNDS=3 FLEET_CHANGES=20
fi

export SMALL_ROWS LARGE_ROWS
W=$(mktemp -d /tmp/portpanel-bench.XXXXXX)
export W
trap '[ -n "${BENCH_KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"' EXIT
mkdir -p "$W/bin"
: >"$W/results"

# The load average says how much else ran: the targets are ratios of
# measurements taken one after the other, which a busy machine skews.
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
go build -o "$W/bin/portpanel" .
go build -o "$W/bin/" ./bench/cmd/...
pp="$W/bin/portpanel"

# One admin and one API token per database; the password is random and
# travels in the environment only.
BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')x9
export BENCH_PASSWORD
prepare_db() { # NAME ROWS SAMPLES
  local s=$SECONDS
  "$W/bin/seed" -db "$W/$1.db" -rows "$2" -samples "$3" 2>"$W/seed-$1.log"
  echo "# seeded $1: $2 changes and audit events, $3 samples in $((SECONDS - s)) s ($(du -m "$W/$1.db" | cut -f1) MB)"
  printf '%s\n' "$BENCH_PASSWORD" | "$pp" user add bench --role admin --password-stdin --db "$W/$1.db" >/dev/null
  "$pp" token create --user bench --db "$W/$1.db" 2>>"$W/seed-$1.log" | tail -n1 | awk '{print $NF}' >"$W/$1.token"
}
prepare_db small "$SMALL_ROWS" "$SMALL_SAMPLES"
prepare_db large "$LARGE_ROWS" "$LARGE_SAMPLES"
# The seed writes the audit chain behind db's back: check it is one
# portpanel accepts (a failed check is a broken benchmark, not a slow one).
"$pp" audit verify --db "$W/small.db" >/dev/null
cp "$W/small.db" "$W/load.db" && cp "$W/small.token" "$W/load.token"

# A config tree like a Debian host's, with the managed drop-in.
make_tree() { # DIR
  mkdir -p "$1/etc/sysctl.d" "$1/usr/lib/sysctl.d" "$1/run/systemd/system"
  { echo "# /etc/sysctl.conf - Configuration file for setting system variables"
    for i in $(seq 1 60); do echo "#net.ipv4.conf.default.setting_$i = 1"; done; } >"$1/etc/sysctl.conf"
  ln -sf ../sysctl.conf "$1/etc/sysctl.d/99-sysctl.conf"
  printf '# Bump the numeric PID range.\nkernel.pid_max = 4194304\n' >"$1/usr/lib/sysctl.d/50-pid-max.conf"
  printf 'fs.protected_hardlinks = 1\nfs.protected_symlinks = 1\n' >"$1/usr/lib/sysctl.d/99-protect-links.conf"
  { for i in $(seq 1 40); do echo "# systemd default $i"; done
    echo "net.ipv4.ping_group_range = 0 2147483647"; echo "-net.ipv4.conf.all.rp_filter"; } >"$1/usr/lib/sysctl.d/50-default.conf"
  printf '# managed by portpanel\nnet.ipv4.ip_local_port_range = 32768 60999\n' >"$1/etc/sysctl.d/90-portpanel.conf"
}
make_tree "$W/root"
make_tree "$W/applies-root"

# 1, 2, 4, 5: servers on the loopback of a private network namespace.
unshare -n -- bash "$0" --in-netns "$W"

# 7: the fleet (issue 19), its control plane on PostgreSQL and its agents
# simulated, in a namespace of its own.
unshare -n -- bash "$0" --fleet-in-netns "$W"

# 3: applies through change.Service, kernel and all, in its own namespace.
apply=$(unshare -n -- "$W/bin/applies" -n "$APPLIES" -root "$W/applies-root")
echo "# applies: $apply"
echo "apply-p50 $(kv "$apply" p50_ms)ms <=20ms" >>"$W/results"

# 6: the socket scan against ss -tan (BenchmarkScan re-runs itself in a
# private namespace).
scan=$(PORTPANEL_BENCH_SOCKETS=$SOCKETS go test -run XXX -bench '^BenchmarkScan$' -benchtime "$SCAN_TIMES" ./sysctl/usage/ | grep '^BenchmarkScan')
echo "# scan: $scan"
echo "socket-scan $(awk '{for (i = 1; i < NF; i++) if ($(i+1) == "x_ss") print $i}' <<<"$scan")x_ss <=0.6x" >>"$W/results"

echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Judge: each line is NAME VALUEunit OP LIMITunit; the numbers decide.
fail=0 missing=0
while read -r name measured target; do
  v=${measured%%[!0-9.]*} op=${target%%[0-9]*} lim=${target#"$op"}; lim=${lim%%[!0-9.]*}
  if [ -z "$v" ]; then verdict=FAIL missing=1
  elif awk -v v="$v" -v l="$lim" -v op="$op" 'BEGIN { exit !((op == "<=" && v <= l) || (op == ">=" && v >= l) || (op == "==" && v == l)) }'; then verdict=PASS
  else verdict=FAIL; fi
  [ $verdict = FAIL ] && fail=1
  echo "$name $measured $target $verdict"
done <"$W/results"
if [ $quick = 1 ]; then
  echo "# --quick: targets not enforced"
  exit $missing
fi
exit $fail
