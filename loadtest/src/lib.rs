//! SMSC simulator and load generator library. (Being written: see issue 5.)
