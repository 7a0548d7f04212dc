//! Receipt outcomes: the states of receipt text and the message_state TLV, and the weighted
//! mix (`DELIVRD=90,UNDELIV=8,EXPIRED=2`) receipts are drawn from.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Receipt states, named as in receipt text (`stat:`), with their message_state TLV value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReceiptStat {
    ENROUTE,
    DELIVRD,
    EXPIRED,
    DELETED,
    UNDELIV,
    ACCEPTD,
    UNKNOWN,
    REJECTD,
}

impl ReceiptStat {
    pub const ALL: [ReceiptStat; 8] = [
        Self::ENROUTE,
        Self::DELIVRD,
        Self::EXPIRED,
        Self::DELETED,
        Self::UNDELIV,
        Self::ACCEPTD,
        Self::UNKNOWN,
        Self::REJECTD,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ENROUTE => "ENROUTE",
            Self::DELIVRD => "DELIVRD",
            Self::EXPIRED => "EXPIRED",
            Self::DELETED => "DELETED",
            Self::UNDELIV => "UNDELIV",
            Self::ACCEPTD => "ACCEPTD",
            Self::UNKNOWN => "UNKNOWN",
            Self::REJECTD => "REJECTD",
        }
    }
    /// SMPP 3.4 section 5.2.28 message_state.
    pub fn message_state(self) -> u8 {
        match self {
            Self::ENROUTE => 1,
            Self::DELIVRD => 2,
            Self::EXPIRED => 3,
            Self::DELETED => 4,
            Self::UNDELIV => 5,
            Self::ACCEPTD => 6,
            Self::UNKNOWN => 7,
            Self::REJECTD => 8,
        }
    }
    /// Network error code the receipt carries (`err:`), 0 on success.
    pub fn error_code(self) -> u16 {
        match self {
            Self::DELIVRD | Self::ACCEPTD | Self::ENROUTE => 0,
            Self::EXPIRED => 27,
            Self::DELETED => 6,
            Self::UNDELIV => 1,
            Self::UNKNOWN => 255,
            Self::REJECTD => 11,
        }
    }
    pub fn is_success(self) -> bool {
        matches!(self, Self::DELIVRD | Self::ACCEPTD)
    }
}

impl FromStr for ReceiptStat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let up = s.trim().to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == up)
            .ok_or_else(|| format!("receipt state {s:?}: expected one of DELIVRD, UNDELIV, EXPIRED, DELETED, REJECTD, UNKNOWN, ACCEPTD, ENROUTE"))
    }
}

/// Weighted receipt outcomes, e.g. `DELIVRD=90,UNDELIV=8,EXPIRED=2`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<ReceiptStat, u32>",
    into = "BTreeMap<ReceiptStat, u32>"
)]
pub struct ReceiptMix {
    weights: Vec<(ReceiptStat, u32)>,
    total: u32,
}

impl ReceiptMix {
    pub fn new(weights: Vec<(ReceiptStat, u32)>) -> Result<Self, String> {
        let total = weights
            .iter()
            .try_fold(0u32, |acc, (_, w)| acc.checked_add(*w))
            .ok_or("receipt mix: weights overflow")?;
        if total == 0 {
            return Err("receipt mix: weights sum to zero".into());
        }
        Ok(Self { weights, total })
    }
    pub fn only(stat: ReceiptStat) -> Self {
        Self {
            weights: vec![(stat, 1)],
            total: 1,
        }
    }
    pub fn weights(&self) -> &[(ReceiptStat, u32)] {
        &self.weights
    }
    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> ReceiptStat {
        if self.weights.len() == 1 {
            return self.weights.first().map_or(ReceiptStat::DELIVRD, |w| w.0);
        }
        let mut pick = rng.random_range(0..self.total);
        for (stat, w) in &self.weights {
            if pick < *w {
                return *stat;
            }
            pick -= w;
        }
        ReceiptStat::DELIVRD
    }
}

impl Default for ReceiptMix {
    fn default() -> Self {
        Self::only(ReceiptStat::DELIVRD)
    }
}

impl TryFrom<BTreeMap<ReceiptStat, u32>> for ReceiptMix {
    type Error = String;
    fn try_from(v: BTreeMap<ReceiptStat, u32>) -> Result<Self, String> {
        Self::new(v.into_iter().collect())
    }
}
impl From<ReceiptMix> for BTreeMap<ReceiptStat, u32> {
    fn from(m: ReceiptMix) -> Self {
        m.weights.into_iter().collect()
    }
}

impl FromStr for ReceiptMix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut weights = Vec::new();
        for item in s.split(',').filter(|i| !i.trim().is_empty()) {
            let (stat, w) = item
                .split_once('=')
                .ok_or_else(|| format!("receipt mix item {item:?}: expected STATE=WEIGHT"))?;
            let w: u32 = w
                .trim()
                .parse()
                .map_err(|_| format!("receipt mix item {item:?}: bad weight"))?;
            weights.push((stat.parse()?, w));
        }
        Self::new(weights)
    }
}
