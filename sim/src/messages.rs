//! The handset's view: parts reassembled into messages, kept in a bounded log, counted per
//! destination, checked for duplicates and broadcast to subscribers.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::text::{Concat, PartText};

/// One message as the destination handset would show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMessage {
    /// Position in the simulator's log (1, 2, 3...).
    pub seq: u64,
    /// The account that submitted it.
    pub system_id: String,
    pub source: String,
    /// TON / NPI of the source address (5/0 alphanumeric, 1/1 international, 3/0 short code).
    #[serde(default)]
    pub source_ton: u8,
    #[serde(default)]
    pub source_npi: u8,
    pub destination: String,
    /// Type of number of the destination (1: international, shown with a `+`).
    pub destination_ton: u8,
    pub text: String,
    pub parts: usize,
    /// data_coding of the first part.
    pub data_coding: u8,
    /// The message id given to each part, in part order, as sent in submit_sm_resp.
    pub message_ids: Vec<String>,
    pub received_at_ms: u64,
    /// The same destination already received the same text.
    pub duplicate: bool,
    /// The optional TLVs of each part, in part order, but those that carry the text
    /// (message_payload, sar_*): what an operator added (India's DLT ids...).
    #[serde(default)]
    pub tlvs: Vec<Vec<ReceivedTlv>>,
}

/// One optional TLV of a part, its value in hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedTlv {
    pub tag: u16,
    pub value: String,
}

/// One accepted submit_sm part on its way into the log.
pub struct Part {
    pub system_id: String,
    pub source: String,
    pub source_ton: u8,
    pub source_npi: u8,
    pub tlvs: Vec<ReceivedTlv>,
    pub destination: String,
    pub destination_ton: u8,
    pub data_coding: u8,
    pub message_id: String,
    pub text: PartText,
}

const MAX_PENDING: usize = 10_000;
const MAX_SEEN: usize = 1_000_000;
const MAX_DESTINATIONS: usize = 100_000;
const OTHER_DESTINATIONS: &str = "(other)";

#[derive(Clone, Hash, PartialEq, Eq)]
struct PendingKey {
    system_id: String,
    source: String,
    destination: String,
    reference: u16,
    total: u8,
}

struct Pending {
    texts: Vec<Option<String>>,
    tlvs: Vec<Vec<ReceivedTlv>>,
    ids: Vec<Option<String>>,
    have: usize,
    data_coding: u8,
    first_seen: Instant,
}

/// A concatenated message whose every part has come.
struct Assembled {
    text: String,
    ids: Vec<String>,
    data_coding: u8,
    tlvs: Vec<Vec<ReceivedTlv>>,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    log: VecDeque<Arc<ReceivedMessage>>,
    pending: HashMap<PendingKey, Pending>,
    seen: HashSet<u64>,
    per_destination: HashMap<String, u64>,
}

/// Reassembly and the message log.
pub struct MessageLog {
    capacity: usize,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<ReceivedMessage>>,
}

impl ReceivedMessage {
    /// The destination as a handset owner would write it (`+` for an international number).
    pub fn display_destination(&self) -> String {
        if self.destination_ton == 1 && !self.destination.starts_with('+') {
            format!("+{}", self.destination)
        } else {
            self.destination.clone()
        }
    }
}

impl MessageLog {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            tx,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ReceivedMessage>> {
        self.tx.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds one part; returns the message it completes, if any.
    pub fn add_part(&self, part: Part) -> Option<Arc<ReceivedMessage>> {
        let mut inner = self.lock();
        let (text, ids, parts, data_coding, tlvs) = match part.text.concat {
            None => (
                part.text.text,
                vec![part.message_id],
                1,
                part.data_coding,
                vec![part.tlvs],
            ),
            Some(c) => {
                let key = PendingKey {
                    system_id: part.system_id.clone(),
                    source: part.source.clone(),
                    destination: part.destination.clone(),
                    reference: c.reference,
                    total: c.total,
                };
                let done = Self::add_to_pending(
                    &mut inner,
                    key,
                    c,
                    (part.text.text, part.tlvs),
                    part.message_id,
                    part.data_coding,
                )?;
                (
                    done.text,
                    done.ids,
                    usize::from(c.total),
                    done.data_coding,
                    done.tlvs,
                )
            }
        };
        let mut h = DefaultHasher::new();
        (&part.destination, &text).hash(&mut h);
        if inner.seen.len() >= MAX_SEEN {
            inner.seen.clear();
        }
        let duplicate = !inner.seen.insert(h.finish());
        let dests = inner.per_destination.len();
        match inner.per_destination.get_mut(&part.destination) {
            Some(n) => *n += 1,
            None if dests < MAX_DESTINATIONS => {
                inner.per_destination.insert(part.destination.clone(), 1);
            }
            None => {
                *inner
                    .per_destination
                    .entry(OTHER_DESTINATIONS.into())
                    .or_default() += 1
            }
        }
        inner.next_seq += 1;
        let msg = Arc::new(ReceivedMessage {
            seq: inner.next_seq,
            system_id: part.system_id,
            source: part.source,
            source_ton: part.source_ton,
            source_npi: part.source_npi,
            destination: part.destination,
            destination_ton: part.destination_ton,
            text,
            parts,
            data_coding,
            message_ids: ids,
            received_at_ms: super::ids::unix_ms(),
            duplicate,
            tlvs,
        });
        if inner.log.len() >= self.capacity {
            inner.log.pop_front();
        }
        inner.log.push_back(msg.clone());
        drop(inner);
        let _ = self.tx.send(msg.clone());
        Some(msg)
    }

    fn add_to_pending(
        inner: &mut Inner,
        key: PendingKey,
        c: Concat,
        (text, tlvs): (String, Vec<ReceivedTlv>),
        id: String,
        data_coding: u8,
    ) -> Option<Assembled> {
        if !inner.pending.contains_key(&key) && inner.pending.len() >= MAX_PENDING {
            let oldest = inner
                .pending
                .iter()
                .min_by_key(|(_, p)| p.first_seen)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.pending.remove(&k);
            }
        }
        let total = usize::from(c.total);
        let entry = inner.pending.entry(key.clone()).or_insert_with(|| Pending {
            texts: vec![None; total],
            tlvs: vec![Vec::new(); total],
            ids: vec![None; total],
            have: 0,
            data_coding,
            first_seen: Instant::now(),
        });
        let idx = usize::from(c.seq).checked_sub(1)?;
        let slot = entry.texts.get_mut(idx)?;
        if slot.is_none() {
            entry.have += 1;
        }
        *slot = Some(text);
        if let Some(t) = entry.tlvs.get_mut(idx) {
            *t = tlvs;
        }
        if let Some(s) = entry.ids.get_mut(idx) {
            *s = Some(id);
        }
        if entry.have < total {
            return None;
        }
        let done = inner.pending.remove(&key)?;
        Some(Assembled {
            text: done.texts.into_iter().flatten().collect(),
            ids: done.ids.into_iter().flatten().collect(),
            data_coding: done.data_coding,
            tlvs: done.tlvs,
        })
    }

    /// Every message still in the log, oldest first.
    pub fn all(&self) -> Vec<ReceivedMessage> {
        self.lock().log.iter().map(|m| (**m).clone()).collect()
    }

    /// The log's messages to `destination`, oldest first.
    pub fn to_destination(&self, destination: &str) -> Vec<ReceivedMessage> {
        self.lock()
            .log
            .iter()
            .filter(|m| m.destination == destination)
            .map(|m| (**m).clone())
            .collect()
    }

    pub fn per_destination(&self) -> BTreeMap<String, u64> {
        self.lock()
            .per_destination
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}
