# Sourced by `bench/run.sh --in-netns W` inside `unshare -n`: the load
# tests (steps 1, 2, 4 and 5 of run.sh) against servers on this namespace's
# loopback. Appends target lines to $W/results and prints details.

source bench/lib.sh

started=()
trap 'for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

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
load() { "$W/bin/load" "$@"; }
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
ratio() { # A/B with about three significant digits, never in e-notation
  awk -v a="$1" -v b="$2" 'BEGIN { r = (b > 0 ? a / b : 0)
    printf (r < 0.01 ? "%.4f" : r < 1 ? "%.3f" : r < 100 ? "%.2f" : "%.0f"), r }'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
BENCH_TOKEN=$(cat "$W/load.token")
export BENCH_TOKEN

floor() { # PORT [hello flags]: the floor, its pid in $floor_pid
  local port=$1
  shift
  "$W/bin/hello" -addr "127.0.0.1:$port" "$@" &
  floor_pid=$!
  started+=("$floor_pid")
  wait_port "$port"
}

# 1, 4 and 5. Portpanel on the 1k database, idle memory first. Then
# LOAD_ROUNDS rounds. Each round dumps one answer of the dashboard (session
# cookie) and of the range API (bearer token) and starts two floors that
# replay them byte for byte, headers and all (bench/cmd/hello -replay);
# loads in turn the bare floor (echo answering "hello", a detail), the
# dashboard, the API and the two same-bytes floors; and then runs the mix
# of many clients on the pages (with their static files), the API and the
# metrics, its peak RSS taken from VmHWM, reset just before. A machine
# whose speed drifts moves both sides of a round's ratio together, and
# each target is the median round (the errors are summed and the memory
# is the highest peak).
serve load 18080
pp=$server
sleep 3
idle=$(rss_kb "$pp" VmRSS)
base=http://127.0.0.1:18080
floor 18091
bare_pid=$floor_pid
mix=/,/changes,/history,/audit,/static/app.css,/static/app.js,/api/v1/range,/api/v1/changes,/api/v1/usage,/api/v1/history,/metrics
route_name() { # PATH: / -> dashboard, /api/v1/range -> api-range, /static/app.css -> static-app.css
  local n=${1#/}
  n=${n/api\/v1\//api-}
  n=${n//\//-}
  echo "${n:-dashboard}"
}
loaded=0 mixed_peak=0 mixed_errors=0
dash_r=() api_r=() dash_same=() api_same=() same_dash_floor=() same_api_floor=()
declare -A p99s=()
for round in $(seq "$LOAD_ROUNDS"); do
  dd=$(load -base $base -user bench -paths / -warm 1 -dump "$W/dashboard.http")
  da=$(load -base $base -token-env BENCH_TOKEN -paths /api/v1/range -warm 1 -dump "$W/api.http")
  floor 18093 -replay "$W/dashboard.http"
  dash_floor_pid=$floor_pid
  floor 18094 -replay "$W/api.http"
  api_floor_pid=$floor_pid
  bare=$(load -base http://127.0.0.1:18091 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  dash=$(load -base $base -user bench -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 20 -rss-pid "$pp")
  api=$(load -base $base -token-env BENCH_TOKEN -paths /api/v1/range -c "$LOAD_C" -d "$LOAD_D" -warm 20 -rss-pid "$pp")
  hd=$(load -base http://127.0.0.1:18093 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  ha=$(load -base http://127.0.0.1:18094 -paths / -c "$LOAD_C" -d "$LOAD_D" -warm 200)
  stop "$dash_floor_pid"
  stop "$api_floor_pid"
  echo "# round $round, $LOAD_C connections, $LOAD_D each:"
  echo "#   bare hello: $bare"
  echo "#   dashboard: $dash"
  echo "#   GET /api/v1/range: $api"
  echo "#   echo replaying the dashboard's answer ($dd): $hd"
  echo "#   echo replaying the API's answer ($da): $ha"
  dash_r+=("$(ratio "$(kv "$dash" rps)" "$(kv "$bare" rps)")")
  api_r+=("$(ratio "$(kv "$api" rps)" "$(kv "$bare" rps)")")
  dash_same+=("$(ratio "$(kv "$dash" rps)" "$(kv "$hd" rps)")")
  api_same+=("$(ratio "$(kv "$api" rps)" "$(kv "$ha" rps)")")
  same_dash_floor+=("$(ratio "$(kv "$hd" rps)" "$(kv "$bare" rps)")")
  same_api_floor+=("$(ratio "$(kv "$ha" rps)" "$(kv "$bare" rps)")")
  for r in "$dash" "$api"; do
    if [ "$(kv "$r" rss_max_kb)" -gt "$loaded" ]; then loaded=$(kv "$r" rss_max_kb); fi
  done
  echo "#   dashboard ${dash_same[-1]}x same bytes, ${dash_r[-1]}x bare; API ${api_same[-1]}x same bytes, ${api_r[-1]}x bare"

  echo 5 >"/proc/$pp/clear_refs" # resets VmHWM to the current RSS
  mixed=$(load -base $base -user bench -token-env BENCH_TOKEN -paths "$mix" -c "$MIXED_C" -d "$MIXED_D" -warm 2 -rss-pid "$pp" -per-path)
  head -n1 <<<"$mixed" | sed "s/^/# round $round, mixed, $MIXED_C connections, $MIXED_D: /"
  sed -n 's/^path=/#   /p' <<<"$mixed"
  peak=$(rss_kb "$pp" VmHWM) sampled=$(kv "$(head -n1 <<<"$mixed")" rss_max_kb)
  echo "#   peak RSS $(mb "$peak") MB (VmHWM; sampled every 50 ms: $(mb "$sampled") MB)"
  for kb in "$peak" "$sampled"; do
    if [ "$kb" -gt "$mixed_peak" ]; then mixed_peak=$kb; fi
  done
  mixed_errors=$((mixed_errors + $(kv "$(head -n1 <<<"$mixed")" errors)))
  while read -r line; do
    p=${line%% *} p=${p#path=}
    p99s[$p]+=" $(kv "$line" p99_ms)"
  done < <(grep '^path=' <<<"$mixed")
done
stop "$bare_pid"
echo "# per round, against the same bytes: dashboard ${dash_same[*]}; API ${api_same[*]}"
echo "# medians against the bare floor (not targets): dashboard $(median "${dash_r[@]}")x, API $(median "${api_r[@]}")x; the same-bytes floors themselves serve $(median "${same_dash_floor[@]}")x and $(median "${same_api_floor[@]}")x the bare one"
echo "# peak VmRSS sampled during the $LOAD_C-connection loads (not a target): $(mb "$loaded") MB"
echo "# portpanel VmHWM (peak RSS) after the load tests: $(mb "$(rss_kb "$pp" VmHWM)") MB"
stop "$pp"

{
  echo "dashboard-throughput $(median "${dash_same[@]}")x_same_bytes >=0.6x"
  echo "api-range-throughput $(median "${api_same[@]}")x_same_bytes >=0.6x"
  echo "rss-idle $(mb "$idle")MB <=30MB"
  echo "rss-mixed-$MIXED_C-clients $(mb "$mixed_peak")MB <=64MB"
  echo "mixed-$MIXED_C-clients-errors $mixed_errors ==0"
  IFS=, read -ra routes <<<"$mix"
  for p in "${routes[@]}"; do
    # shellcheck disable=SC2086 # the rounds' figures, one word each
    echo "p99-mixed-$(route_name "$p") $(median ${p99s[$p]:-})ms <=100ms"
  done
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
# The 30-day history as a signed-in browser gets it (gzip accepted): the
# target is its HTML, decoded if the server compressed it.
for size in small large; do
  port=18082
  if [ $size = large ]; then port=18083; fi
  h=$(load -base "http://127.0.0.1:$port" -user bench -paths "/history?window=30d" -warm 1 -dump "$W/history-$size.http")
  echo "# /history?window=30d on the $size database: $h"
done
echo "history-30d-html $(awk -v b="$(kv "$h" html_bytes)" 'BEGIN { if (b != "") printf "%.1f", b / 1000 }')kB <=100kB" >>"$W/results"
stop "$small_pid"
stop "$large_pid"
