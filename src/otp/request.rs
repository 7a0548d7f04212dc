//! A create request as the OTP core takes it: every field typed and already checked by the
//! front end that read it (see `http::create_body` for the sms.cx JSON).

use std::collections::BTreeMap;

use super::phone::Phone;
use super::pin::PinType;

/// A create request whose every field is valid.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub phone: Phone,
    pub sender: Option<String>,
    pub template: Option<String>,
    /// `template_XX` fields, keys normalised (`pt-BR`).
    pub templates: BTreeMap<String, String>,
    pub language: Option<String>,
    pub track_id: Option<[u8; 16]>,
    pub ttl: u16,
    pub max_attempts: u8,
    pub pin_type: PinType,
    pub pin_length: u8,
    pub callback_url: Option<String>,
}
