# A throw-away 3-node Redis Cluster (no replicas, no persistence) on free loopback ports, for
# the same Redis store tests run against a cluster when this is set. Needs 50-redis.sh.
cluster_dir="$CI_CACHE/redis-cluster"
rm -rf "$cluster_dir" && mkdir -p "$cluster_dir"
# A cluster node also listens on its port + 10000 (the cluster bus): pick ports whose bus port
# exists and is free too.
otpgate_cluster_port() {
  python3 -c '
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p + 10000 > 65535:
        s.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        s.close(); continue
    b.close(); s.close(); print(p); break
'
}
cluster_nodes=()
for _ in 1 2 3; do
  p="$(otpgate_cluster_port)"
  mkdir -p "$cluster_dir/$p"
  (cd "$cluster_dir/$p" && redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
    --cluster-config-file nodes.conf --save '' --appendonly no --daemonize yes \
    --pidfile "$CI_CACHE/redis-$p.pid" --logfile "$cluster_dir/$p/redis.log")
  otpgate_redis_wait "$p"
  cluster_nodes+=("127.0.0.1:$p")
done
redis-cli --cluster create "${cluster_nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 1 100); do
  redis-cli -h 127.0.0.1 -p "${cluster_nodes[0]#*:}" cluster info | grep -q 'cluster_state:ok' && break
  sleep 0.1
done
OTPGATE_REDIS_CLUSTER_NODES="$(printf 'redis://%s,' "${cluster_nodes[@]}")"
export OTPGATE_REDIS_CLUSTER_NODES="${OTPGATE_REDIS_CLUSTER_NODES%,}"
echo "Redis Cluster at $OTPGATE_REDIS_CLUSTER_NODES"
