//! The log lines of a full otpgate run (see `observability_support`), captured as JSON: one
//! object per line, a line for each bind state change, SMSC error and callback failure, the
//! phone numbers masked to their last 3 digits, never a PIN.

use crate::support::traffic::traffic;
use serde_json::Value;

fn lines() -> Vec<Value> {
    traffic()
        .logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn with_message<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == message).collect()
}

#[test]
fn json_lines_for_bind_changes_and_smsc_errors() {
    let lines = lines();
    assert!(lines.len() > 10, "{} lines", lines.len());
    for l in &lines {
        assert!(l["timestamp"].is_string() && l["level"].is_string() && l["target"].is_string());
    }
    let up = with_message(&lines, "bind up");
    assert!(
        up.iter().any(|l| l["smsc"] == "alpha" && l["bind"] == "0"),
        "{up:?}"
    );
    let refused = with_message(&lines, "bind refused: check system_id and password");
    assert!(
        refused
            .iter()
            .any(|l| l["smsc"] == "beta" && l["level"] == "ERROR"),
        "no line for the refused bind"
    );
    let rejected = with_message(&lines, "message rejected");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["smsc"], "alpha");
    assert_eq!(rejected[0]["to"], "+*********222");
    assert!(rejected[0]["status"]
        .as_str()
        .is_some_and(|s| s.contains("ESME_RINVDSTADR")));
    assert!(
        !with_message(&lines, "bind paused").is_empty(),
        "no line for ESME_RMSGQFUL"
    );
}

#[test]
fn no_pin_and_no_full_phone_number_in_the_logs() {
    let t = traffic();
    for phone in &t.phones {
        assert!(!t.logs.contains(phone.as_str()), "{phone} in the logs");
        assert!(!t.logs.contains(&phone[2..]), "{phone} in the logs");
    }
    for pin in &t.pins {
        assert!(pin.len() >= 8);
        assert!(!t.logs.contains(pin.as_str()), "PIN {pin} in the logs");
        assert!(!t.logs.to_lowercase().contains(&pin.to_lowercase()));
    }
    assert!(!t.logs.contains("WRONGPIN00"), "a tried PIN in the logs");
    // the OTPs themselves are traceable by id
    assert!(t.otp_ids.iter().all(|id| t.logs.contains(id.as_str())));
}
