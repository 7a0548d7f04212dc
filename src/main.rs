//! The `otpgate` binary. (Being written: see issue 3.)
fn main() {}
