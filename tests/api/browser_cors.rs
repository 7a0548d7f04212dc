//! The sms.cx page's JavaScript example (`XMLHttpRequest` with `withCredentials`, a Bearer
//! token, a JSON body) in a real browser: headless Chromium loads a page served from another
//! loopback origin, the page calls otpgate and writes what it got into the DOM, and the test
//! reads the OTP it created through the API, over HTTP and over HTTPS. Its twin: from an origin otpgate does not list,
//! the browser does not let the page read anything, and no SMS goes out.

use crate::support::browser;
use crate::support::server::{test_config, Server, TOKEN};
use crate::support::tls::TestPki;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The sms.cx example, pointed at `api`, writing its outcome into `<pre id="result">`.
fn page(api: &str) -> String {
    format!(
        r#"<!doctype html>
<html><body><pre id="result">pending</pre>
<script>
var data = JSON.stringify({{"phoneNumber":"+447400123999","from":"Verify","template":"Your code is {{{{pin}}}}","ttl":300}});
var xhr = new XMLHttpRequest();
xhr.withCredentials = true;
xhr.addEventListener("readystatechange", function () {{
  if (this.readyState === 4) {{
    document.getElementById("result").textContent = "status=" + this.status + " body=" + this.responseText;
  }}
}});
xhr.open("POST", "{api}/otp");
xhr.setRequestHeader("Authorization", "Bearer {TOKEN}");
xhr.setRequestHeader("Content-Type", "application/json");
xhr.send(data);
</script></body></html>"#
    )
}

/// Serves `html` to every request on `listener` (a page origin of its own).
fn serve_page(listener: TcpListener, html: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let html = html.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    })
}

/// Loads `url` in headless Chromium and returns the text of `#result` once the page is done.
/// `trust_spki`: the base64 SHA-256 of a server key whose certificate the browser accepts
/// (the test's own CA is not in its store).
async fn result_in_browser(url: &str, trust_spki: Option<&str>) -> String {
    let mut args = vec!["--dump-dom".to_owned()];
    if let Some(spki) = trust_spki {
        args.push(format!("--ignore-certificate-errors-spki-list={spki}"));
    }
    let dom = browser::run_headless(url, &args, 15000).await;
    let start = dom
        .find("<pre id=\"result\">")
        .expect("no #result in the DOM")
        + 17;
    let end = dom[start..].find("</pre>").expect("#result not closed") + start;
    dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// otpgate (over HTTPS with `tls`) allowing the page's origin or (`allow_page_origin` false)
/// another one, and the page's URL on its own origin.
async fn setup(
    allow_page_origin: bool,
    tls: Option<&TestPki>,
) -> (Server, String, tokio::task::JoinHandle<()>) {
    let page_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!("http://{}", page_listener.local_addr().unwrap());
    let mut config = test_config();
    config.http.cors_allowed_origins = vec![if allow_page_origin {
        page_origin.clone()
    } else {
        "https://app.example.com".to_owned()
    }];
    if let Some(pki) = tls {
        config.http.tls_cert = Some(pki.cert.clone());
        config.http.tls_key = Some(pki.key.clone());
    }
    let s = Server::start(config).await;
    let page_task = serve_page(page_listener, page(&s.base));
    (s, format!("{page_origin}/"), page_task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium (OTPGATE_TEST_CHROMIUM, set by .ci/install.d/80-chromium.sh)"]
async fn the_sms_cx_page_example_creates_an_otp_from_a_browser() {
    let (s, url, page_task) = setup(true, None).await;
    let result = result_in_browser(&url, None).await;
    created_from_the_page(s, &result).await;
    page_task.abort();
}

/// As on the sms.cx page, the API over HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium (OTPGATE_TEST_CHROMIUM, set by .ci/install.d/80-chromium.sh)"]
async fn the_sms_cx_page_example_creates_an_otp_over_https() {
    let pki = TestPki::new("browser");
    let (mut s, url, page_task) = setup(true, Some(&pki)).await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    s.client = pki.client().build().unwrap();
    let result = result_in_browser(&url, Some(&pki.spki_sha256)).await;
    created_from_the_page(s, &result).await;
    page_task.abort();
}

/// Checks, through the API, the OTP whose creation the page reported in `result`.
async fn created_from_the_page(s: Server, result: &str) {
    let body = result
        .strip_prefix("status=201 body=")
        .unwrap_or_else(|| panic!("the page got: {result}"));
    let created: Value = serde_json::from_str(body).unwrap();
    let id = created["otpId"].as_str().expect("an otpId in the page");
    let otp = s.otp(id).await;
    assert_eq!(otp["status"], "PENDING", "{otp}");
    assert_eq!(otp["phoneNumber"], "+447400123999", "{otp}");
    let sms = s
        .dispatcher
        .sms_for(id)
        .expect("the SMS of the browser's OTP");
    assert!(sms.text.starts_with("Your code is "), "{}", sms.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium (OTPGATE_TEST_CHROMIUM, set by .ci/install.d/80-chromium.sh)"]
async fn a_page_from_an_origin_not_listed_cannot_call_the_api() {
    let (s, url, page_task) = setup(false, None).await;
    let result = result_in_browser(&url, None).await;
    // The browser reports a network error: status 0, nothing to read.
    assert_eq!(result, "status=0 body=", "the page got: {result}");
    assert_eq!(
        s.dispatcher.count(),
        0,
        "the refused preflight still sent an SMS"
    );
    page_task.abort();
    s.stop().await;
}
