//! What a submit_sm's command_status means for the message: accepted, flow control (pause the
//! bind and send again), transient (retry with backoff, maybe elsewhere) or permanent (the
//! message is REJECTED with that status).

use otpgate_codec::pdu::CommandStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Ok,
    /// ESME_RTHROTTLED: the bind sends too fast.
    Throttled,
    /// ESME_RMSGQFUL: the SMSC's queue is full.
    QueueFull,
    /// Worth trying again: system errors, "try later", bind state confusions.
    Transient,
    /// The SMSC will never take this message.
    Permanent,
}

pub fn classify(status: CommandStatus) -> StatusClass {
    match status {
        CommandStatus::ESME_ROK => StatusClass::Ok,
        CommandStatus::ESME_RTHROTTLED => StatusClass::Throttled,
        CommandStatus::ESME_RMSGQFUL => StatusClass::QueueFull,
        CommandStatus::ESME_RSYSERR
        | CommandStatus::ESME_RINVBNDSTS
        | CommandStatus::ESME_RSUBMITFAIL
        | CommandStatus::ESME_RX_T_APPN
        | CommandStatus::ESME_RDELIVERYFAILURE
        | CommandStatus::ESME_RUNKNOWNERR => StatusClass::Transient,
        _ => StatusClass::Permanent,
    }
}

/// A bounded label for metrics: the spec's name, or "vendor" for anything else.
pub fn status_label(status: CommandStatus) -> &'static str {
    status.name().unwrap_or("vendor")
}

/// A reason text for reports: name and value.
pub fn status_reason(status: CommandStatus) -> String {
    format!("{status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify(CommandStatus(0)), StatusClass::Ok);
        assert_eq!(classify(CommandStatus(0x58)), StatusClass::Throttled);
        assert_eq!(classify(CommandStatus(0x14)), StatusClass::QueueFull);
        assert_eq!(classify(CommandStatus(0x08)), StatusClass::Transient);
        assert_eq!(classify(CommandStatus(0x0B)), StatusClass::Permanent);
        assert_eq!(classify(CommandStatus(0x0A)), StatusClass::Permanent);
        assert_eq!(classify(CommandStatus(0x0400)), StatusClass::Permanent);
        assert_eq!(status_label(CommandStatus(0x0400)), "vendor");
        assert_eq!(status_label(CommandStatus(0x58)), "ESME_RTHROTTLED");
        assert_eq!(
            status_reason(CommandStatus(0x0B)),
            "ESME_RINVDSTADR(0x0000000B)"
        );
    }
}
