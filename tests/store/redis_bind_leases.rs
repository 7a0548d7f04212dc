//! Bind leases on a real Redis (`OTPGATE_REDIS_URL`): a slot held by one node at a time,
//! renewed while it lives and taken over when it dies, never renewed over another node's
//! key, lost (for the binds to close) before the key can expire when Redis is out of reach,
//! handed over at once when released, and shared out among the live nodes.

use std::sync::Arc;
use std::time::Duration;

use otpgate::cluster::{LeaseOptions, RedisLeases};
use otpgate::otp::redis::Target;
use otpgate::smpp::{BindPermits, Lease, SlotId};
use tokio::time::{timeout, Instant};

use crate::support::proxy::Proxy;
use crate::support::store::{redis_url, unique_prefix};

async fn node(url: &str, prefix: &str, node: &str, ttl_ms: u64) -> Arc<RedisLeases> {
    let opts = LeaseOptions {
        target: Target::Single(url.to_owned()),
        key_prefix: prefix.to_owned(),
        node_id: node.to_owned(),
        ttl: Duration::from_millis(ttl_ms),
        timeout: Duration::from_millis(500),
    };
    Arc::new(RedisLeases::start(opts, &["acme".into()]).await.unwrap())
}

fn slot(slot: usize, slots: usize) -> SlotId {
    SlotId {
        smsc: "acme".into(),
        slot,
        slots,
    }
}

async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn key(prefix: &str, slot: usize) -> String {
    format!("{prefix}:lease:{{acme}}:{slot}")
}

async fn holder(url: &str, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut redis(url).await)
        .await
        .unwrap()
}

/// `leases.acquire(id)` in a task of its own.
fn acquire_later(leases: &Arc<RedisLeases>, id: SlotId) -> tokio::task::JoinHandle<Lease> {
    let leases = leases.clone();
    tokio::spawn(async move { leases.acquire(id).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_slot_is_held_by_one_node_renewed_and_taken_over_when_it_dies() {
    let (url, prefix, ttl) = (redis_url(), unique_prefix("lease-takeover"), 1500);
    let a = node(&url, &prefix, "node-a", ttl).await;
    let b = node(&url, &prefix, "node-b", ttl).await;
    let lease_a = timeout(Duration::from_secs(5), a.acquire(slot(0, 1)))
        .await
        .expect("a free slot is granted");
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("node-a")
    );
    let waiting_b = acquire_later(&b, slot(0, 1));
    // three lease times: only renewals keep the key
    tokio::time::sleep(Duration::from_millis(3 * ttl)).await;
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("node-a")
    );
    assert!(
        !waiting_b.is_finished(),
        "the slot is granted to one node at a time"
    );
    // node a dies: nothing renews its lease any more
    drop(a);
    let died = Instant::now();
    let lease_b = timeout(Duration::from_millis(3 * ttl), waiting_b)
        .await
        .expect("node b takes the slot over within the lease time and a retry period")
        .unwrap();
    println!("slot taken over {:?} after node a died", died.elapsed());
    assert_eq!(lease_b.id, slot(0, 1));
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("node-b")
    );
    let last = holder(&url, &format!("{}:last", key(&prefix, 0))).await;
    assert_eq!(last.as_deref(), Some("node-b"));
    drop(lease_a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_key_held_by_another_node_is_never_renewed_and_the_lease_is_lost() {
    let (url, prefix, ttl) = (redis_url(), unique_prefix("lease-owner"), 1500);
    let a = node(&url, &prefix, "node-a", ttl).await;
    let lease = timeout(Duration::from_secs(5), a.acquire(slot(0, 2)))
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(key(&prefix, 0))
        .arg("intruder")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut redis(&url).await)
        .await
        .unwrap();
    timeout(Duration::from_millis(2 * ttl), lease.lost())
        .await
        .expect("the renewal finds another holder: the lease is lost");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(key(&prefix, 0))
        .query_async(&mut redis(&url).await)
        .await
        .unwrap();
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("intruder")
    );
    assert!(
        pttl > 50_000,
        "the other node's key keeps its own expiry: {pttl} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_node_cut_off_from_redis_loses_its_lease_before_the_key_expires() {
    let (url, prefix, ttl) = (redis_url(), unique_prefix("lease-cut"), 2000);
    let proxy = Proxy::start(url.trim_start_matches("redis://")).await;
    let a = node(&format!("redis://{}", proxy.addr()), &prefix, "node-a", ttl).await;
    let lease = timeout(Duration::from_secs(5), a.acquire(slot(0, 1)))
        .await
        .unwrap();
    proxy.cut();
    timeout(Duration::from_millis(2 * ttl), lease.lost())
        .await
        .expect("a lease that cannot be renewed is lost");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(key(&prefix, 0))
        .query_async(&mut redis(&url).await)
        .await
        .unwrap();
    let budget = lease
        .unbind_within()
        .expect("a lease that can be lost has a budget");
    println!("lease lost {pttl} ms before its key expires; unbind budget {budget:?}");
    assert!(
        u128::try_from(pttl).unwrap_or(0) > budget.as_millis(),
        "the binds have their whole unbind budget before another node may bind: {pttl} ms left, {budget:?} needed"
    );
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("node-a")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_released_slot_goes_to_a_waiting_node_before_it_would_have_expired() {
    let (url, prefix, ttl) = (redis_url(), unique_prefix("lease-release"), 6000);
    let a = node(&url, &prefix, "node-a", ttl).await;
    let b = node(&url, &prefix, "node-b", ttl).await;
    let lease = timeout(Duration::from_secs(5), a.acquire(slot(0, 1)))
        .await
        .unwrap();
    let waiting_b = acquire_later(&b, slot(0, 1));
    a.release(lease).await;
    let released = Instant::now();
    timeout(Duration::from_millis(ttl), waiting_b)
        .await
        .expect("the waiting node takes a released slot within a retry period")
        .unwrap();
    println!(
        "released slot taken {:?} after the release",
        released.elapsed()
    );
    assert_eq!(
        holder(&url, &key(&prefix, 0)).await.as_deref(),
        Some("node-b")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn live_nodes_share_the_slots_out() {
    let (url, prefix, ttl) = (redis_url(), unique_prefix("lease-share"), 1500);
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b", "node-c"] {
        nodes.push(node(&url, &prefix, name, ttl).await);
    }
    // every node's next heartbeat counts the three
    tokio::time::sleep(Duration::from_millis(ttl / 2)).await;
    let mut waiting = Vec::new();
    for n in &nodes {
        for s in 0..3 {
            waiting.push(acquire_later(n, slot(s, 3)));
        }
    }
    // three slots, each granted once; two periods are enough for all of them
    tokio::time::sleep(Duration::from_millis(ttl)).await;
    let mut holders = Vec::new();
    for s in 0..3 {
        holders.push(holder(&url, &key(&prefix, s)).await.unwrap());
    }
    holders.sort();
    assert_eq!(
        holders,
        ["node-a", "node-b", "node-c"],
        "one slot per live node"
    );
    let granted = waiting.iter().filter(|w| w.is_finished()).count();
    assert_eq!(granted, 3);
    waiting.iter().for_each(|w| w.abort());
}
