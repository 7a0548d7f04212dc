//! Delivery receipts. (Being written: see issue 2.)
