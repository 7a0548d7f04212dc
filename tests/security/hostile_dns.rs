//! Callback-host lookups under hostile use (docs/security.md): slow name servers never get
//! more lookups in flight than `[callbacks] resolve_concurrency`, and creates go on. Real
//! HTTP, with a resolver the test controls. (That a create refused by a limit costs no lookup
//! is tested with the API, `callbacks_hosts`: refusals here would upset `pumping_guard`'s
//! exact counts.)

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use crate::support::resolver::FakeResolver;
use crate::support::server::{test_config, Server};

#[tokio::test]
async fn slow_name_servers_never_get_more_lookups_than_the_bound() {
    const BOUND: usize = 3;
    const CREATES: u64 = 40;
    let resolver = FakeResolver::new();
    resolver.slow(Duration::from_secs(3));
    let mut c = test_config();
    c.callbacks.allow_private = false;
    c.callbacks.resolve_concurrency = BOUND;
    c.callbacks.resolve_timeout_ms = 200;
    let s = Server::start_resolving(c, resolver.clone()).await;
    let answers: Vec<u16> = futures::stream::iter(0..CREATES)
        .map(|i| {
            let s = &s;
            async move {
                let body = json!({
                    "phoneNumber": format!("+336123480{i:02}"),
                    // every create a different host: nothing shared but the bound
                    "otpCallbackUrl": format!("https://slow-{i}.example.com/cb"),
                });
                s.create(body).await.0
            }
        })
        .buffer_unordered(CREATES as usize)
        .collect()
        .await;
    // a lookup that did not answer in time, or could not start, is "not resolved": accepted
    assert!(answers.iter().all(|&a| a == 201), "{answers:?}");
    assert!(
        resolver.calls() >= BOUND,
        "lookups made: {}",
        resolver.calls()
    );
    assert!(
        resolver.most_in_flight() <= BOUND,
        "{} lookups in flight at once, bound {BOUND}",
        resolver.most_in_flight()
    );
    s.stop().await;
}
