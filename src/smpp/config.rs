//! Configuration of one SMSC connection (`[[smsc]]` in the TOML file).

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BindMode {
    #[default]
    Transceiver,
    TransmitterReceiver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConcatMethod {
    #[default]
    Udh8,
    Udh16,
    Sar,
    Payload,
}

/// One `[[smsc]]` entry. Every field has a default so that a minimal entry names only what
/// differs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmscConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub bind_mode: BindMode,
    /// Number of binds (transceivers, or transmitter+receiver pairs).
    pub binds: usize,
    /// At most this many submit_sm outstanding per bind.
    pub window: usize,
    /// Segments per second across all binds of this SMSC; 0 = unthrottled.
    pub tps: u32,
    pub concat: ConcatMethod,
    /// Destination prefixes this SMSC serves ("+" = everything).
    pub routes: Vec<String>,
}

impl Default for SmscConfig {
    fn default() -> Self {
        Self {
            name: "smsc".into(),
            host: "127.0.0.1".into(),
            port: 2775,
            system_id: "test".into(),
            password: "secret".into(),
            system_type: String::new(),
            bind_mode: BindMode::Transceiver,
            binds: 1,
            window: 64,
            tps: 0,
            concat: ConcatMethod::Udh8,
            routes: vec!["+".into()],
        }
    }
}
