# Stops the redis-servers started by install.d/50-redis.sh and 51-redis-cluster.sh.
for pidfile in "$CI_CACHE"/redis-*.pid; do
  [ -e "$pidfile" ] || continue
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
done
