//! The status page in a real browser: headless Chromium opens `GET /` on the admin listener
//! with the token in the URL fragment, the page calls the JSON API and renders every SMSC and
//! bind; the test reads the DOM: `a`'s binds up, `b` stopped. With
//! `OTPGATE_STATUS_SCREENSHOT=path` it also writes a screenshot there (docs/status-page.png).

use std::time::Duration;

use crate::harness::*;
use crate::support::browser;
use crate::support::stack::Stack;

/// Runs headless Chromium on `url` with `args`; its standard output.
async fn chromium(url: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    browser::run_headless(url, &args, 4000).await
}

/// The opening tag of the row `<tr ... data-smsc="smsc" ...>` of `class`, bind `bind`.
fn rows<'a>(dom: &'a str, class: &str, smsc: &str) -> Vec<&'a str> {
    dom.split("<tr ")
        .skip(1)
        .map(|r| r.split('>').next().unwrap_or(""))
        .filter(|r| {
            r.contains(&format!("class=\"{class}\""))
                && r.contains(&format!("data-smsc=\"{smsc}\""))
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn the_status_page_shows_binds_up_and_a_stopped_smsc() {
    let (a, b) = two_sims().await;
    let stack = Stack::start(&two_smscs_toml(a.local_addr(), b.local_addr(), "")).await;
    until_status(&stack, "binds up", |s| all_up(s, "a") && all_up(s, "b")).await;
    let (code, body) = call(&stack, "POST", "/admin/smsc/b/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    until_status(&stack, "b stopped", |s| all_stopped(s, "b")).await;

    let url = format!("{}#token={ADMIN_TOKEN}", admin_url(&stack, "/"));
    let dom = chromium(&url, &["--dump-dom"]).await;
    let smsc_a = rows(&dom, "smsc", "a");
    assert_eq!(smsc_a.len(), 1, "{dom}");
    assert!(smsc_a[0].contains("data-state=\"up\""), "{dom}");
    let binds_a = rows(&dom, "bind", "a");
    assert_eq!(binds_a.len(), 2, "{dom}");
    assert!(
        binds_a.iter().all(|r| r.contains("data-state=\"up\"")),
        "{dom}"
    );
    let smsc_b = rows(&dom, "smsc", "b");
    assert_eq!(smsc_b.len(), 1, "{dom}");
    assert!(smsc_b[0].contains("data-state=\"stopped\""), "{dom}");
    assert!(
        rows(&dom, "bind", "b")
            .iter()
            .all(|r| r.contains("data-state=\"stopped\"")),
        "{dom}"
    );
    // the write token gets the buttons; the token never stays in the address
    assert!(
        dom.contains("data-action=\"start\" data-smsc=\"b\""),
        "{dom}"
    );
    assert!(
        dom.contains("data-action=\"stop\" data-smsc=\"a\""),
        "{dom}"
    );

    // a wrong token: the page asks for one and shows nothing
    let url = format!("{}#token=not-the-token-0123456789", admin_url(&stack, "/"));
    let dom = chromium(&url, &["--dump-dom"]).await;
    assert!(rows(&dom, "smsc", "a").is_empty(), "{dom}");
    assert!(dom.contains("The token was refused."), "{dom}");

    if let Ok(path) = std::env::var("OTPGATE_STATUS_SCREENSHOT") {
        let url = format!("{}#token={READ_TOKEN}", admin_url(&stack, "/"));
        chromium(
            &url,
            &[&format!("--screenshot={path}"), "--window-size=1100,420"],
        )
        .await;
    }
    stack.stop(Duration::from_secs(15)).await;
}
