//! otpgate-loadtest: load generators for otpgate and the command-line wrappers of the SMSC
//! simulator (which lives in otpgate-sim).
//!
//! Layout:
//! - [`load`]: the load generator behind `otp-load` (HTTP against otpgate, Kannel-style
//!   sendsms, bare echo, and SMPP straight at an SMSC).
//! - `bin/smsc-sim.rs`, `bin/otp-load.rs`, `bin/echo-server.rs`: the command-line tools
//!   (`smsc-sim` runs [`otpgate_sim`]).

pub mod load;
