//! The SMPP client engine. (Being written: see issue 4.)

pub mod config;
pub use config::{BindMode, ConcatMethod, SmscConfig};
