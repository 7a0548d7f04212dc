//! An otpgate stack with its admin listener and simulators, and admin requests to it.

use std::net::SocketAddr;
use std::time::Duration;

use otpgate_sim::{SimConfig, SimHandle};
use serde_json::Value;

use crate::support::smpp::start_sim;
use crate::support::stack::{base_toml, smsc_toml, Stack};

pub const ADMIN_TOKEN: &str = "admin-write-token-0123456789";
pub const READ_TOKEN: &str = "admin-read-token-0123456789";

/// Two SMSCs carrying the same route: `a` first (priority 1), then `b`.
pub fn two_smscs_toml(a: SocketAddr, b: SocketAddr, extra: &str) -> String {
    format!(
        r#"{}
[admin]
listen = "127.0.0.1:0"
token = "{ADMIN_TOKEN}"
read_token = "{READ_TOKEN}"

[engine]
reconnect_min_ms = 50
reconnect_max_ms = 300
failover_after_ms = 300
bind_timeout_ms = 2000
{extra}
{}
{}"#,
        base_toml(),
        smsc_toml("a", a, "binds = 2\npriority = 1\nroutes = [\"+44\"]"),
        smsc_toml("b", b, "binds = 1\npriority = 2\nroutes = [\"+44\"]"),
    )
}

pub async fn two_sims() -> (SimHandle, SimHandle) {
    (
        start_sim(SimConfig::default()).await,
        start_sim(SimConfig::default()).await,
    )
}

pub fn admin_url(stack: &Stack, path: &str) -> String {
    format!(
        "http://{}{path}",
        stack.started.admin_addr.expect("admin listener")
    )
}

/// `method path` with `token` (none when `None`): status and JSON body.
pub async fn call(stack: &Stack, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    call_with(stack, method, path, token, None).await
}

/// [`call`] with a JSON body.
pub async fn call_with(
    stack: &Stack,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let url = admin_url(stack, path);
    let mut req = match method {
        "POST" => client.post(url),
        "PATCH" => client.patch(url),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn status(stack: &Stack) -> Value {
    let (code, body) = call(stack, "GET", "/admin/status", Some(READ_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    body
}

pub fn smsc<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["smscs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no SMSC {name} in {status}"))
}

/// The states of `name`'s binds.
pub fn bind_states(status: &Value, name: &str) -> Vec<String> {
    smsc(status, name)["binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["state"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the status every 50 ms until `f` holds, at most 15 s.
pub async fn until_status(stack: &Stack, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let s = status(stack).await;
        if f(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: not within 15 s; last status {}",
        status(stack).await
    );
}

pub fn all_up(status: &Value, name: &str) -> bool {
    let states = bind_states(status, name);
    !states.is_empty() && states.iter().all(|s| s == "up")
}

pub fn all_stopped(status: &Value, name: &str) -> bool {
    smsc(status, name)["stopped"] == true
        && bind_states(status, name).iter().all(|s| s == "stopped")
}
