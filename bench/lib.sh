# Sourced by bench/netns.sh and bench/fleet.sh inside `unshare -n`: the
# namespace check and the helpers both use.

# pid 1's namespace, or (pid 1 hidden) the initial one's fixed inode.
own=$(readlink /proc/self/ns/net)
if [ "$own" = "$(readlink /proc/1/ns/net 2>/dev/null)" ] || [ "$own" = "net:[4026531833]" ]; then
  echo "bench: not in a private network namespace" >&2
  exit 1
fi
ip link set lo up

wait_port() { # PORT
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on port $1; see $W/*.log" >&2
  return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
human() { # 1000 -> 1k, 1000000 -> 1M
  if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"
  elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"
  else echo "$1"; fi
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
