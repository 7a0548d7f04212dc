//! OTP records written to Redis by a version that stored the tenant's position (`tn`) instead
//! of its tag (`tg`) keep being read as they were: by that position in the current
//! `[[tenants]]` list, through the store and through the HTTP API of an engine started on
//! that Redis (`OTPGATE_REDIS_URL`).

use otpgate::config::StoreKind;
use otpgate::otp::model::{OtpId, Record};
use otpgate::otp::pin::PinHasher;
use otpgate::otp::redis::record::to_fields;
use otpgate::otp::store::VerifyError;
use serde_json::{json, Value};

use crate::support::server::{test_config, Server, TOKEN, TOKEN2};
use crate::support::store::{redis_url, unique_prefix};

const PIN: &str = "482913";

/// Writes `record` under `prefix` as the older format did: every field as today but the
/// tenant, `tn` = its position.
async fn write_old_format(prefix: &str, id: OtpId, record: &Record, position: u16) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut fields: Vec<(&str, Vec<u8>)> = to_fields(record)
        .into_iter()
        .filter(|(k, _)| *k != "tg")
        .collect();
    fields.push(("tn", position.to_string().into_bytes()));
    let key = format!("{prefix}:otp:{{{id}}}");
    let mut cmd = redis::cmd("HSET");
    cmd.arg(&key);
    for (k, v) in &fields {
        cmd.arg(*k).arg(v.as_slice());
    }
    let _: i64 = cmd.query_async(&mut conn).await.unwrap();
    let _: i64 = redis::cmd("EXPIRE")
        .arg(&key)
        .arg(600)
        .query_async(&mut conn)
        .await
        .unwrap();
    let stored: Vec<Vec<u8>> = redis::cmd("HKEYS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(stored.contains(&b"tn".to_vec()) && !stored.contains(&b"tg".to_vec()));
}

/// A pending OTP of a PIN known to the test, created now.
fn pending(id: OtpId, now: u32) -> Record {
    let secret = test_config().security.pin_secret.unwrap();
    let hash = PinHasher::new(secret.as_bytes()).hash(&id.0, PIN);
    Record::pending(hash, 447_400_130_001, *b"GB", now, 600, 3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn an_old_format_record_is_read_as_its_tenant_by_position() {
    let prefix = unique_prefix("oldfmt");
    let mut config = test_config();
    config.store.kind = StoreKind::Redis;
    config.store.url = redis_url();
    config.store.key_prefix = prefix.clone();
    config.validate().unwrap();
    let prepared = otpgate::app::prepare_store(&config).await.unwrap();

    // written by the older version for its second tenant, `two`
    let now = prepared.clock.unix_secs();
    let old = OtpId::random();
    write_old_format(&prefix, old, &pending(old, now), 1).await;
    // and one whose position is past the end of today's list: nobody's
    let orphan = OtpId::random();
    write_old_format(&prefix, orphan, &pending(orphan, now), 7).await;

    let store = prepared.store.clone();
    let read = store
        .get(&old)
        .await
        .unwrap()
        .expect("the old record is read");
    assert_eq!(read.tenant, otpgate::otp::identity::TenantTag::of("two"));
    assert_eq!(read.pin(), pending(old, now).pin());
    let read = store.get(&orphan).await.unwrap().expect("read");
    assert_eq!(read.tenant, otpgate::otp::identity::TenantTag::NONE);

    let server = Server::start_prepared(config, prepared).await;
    let as_tenant = |token: &'static str, path: String, body: Option<Value>| {
        let req = match &body {
            Some(b) => server.client.post(server.url(&path)).json(b),
            None => server.client.get(server.url(&path)),
        };
        async move {
            let res = req.bearer_auth(token).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, otp) = as_tenant(TOKEN2, format!("/otp/{old}"), None).await;
    assert_eq!((status, &otp["status"]), (200, &json!("PENDING")), "{otp}");
    let (status, body) = as_tenant(TOKEN, format!("/otp/{old}"), None).await;
    assert_eq!(status, 404, "{body}");
    for token in [TOKEN, TOKEN2] {
        let (status, body) = as_tenant(token, format!("/otp/{orphan}"), None).await;
        assert_eq!(status, 404, "a record of no configured tenant: {body}");
    }
    let verify = json!({"pin": PIN});
    let (status, body) = as_tenant(TOKEN2, format!("/otp/{old}/verify"), Some(verify)).await;
    assert_eq!((status, body), (200, json!({"status": "VERIFIED"})));
    // and stays its own after the verify rewrote it
    let read = store.get(&old).await.unwrap().unwrap();
    assert_eq!(read.tenant, otpgate::otp::identity::TenantTag::of("two"));
    let again = store
        .verify(&old, &read.pin_hash, server.clock.unix_secs())
        .await
        .unwrap();
    assert_eq!(again.unwrap_err(), VerifyError::AlreadyVerified);
    server.stop().await;
}
