# Sourced by `bench/run.sh --in-netns W` inside `unshare -n`: the load
# tests (issue 6 steps 1, 2, 4 and 5) against servers on this namespace's
# loopback. Appends target lines to $W/results and prints details.

# pid 1's namespace, or (pid 1 hidden) the initial one's fixed inode.
own=$(readlink /proc/self/ns/net)
if [ "$own" = "$(readlink /proc/1/ns/net 2>/dev/null)" ] || [ "$own" = "net:[4026531833]" ]; then
  echo "bench/netns.sh: not in a private network namespace" >&2
  exit 1
fi
ip link set lo up

started=()
trap 'for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

wait_port() { # PORT
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on port $1; see $W/*.log" >&2
  return 1
}
# serve DB PORT: portpanel on DB (in $W), its pid in $server. The kernel
# it reads is this namespace's; the config tree is a temp copy.
serve() {
  "$W/bin/portpanel" serve --addr "127.0.0.1:$2" --db "$W/$1.db" --config-root "$W/root" \
    --sysctl-file "$W/root/etc/sysctl.d/90-portpanel.conf" --boot-reader systemd --proc-sys /proc/sys \
    >"$W/serve-$1.log" 2>&1 &
  server=$!
  started+=("$server")
  wait_port "$2"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
load() { "$W/bin/load" "$@"; }
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
ratio() { # A/B with about three significant digits, never in e-notation
  awk -v a="$1" -v b="$2" 'BEGIN { r = (b > 0 ? a / b : 0)
    printf (r < 0.01 ? "%.4f" : r < 1 ? "%.3f" : r < 100 ? "%.2f" : "%.0f"), r }'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
human() { # 1000 -> 1k, 1000000 -> 1M
  if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"
  elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"
  else echo "$1"; fi
}
BENCH_TOKEN=$(cat "$W/load.token")
export BENCH_TOKEN

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
floor() { # PORT [hello flags]: the floor, its pid in $floor_pid
  local port=$1
  shift
  "$W/bin/hello" -addr "127.0.0.1:$port" "$@" &
  floor_pid=$!
  started+=("$floor_pid")
  wait_port "$port"
}

# 1 and 4. The floor (echo with one route) and portpanel on the 1k
# database, idle memory first. Then LOAD_ROUNDS rounds, each loading in
# turn the floor, the dashboard (session cookie), the range API (bearer
# token) and, not targets, the floor sending portpanel's security headers
# and an answer the size of the dashboard's, then of the API's: how much
# of the gap to "hello" is the size of the answer (BENCHMARKS.md). A
# machine whose speed drifts moves both sides of a round's ratio together,
# and the target is the median round.
serve load 18080
pp=$server
sleep 3
idle=$(rss_kb "$pp" VmRSS)
base=http://127.0.0.1:18080
floor 18091
bare_pid=$floor_pid
probe() { load -base $base "$@" -c 1 -d 0s -min 1; }
dash_bytes=$(kv "$(probe -user bench -paths /)" body_bytes)
api_bytes=$(kv "$(probe -token-env BENCH_TOKEN -paths /api/v1/range)" body_bytes)
floor 18093 -headers -body "$dash_bytes"
dash_floor_pid=$floor_pid
floor 18094 -headers -body "$api_bytes"
api_floor_pid=$floor_pid
loaded=0
dash_r=() api_r=() dash_same=() api_same=() same_dash_floor=() same_api_floor=()
for round in $(seq "$LOAD_ROUNDS"); do
  bare=$(load -base http://127.0.0.1:18091 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  dash=$(load -base $base -user bench -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 20 -rss-pid "$pp")
  api=$(load -base $base -token-env BENCH_TOKEN -paths /api/v1/range -c "$LOAD_C" -d "$LOAD_D" -warm 20 -rss-pid "$pp")
  hd=$(load -base http://127.0.0.1:18093 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  ha=$(load -base http://127.0.0.1:18094 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  echo "# round $round, $LOAD_C connections, $LOAD_D each:"
  echo "#   bare hello: $bare"
  echo "#   dashboard: $dash"
  echo "#   GET /api/v1/range: $api"
  echo "#   hello with portpanel's headers and $dash_bytes bytes (the dashboard's size): $hd"
  echo "#   hello with portpanel's headers and $api_bytes bytes (the API's size): $ha"
  dash_r+=("$(ratio "$(kv "$dash" rps)" "$(kv "$bare" rps)")")
  api_r+=("$(ratio "$(kv "$api" rps)" "$(kv "$bare" rps)")")
  dash_same+=("$(ratio "$(kv "$dash" rps)" "$(kv "$hd" rps)")")
  api_same+=("$(ratio "$(kv "$api" rps)" "$(kv "$ha" rps)")")
  same_dash_floor+=("$(ratio "$(kv "$hd" rps)" "$(kv "$bare" rps)")")
  same_api_floor+=("$(ratio "$(kv "$ha" rps)" "$(kv "$bare" rps)")")
  for r in "$dash" "$api"; do
    if [ "$(kv "$r" rss_max_kb)" -gt "$loaded" ]; then loaded=$(kv "$r" rss_max_kb); fi
  done
  echo "#   dashboard ${dash_r[-1]}x bare, ${dash_same[-1]}x same bytes; API ${api_r[-1]}x bare, ${api_same[-1]}x same bytes"
done
for p in "$bare_pid" "$dash_floor_pid" "$api_floor_pid"; do stop "$p"; done
echo "# per round, dashboard against bare: ${dash_r[*]}; API: ${api_r[*]}"
echo "# medians against the floor with the same headers and bytes (not targets): dashboard $(median "${dash_same[@]}")x, API $(median "${api_same[@]}")x; that floor itself serves $(median "${same_dash_floor[@]}")x and $(median "${same_api_floor[@]}")x the bare one"

# 5. Many clients on a mix of pages (with their static files), the API
# and the metrics.
mix=/,/changes,/history,/audit,/static/app.css,/static/app.js,/api/v1/range,/api/v1/changes,/api/v1/usage,/api/v1/history,/metrics
mixed=$(load -base $base -user bench -token-env BENCH_TOKEN -paths "$mix" -c "$MIXED_C" -d "$MIXED_D" -rss-pid "$pp")
echo "# mixed, $MIXED_C connections, $MIXED_D: $mixed"
echo "# portpanel VmHWM (peak RSS) after the load tests: $(mb "$(rss_kb "$pp" VmHWM)") MB"
stop "$pp"

{
  echo "dashboard-throughput $(median "${dash_r[@]}")x_bare >=0.5x"
  echo "api-range-throughput $(median "${api_r[@]}")x_bare >=0.7x"
  echo "rss-idle $(mb "$idle")MB <=30MB"
  echo "rss-loaded $(mb "$loaded")MB <=60MB"
  echo "mixed-$MIXED_C-clients-errors $(kv "$mixed" errors) ==0"
} >>"$W/results"

# 2. Latency, one request at a time, on the small and the large database:
# the same newest rows, only the history behind them differs. Both servers
# run at once and each page is loaded in LOAD_ROUNDS rounds of small then
# large, so drift moves both sides of a round's ratio; the median counts.
serve small 18082
small_pid=$server
serve large 18083
large_pid=$server
for page in dashboard=/ audit-first=/audit "audit-deep=/audit?before=" "history-30d=/history?window=30d"; do
  name=${page%%=*} path=${page#*=}
  ratios=()
  for round in $(seq "$LOAD_ROUNDS"); do
    declare -A p50=()
    for size in small large; do
      rows=$SMALL_ROWS port=18082
      if [ $size = large ]; then rows=$LARGE_ROWS port=18083; fi
      p=$path
      if [ "$name" = audit-deep ]; then p=$path$((rows / 2)); fi
      r=$(load -base "http://127.0.0.1:$port" -user bench -paths "$p" -c 1 -d "$LAT_D" -min 3 -warm 2)
      echo "# round $round, $size ($(human "$rows") rows) $p: $r"
      p50[$size]=$(kv "$r" p50_ms)
    done
    ratios+=("$(ratio "${p50[large]}" "${p50[small]}")")
  done
  echo "# $name, large against small per round: ${ratios[*]}"
  echo "latency-$(human "$LARGE_ROWS")-$name $(median "${ratios[@]}")x_$(human "$SMALL_ROWS") <=1.2x" >>"$W/results"
done
stop "$small_pid"
stop "$large_pid"
