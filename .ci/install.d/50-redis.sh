# A throw-away redis-server on a free loopback port (no persistence) for the Redis store tests
# (tests/store/store_contract.rs, tests/store/redis_nodes.rs, tests/store/redis_bind_leases.rs,
# tests/store/cluster_sendq.rs, tests/admin/admin_persist.rs, tests/admin/tenants_cluster.rs
# and the nodes sharing binds of tests/cluster/; ignored unless asked for, they fail when
# OTPGATE_REDIS_URL is not set).
if ! command -v redis-server >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
otpgate_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
otpgate_redis_wait() { # port
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "redis-server on port $1 did not start" >&2
  return 1
}
redis_port="$(otpgate_free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  --daemonize yes --pidfile "$CI_CACHE/redis-$redis_port.pid" \
  --logfile "$CI_CACHE/redis-$redis_port.log"
otpgate_redis_wait "$redis_port"
export OTPGATE_REDIS_URL="redis://127.0.0.1:$redis_port"
echo "redis-server at $OTPGATE_REDIS_URL"
