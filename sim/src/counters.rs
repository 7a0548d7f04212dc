//! The simulator's counters: lock-free atomics bumped on the hot path and a serde snapshot.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Live counters (all `Relaxed` atomics; a snapshot is a consistent-enough read).
        #[derive(Debug, Default)]
        pub struct Counters {
            $(pub(crate) $name: AtomicU64,)*
        }

        /// A copy of every counter at one moment, plus per-destination message counts.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct CountersSnapshot {
            $($(#[$doc])* pub $name: u64,)*
            /// Distinct (reassembled) messages per destination address.
            pub per_destination: BTreeMap<String, u64>,
        }

        impl Counters {
            pub(crate) fn snapshot(&self, per_destination: BTreeMap<String, u64>) -> CountersSnapshot {
                CountersSnapshot {
                    $($name: self.$name.load(Relaxed),)*
                    per_destination,
                }
            }
        }
    };
}

counters! {
    /// TCP connections accepted.
    connections,
    /// Connections open now.
    connections_open,
    binds_transmitter,
    binds_receiver,
    binds_transceiver,
    /// Bind requests refused (bad system_id, password, too many binds, already bound).
    bind_failures,
    /// unbind received from clients.
    unbinds,
    /// submit_sm received (every part, whatever the answer).
    submit_sm,
    /// submit_sm answered ESME_ROK (SMS parts accepted).
    parts,
    /// Distinct messages once their parts were reassembled.
    messages,
    /// Messages whose destination and text were already seen.
    duplicates,
    /// submit_sm beyond the window, answered ESME_RMSGQFUL.
    window_violations,
    /// submit_sm answered ESME_RTHROTTLED by the TPS limit.
    throttled,
    /// submit_sm answered with the injected error status.
    errors_injected,
    /// PDUs needing a bound session that arrived before bind (ESME_RINVBNDSTS).
    invalid_bind_state,
    /// deliver_sm receipts written to a client.
    receipts_sent,
    /// deliver_sm_resp received for receipts.
    receipts_acked,
    /// Receipts dropped because the pending queue was full.
    receipts_dropped,
    /// query_sm received (whatever the answer).
    query_sm,
    /// enquire_link received from clients.
    enquire_links,
    /// enquire_link sent by the simulator.
    enquire_links_sent,
    /// generic_nack sent (malformed PDUs and unknown commands).
    generic_nacks,
    /// Connections closed because a header was unreadable.
    framing_errors,
    /// PDUs read and ignored while in hang mode.
    hung_pdus,
    /// Sessions dropped by disconnect injection or `disconnect_all`.
    disconnects_injected,
}

impl Counters {
    #[inline]
    pub(crate) fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }
    #[inline]
    pub(crate) fn dec(c: &AtomicU64) {
        c.fetch_sub(1, Relaxed);
    }
}
