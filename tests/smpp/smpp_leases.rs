//! Binds under leases (the cluster's `BindPermits`, played here by the test): a slot binds
//! only once granted, one lease covers both binds of a transmitter+receiver pair, a lost
//! lease drains and unbinds its binds within the lease's budget, the slot binds again when
//! granted again, and shutdown gives the held leases back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use otpgate::smpp::{BindMode, BindPermits, EngineHandle, Lease, SlotId, SmppEngine, SmscConfig};
use otpgate_sim::SimConfig;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::smpp::*;

/// How long a revoked lease gives its binds.
const BUDGET: Duration = Duration::from_millis(800);

/// Grants the slots the test opens; remembers the leases' loss tokens and the releases.
#[derive(Default)]
struct TestPermits {
    open: Mutex<HashMap<usize, CancellationToken>>,
    asked: Mutex<Vec<usize>>,
    released: Mutex<Vec<usize>>,
    changed: Notify,
}

impl TestPermits {
    fn grant(&self, slot: usize) {
        self.open
            .lock()
            .unwrap()
            .insert(slot, CancellationToken::new());
        self.changed.notify_waiters();
    }

    fn revoke(&self, slot: usize) {
        if let Some(t) = self.open.lock().unwrap().remove(&slot) {
            t.cancel();
        }
    }
}

impl BindPermits for TestPermits {
    fn acquire(&self, id: SlotId) -> BoxFuture<'_, Lease> {
        Box::pin(async move {
            self.asked.lock().unwrap().push(id.slot);
            loop {
                let changed = self.changed.notified();
                if let Some(t) = self.open.lock().unwrap().get(&id.slot) {
                    return Lease::new(id, t.clone(), BUDGET);
                }
                changed.await;
            }
        })
    }

    fn release(&self, lease: Lease) -> BoxFuture<'_, ()> {
        self.released.lock().unwrap().push(lease.id.slot);
        Box::pin(std::future::ready(()))
    }
}

fn start(cfg: SmscConfig, permits: Arc<TestPermits>) -> EngineHandle {
    SmppEngine::start_with_permits(
        vec![cfg],
        settings(),
        sink(),
        Arc::new(otpgate::dispatch::SystemClock),
        permits,
        &Default::default(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_binds_under_its_lease_and_unbinds_within_the_budget_when_it_is_lost() {
    let sim = start_sim(SimConfig::default()).await;
    let permits = Arc::new(TestPermits::default());
    let cfg = SmscConfig {
        binds: 2,
        bind_mode: BindMode::TransmitterReceiver,
        ..smsc("leased", sim.local_addr())
    };
    let engine = start(cfg, permits.clone());
    eventually("both slots asked for", || {
        permits.asked.lock().unwrap().len() == 2
    })
    .await;
    assert_eq!(
        sim.counters().connections,
        0,
        "nothing binds without a lease"
    );

    permits.grant(0);
    eventually("slot 0's transmitter and receiver bound", || {
        let c = sim.counters();
        // the SMSC counts a bind before its bind_resp reaches the engine
        c.binds_transmitter == 1 && c.binds_receiver == 1 && engine.smsc_binds_up("leased") == 1
    })
    .await;
    assert_eq!(sim.counters().connections_open, 2, "slot 1 stays unbound");

    // The clock starts before the revoke: a stall of this thread after it must not hide time.
    let lost = Instant::now();
    permits.revoke(0);
    // The engine marks its binds down once their sessions end, just after the SMSC sees them
    // close, so the engine's count is part of the wait and of the budget.
    eventually("both binds of the slot unbound", || {
        let c = sim.counters();
        c.unbinds == 2 && c.connections_open == 0 && engine.smsc_binds_up("leased") == 0
    })
    .await;
    let closed = lost.elapsed();
    println!("binds closed {closed:?} after the lease was lost (budget {BUDGET:?})");
    assert!(
        closed <= BUDGET,
        "closed within the lease's budget: {closed:?}"
    );

    permits.grant(0);
    // bound on both sides, not only connected: a bind still under way at the shutdown below
    // has nothing to unbind
    eventually("the slot binds again once granted again", || {
        let c = sim.counters();
        c.binds_transmitter == 2 && c.binds_receiver == 2 && engine.smsc_binds_up("leased") == 1
    })
    .await;
    engine.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        *permits.released.lock().unwrap(),
        [0],
        "the held lease is given back"
    );
    assert_eq!(sim.counters().unbinds, 4);
    assert_eq!(sim.counters().bind_failures, 0);
}
