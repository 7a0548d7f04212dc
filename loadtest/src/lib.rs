//! otpgate-loadtest: an SMPP 3.4 SMSC simulator and load generators for otpgate.
//!
//! Layout:
//! - [`sim`]: the SMSC simulator as a library ([`sim::spawn`] on a bound listener returns a
//!   [`sim::SimHandle`]); otpgate embeds it and its integration tests drive it.
//! - [`load`]: the load generator behind `otp-load` (HTTP against otpgate, Kannel-style
//!   sendsms, bare echo, and SMPP straight at an SMSC).
//! - `bin/smsc-sim.rs`, `bin/otp-load.rs`: the two command-line tools.

pub mod load;
pub mod sim;
