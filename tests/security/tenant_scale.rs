//! Many tenants: a configuration file of 100,000 tenants loads through the real loader, the
//! last tenant authenticates over HTTP with either header, a wrong token is refused, and the
//! per-tenant metric series stay bounded (the tenants beyond the default share `other`, a
//! tenant marked `metrics = true` keeps its own).

use std::collections::HashSet;
use std::fmt::Write as _;

use otpgate::otp::identity::TenantTag;
use serde_json::json;

use crate::support::prom;
use crate::support::server::{error_of, Server};

const TENANTS: usize = 100_000;

/// `count` ids whose stored tags differ (a 32-bit tag collides among 100,000 ids, and the
/// loader refuses a collision): an id whose tag is taken gets a suffix.
fn distinct_ids(count: usize) -> Vec<String> {
    let mut tags = HashSet::new();
    let mut ids = Vec::with_capacity(count);
    for i in 0.. {
        if ids.len() == count {
            break;
        }
        let id = format!("customer-{i:06}");
        if tags.insert(TenantTag::of(&id)) && TenantTag::of(&id) != TenantTag::NONE {
            ids.push(id);
        }
    }
    ids
}

fn token_of(id: &str) -> String {
    format!("tok-{id}-secret")
}

/// The configuration file of `ids`, the first marked for metrics of its own.
fn config_text(ids: &[String]) -> String {
    let mut text = String::from(
        "[security]\npin_secret = \"test-secret-0123456789\"\n[limits]\nper_number = 1000\n",
    );
    for (i, id) in ids.iter().enumerate() {
        let _ = write!(
            text,
            "[[tenants]]\nname = \"{id}\"\ntoken = \"{}\"\n",
            token_of(id)
        );
        if i == 0 {
            text.push_str("metrics = true\n");
        }
    }
    text
}

#[tokio::test]
async fn a_hundred_thousand_tenants_load_and_the_last_one_authenticates() {
    // loading 100,000 tenants takes the machine's CPU: not beside the soak-sized tests
    let _alone = crate::support::HEAVY.lock().await;
    let ids = distinct_ids(TENANTS);
    let config = otpgate::config::load_str(&config_text(&ids), Vec::<(String, String)>::new())
        .expect("100,000 tenants load");
    assert_eq!(config.tenants.len(), TENANTS);
    let s = Server::start(config).await;

    let (first, last) = (&ids[0], &ids[TENANTS - 1]);
    let create = |header: &'static str, value: String, phone: &'static str| {
        s.client
            .post(s.url("/otp"))
            .header(header, value)
            .json(&json!({ "phoneNumber": phone }))
            .send()
    };
    let res = create("x-api-key", token_of(last), "+33612345601")
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let bearer = format!("Bearer {}", token_of(last));
    let res = create("authorization", bearer, "+33612345602")
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = create("x-api-key", token_of(first), "+33612345603")
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // the last tenant's OTPs are its own: the first tenant cannot read them
    let id = s.dispatcher.sent()[0].otp_id.clone();
    let res = s
        .client
        .get(s.url(&format!("/otp/{id}")))
        .header("x-api-key", token_of(first))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    for wrong in [
        format!("{}x", token_of(last)),
        token_of("customer-999999"),
        token_of(last).to_uppercase(),
    ] {
        let res = create("x-api-key", wrong, "+33612345604").await.unwrap();
        assert_eq!(res.status(), 401);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error_of(&body), ("invalid_api_key".to_owned(), 1001));
    }

    // bounded series: the marked tenant's own, and `other` for the rest
    let scrape = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let created = |tenant: &str| {
        prom::value(
            &scrape,
            "otpgate_otps_created_total",
            &[("tenant", tenant), ("encoding", "GSM7")],
        )
    };
    assert_eq!(created(first), Some(1.0));
    assert!(
        created("other").unwrap_or(0.0) >= 2.0,
        "{:?}",
        created("other")
    );
    assert_eq!(created(last), None, "an unmarked tenant has no series");
    let tenant_labels: HashSet<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("otpgate_otps_created_total{"))
        .filter_map(|l| l.split("tenant=\"").nth(1)?.split('"').next())
        .filter(|t| ids.binary_search(&(*t).to_owned()).is_ok() || *t == "other")
        .collect();
    assert_eq!(tenant_labels, HashSet::from([first.as_str(), "other"]));
    s.stop().await;
}

#[test]
fn the_loader_names_both_tenants_of_a_tag_collision_and_the_remedy() {
    // a collision of the 32-bit tag, found by an offline search among short ids
    let text = "[[tenants]]\nname = \"c17439\"\ntoken = \"token-aaaa-0001\"\n\
                [[tenants]]\nname = \"c24164\"\ntoken = \"token-bbbb-0002\"\n";
    let e = otpgate::config::load_str(text, Vec::<(String, String)>::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("tenants[1].name"), "{e}");
    assert!(e.contains("tenants[0].name"), "{e}");
    assert!(e.contains("change the id"), "{e}");
}

#[test]
fn an_id_other_with_its_own_series_is_refused_when_others_share_that_label() {
    let mut text = String::new();
    for i in 0..101 {
        let _ = write!(
            text,
            "[[tenants]]\nname = \"t{i}\"\ntoken = \"token-{i:08}\"\n"
        );
    }
    let load = |extra: &str| {
        otpgate::config::load_str(
            &format!("{text}[[tenants]]\nname = \"other\"\ntoken = \"token-other-1\"\n{extra}"),
            Vec::<(String, String)>::new(),
        )
        .map_err(|e| e.to_string())
    };
    let e = load("metrics = true\n").unwrap_err();
    assert!(e.contains("tenants[101].metrics"), "{e}");
    // without series of its own it simply counts among `other`
    assert!(load("").is_ok());
}
