//! The `Store` contract: one suite of cases, run against the in-memory store, a single Redis
//! (`OTPGATE_REDIS_URL`) and a Redis Cluster (`OTPGATE_REDIS_CLUSTER_NODES`).

use std::time::Duration;

use crate::support::store::{record, Fixture, HOLD};
use bytes::Bytes;
use otpgate::config::AbuseConfig;
use otpgate::otp::identity::TenantTag;
use otpgate::otp::model::{DeliveryStatus, OtpId, OtpStatus};
use otpgate::otp::phone::Phone;
use otpgate::otp::pin::PinHash;
use otpgate::otp::store::{
    CancelError, DeliveryChange, HeldReceipt, IdemKey, IdemReply, IdemReserve, NumberLimit,
    NumberScope, ReceiptMatch, ResendError, VerifyError,
};
use otpgate::otp::tenant::LimitKey;
use otpgate_codec::dlr::message_id_variants;

const RIGHT: PinHash = PinHash([7; 16]);
const WRONG: PinHash = PinHash([8; 16]);

async fn new_otp(f: &Fixture, phone: u64, max_attempts: u8) -> (OtpId, u32) {
    let now = f.clock.unix_secs();
    let id = OtpId::random();
    f.store
        .insert(id, record(phone, now, 600, max_attempts, 7))
        .await
        .unwrap();
    (id, now)
}

async fn insert_get_and_duplicate(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345678, 5).await;
    let r = f.store.get(&id).await.unwrap().expect("stored");
    assert_eq!(r.phone, 33612345678);
    assert_eq!(r.status, OtpStatus::Pending);
    assert_eq!(r.expires(), now + 600);
    let dup = f.store.insert(id, record(1, now, 600, 5, 1)).await;
    assert_eq!(dup, Err(otpgate::otp::store::StoreError::Duplicate));
    assert!(f.store.get(&OtpId::random()).await.unwrap().is_none());
    assert_eq!(
        f.store.latest_for_phone(33612345678).await.unwrap(),
        Some(id)
    );
    let (id2, _) = new_otp(&f, 33612345678, 5).await;
    assert_eq!(
        f.store.latest_for_phone(33612345678).await.unwrap(),
        Some(id2)
    );
    assert_eq!(f.store.latest_for_phone(33699999999).await.unwrap(), None);
    let removed = f.store.remove(&id2).await.unwrap().expect("removed");
    assert_eq!(removed.phone, 33612345678);
    assert!(f.store.get(&id2).await.unwrap().is_none());
    assert_eq!(f.store.latest_for_phone(33612345678).await.unwrap(), None);
}

async fn refuses_beyond_max_live_until_one_leaves(f: Fixture) {
    let now = f.clock.unix_secs();
    let mut first = None;
    for i in 0..crate::support::store::MAX_LIVE as u64 {
        let id = OtpId::random();
        f.store
            .insert(id, record(33_700_000_000 + i, now, 600, 5, 7))
            .await
            .unwrap();
        first.get_or_insert(id);
    }
    let over = f
        .store
        .insert(OtpId::random(), record(33_710_000_000, now, 600, 5, 7))
        .await;
    assert_eq!(
        over,
        Err(otpgate::otp::store::StoreError::Full(
            crate::support::store::MAX_LIVE
        ))
    );
    let first = first.expect("inserted");
    assert!(f.store.remove(&first).await.unwrap().is_some());
    f.store
        .insert(OtpId::random(), record(33_710_000_000, now, 600, 5, 7))
        .await
        .unwrap();
}

async fn verify_succeeds_once(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345670, 5).await;
    let r = f.store.verify(&id, &RIGHT, now + 1).await.unwrap().unwrap();
    assert_eq!(r.status, OtpStatus::Verified);
    assert_eq!(r.status_at, 1);
    let again = f.store.verify(&id, &RIGHT, now + 2).await.unwrap();
    assert_eq!(again.unwrap_err(), VerifyError::AlreadyVerified);
    assert_eq!(
        f.changes.of(id),
        vec![(OtpStatus::Verified, DeliveryStatus::Queued)]
    );
    let missing = f.store.verify(&OtpId::random(), &RIGHT, now).await.unwrap();
    assert_eq!(missing.unwrap_err(), VerifyError::NotFound);
}

async fn wrong_pins_use_attempts_then_fail(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345671, 3).await;
    let v = |pin| {
        let store = f.store.clone();
        async move { store.verify(&id, &pin, now).await.unwrap() }
    };
    assert_eq!(
        v(WRONG).await.unwrap_err(),
        VerifyError::WrongPin { remaining: 2 }
    );
    assert_eq!(
        v(WRONG).await.unwrap_err(),
        VerifyError::WrongPin { remaining: 1 }
    );
    assert_eq!(v(WRONG).await.unwrap_err(), VerifyError::LastAttemptFailed);
    assert_eq!(v(RIGHT).await.unwrap_err(), VerifyError::AlreadyFailed);
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!((r.status, r.attempts), (OtpStatus::Failed, 3));
    assert_eq!(
        f.changes.of(id),
        vec![(OtpStatus::Failed, DeliveryStatus::Queued)]
    );
}

async fn expired_otp_does_not_verify(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345672, 5).await;
    let v = f.store.verify(&id, &RIGHT, now + 600).await.unwrap();
    assert_eq!(v.unwrap_err(), VerifyError::Expired);
    assert_eq!(
        f.store.get(&id).await.unwrap().unwrap().status,
        OtpStatus::Expired
    );
    assert_eq!(
        f.changes.of(id),
        vec![(OtpStatus::Expired, DeliveryStatus::Queued)]
    );
    let c = f.store.cancel(&id, now + 601).await.unwrap();
    assert_eq!(c.unwrap_err(), CancelError::NotPending);
}

async fn cancel_rules(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345673, 5).await;
    let r = f.store.cancel(&id, now).await.unwrap().unwrap();
    assert_eq!(r.status, OtpStatus::Cancelled);
    let again = f.store.cancel(&id, now).await.unwrap();
    assert_eq!(again.unwrap_err(), CancelError::AlreadyCancelled);
    let v = f.store.verify(&id, &RIGHT, now).await.unwrap();
    assert_eq!(v.unwrap_err(), VerifyError::Cancelled);
    let (done, _) = new_otp(&f, 33612345673, 5).await;
    f.store.verify(&done, &RIGHT, now).await.unwrap().unwrap();
    let c = f.store.cancel(&done, now).await.unwrap();
    assert_eq!(c.unwrap_err(), CancelError::NotPending);
    let c = f.store.cancel(&OtpId::random(), now).await.unwrap();
    assert_eq!(c.unwrap_err(), CancelError::NotFound);
}

async fn delivery_updates_and_receipt_index(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345674, 5).await;
    let sub = DeliveryChange::Submitted {
        smsc: "sim".into(),
        message_ids: vec!["00ff".into(), "1A2B".into()],
    };
    let r = f
        .store
        .apply_delivery(&id, sub, now + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.delivery, DeliveryStatus::Sent);
    assert_eq!(r.sent_at(), Some(1));
    // indexed under the canonical form (lowercase, no leading zeros)
    assert_eq!(
        f.store.find_by_message_id("sim", "ff").await.unwrap(),
        Some(id)
    );
    assert_eq!(
        f.store.find_by_message_id("sim", "1a2b").await.unwrap(),
        Some(id)
    );
    assert_eq!(
        f.store.find_by_message_id("sim", "ffff").await.unwrap(),
        None
    );
    let undelivered = DeliveryChange::Status {
        status: DeliveryStatus::Undelivered,
        smsc: None,
        error: Some("receipt err: 001".into()),
    };
    f.store
        .apply_delivery(&id, undelivered, now + 2)
        .await
        .unwrap();
    // a later DELIVERED part does not hide the failed one
    let delivered = DeliveryChange::Status {
        status: DeliveryStatus::Delivered,
        smsc: None,
        error: None,
    };
    let r = f
        .store
        .apply_delivery(&id, delivered, now + 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.delivery, DeliveryStatus::Undelivered);
    assert_eq!(
        r.extra.as_deref().and_then(|e| e.smpp_error.as_deref()),
        Some("receipt err: 001")
    );
    assert_eq!(
        f.changes.of(id),
        vec![
            (OtpStatus::Pending, DeliveryStatus::Sent),
            (OtpStatus::Pending, DeliveryStatus::Undelivered)
        ]
    );
    let gone = f
        .store
        .apply_delivery(
            &OtpId::random(),
            DeliveryChange::Status {
                status: DeliveryStatus::Failed,
                smsc: None,
                error: None,
            },
            now,
        )
        .await
        .unwrap();
    assert!(gone.is_none());
}

async fn resend_replaces_pin_and_forgets_message_ids(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345675, 5).await;
    let sub = DeliveryChange::Submitted {
        smsc: "sim".into(),
        message_ids: vec!["abc1".into()],
    };
    f.store.apply_delivery(&id, sub, now).await.unwrap();
    let new_pin = PinHash([9; 16]);
    let r = f
        .store
        .resend(&id, new_pin, 2, now + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.delivery, DeliveryStatus::Queued);
    assert_eq!(r.extra.as_deref().map(|e| e.resends), Some(1));
    assert!(r.extra.as_deref().is_some_and(|e| e.message_ids.is_empty()));
    assert_eq!(
        f.store.find_by_message_id("sim", "abc1").await.unwrap(),
        None
    );
    f.store
        .resend(&id, new_pin, 2, now + 6)
        .await
        .unwrap()
        .unwrap();
    let limit = f.store.resend(&id, new_pin, 2, now + 7).await.unwrap();
    assert_eq!(limit.unwrap_err(), ResendError::Limit);
    let old = f.store.verify(&id, &RIGHT, now + 8).await.unwrap();
    assert_eq!(old.unwrap_err(), VerifyError::WrongPin { remaining: 4 });
    f.store
        .verify(&id, &new_pin, now + 9)
        .await
        .unwrap()
        .unwrap();
    let done = f.store.resend(&id, new_pin, 5, now + 10).await.unwrap();
    assert_eq!(
        done.unwrap_err(),
        ResendError::NotPending(OtpStatus::Verified)
    );
    let missing = f
        .store
        .resend(&OtpId::random(), new_pin, 5, now)
        .await
        .unwrap();
    assert_eq!(missing.unwrap_err(), ResendError::NotFound);
}

/// The PIN the last resend replaced answers `ReplacedPin` (2028) and counts as a wrong try;
/// only the last replaced PIN is kept, and its try can still use the last attempt.
async fn a_replaced_pin_is_told_apart_and_counted(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345670, 5).await;
    let never_resent = f.store.get(&id).await.unwrap().unwrap();
    assert!(never_resent
        .extra
        .as_deref()
        .is_none_or(|e| e.replaced_pin.is_none()));
    let second = PinHash([9; 16]);
    let third = PinHash([10; 16]);
    f.store
        .resend(&id, second, 5, now + 1)
        .await
        .unwrap()
        .unwrap();
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(r.extra.as_deref().and_then(|e| e.replaced_pin), Some(RIGHT));
    let first_try = f.store.verify(&id, &RIGHT, now + 2).await.unwrap();
    assert_eq!(
        first_try.unwrap_err(),
        VerifyError::ReplacedPin { remaining: 4 }
    );
    let wrong = f.store.verify(&id, &WRONG, now + 3).await.unwrap();
    assert_eq!(wrong.unwrap_err(), VerifyError::WrongPin { remaining: 3 });
    f.store
        .resend(&id, third, 5, now + 4)
        .await
        .unwrap()
        .unwrap();
    // the first PIN is forgotten: a plain wrong PIN now
    let first_again = f.store.verify(&id, &RIGHT, now + 5).await.unwrap();
    assert_eq!(
        first_again.unwrap_err(),
        VerifyError::WrongPin { remaining: 2 }
    );
    let second_try = f.store.verify(&id, &second, now + 6).await.unwrap();
    assert_eq!(
        second_try.unwrap_err(),
        VerifyError::ReplacedPin { remaining: 1 }
    );
    let r = f.store.verify(&id, &third, now + 7).await.unwrap().unwrap();
    assert_eq!((r.status, r.attempts), (OtpStatus::Verified, 4));

    // on the last attempt the replaced PIN fails the OTP like any wrong PIN
    let (id, now) = new_otp(&f, 33612345671, 1).await;
    f.store
        .resend(&id, second, 5, now + 1)
        .await
        .unwrap()
        .unwrap();
    let last = f.store.verify(&id, &RIGHT, now + 2).await.unwrap();
    assert_eq!(last.unwrap_err(), VerifyError::LastAttemptFailed);
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(r.status, OtpStatus::Failed);
}

async fn number_limit_slides(f: Fixture) {
    let t0 = f.clock.unix_secs();
    let t0 = t0 - t0 % 600; // a window start
    for i in 0..3 {
        let v = f
            .store
            .hit_number_limit(A, 33612345676, 3, 600, t0 + i)
            .await
            .unwrap();
        assert_eq!(v, NumberLimit::Allowed, "create {i}");
    }
    let v = f
        .store
        .hit_number_limit(A, 33612345676, 3, 600, t0 + 10)
        .await
        .unwrap();
    let NumberLimit::Limited { retry_after } = v else {
        panic!("fourth create allowed");
    };
    assert!(retry_after >= Duration::from_secs(590), "{retry_after:?}");
    let other = f
        .store
        .hit_number_limit(A, 33612345677, 3, 600, t0 + 10)
        .await
        .unwrap();
    assert_eq!(other, NumberLimit::Allowed);
    let off = f
        .store
        .hit_number_limit(A, 33612345676, 0, 600, t0 + 10)
        .await
        .unwrap();
    assert_eq!(off, NumberLimit::Allowed);
    let later = t0 + 10 + u32::try_from(retry_after.as_secs()).unwrap();
    let v = f
        .store
        .hit_number_limit(A, 33612345676, 3, 600, later)
        .await
        .unwrap();
    assert_eq!(v, NumberLimit::Allowed, "at the advertised time");
    // another tenant, and the count across tenants, are counted apart
    for scope in [
        NumberScope::Tenant(LimitKey::from_raw(1)),
        NumberScope::Global,
    ] {
        for i in 0..3 {
            let v = f
                .store
                .hit_number_limit(scope, 33612345676, 3, 600, t0 + 10 + i)
                .await
                .unwrap();
            assert_eq!(v, NumberLimit::Allowed, "{scope:?} create {i}");
        }
        let v = f
            .store
            .hit_number_limit(scope, 33612345676, 3, 600, t0 + 20)
            .await
            .unwrap();
        assert!(matches!(v, NumberLimit::Limited { .. }), "{scope:?}");
    }
}

/// The first tenant's per-number counters.
const A: NumberScope = NumberScope::Tenant(LimitKey::ZERO);

async fn idempotency_keys(f: Fixture) {
    let now = f.clock.unix_secs();
    let k = IdemKey {
        tenant: TenantTag::of("one"),
        key: "order-{42}".into(),
    };
    let reserve = |fp: u8| {
        let (store, k) = (f.store.clone(), k.clone());
        async move { store.idempotency_reserve(&k, [fp; 32], now).await.unwrap() }
    };
    assert_eq!(reserve(1).await, IdemReserve::Reserved);
    assert_eq!(reserve(1).await, IdemReserve::InFlight);
    assert_eq!(reserve(2).await, IdemReserve::Conflict);
    let other_tenant = IdemKey {
        tenant: TenantTag::of("two"),
        ..k.clone()
    };
    let r = f
        .store
        .idempotency_reserve(&other_tenant, [2; 32], now)
        .await
        .unwrap();
    assert_eq!(r, IdemReserve::Reserved);
    let reply = IdemReply {
        status: 201,
        body: Bytes::from_static(b"{\"otpId\":\"x\"}"),
    };
    f.store
        .idempotency_complete(&k, reply.clone(), now, 3600)
        .await
        .unwrap();
    f.store.idempotency_release(&k).await.unwrap(); // a completed key is kept
    assert_eq!(reserve(1).await, IdemReserve::Replay(reply));
    f.store.idempotency_release(&other_tenant).await.unwrap();
    let r = f
        .store
        .idempotency_reserve(&other_tenant, [3; 32], now)
        .await
        .unwrap();
    assert_eq!(r, IdemReserve::Reserved, "a released key is free again");
}

async fn concurrent_verifies_succeed_once(f: Fixture) {
    for round in 0..20u64 {
        let (id, now) = new_otp(&f, 33600000000 + round, 5).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = f.store.clone();
                tokio::spawn(async move { store.verify(&id, &RIGHT, now).await.unwrap() })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e, VerifyError::AlreadyVerified),
            }
        }
        assert_eq!(ok, 1, "round {round}");
    }
}

async fn housekeeping_reports_expiry(f: Fixture) {
    let now = f.clock.unix_secs();
    let id = OtpId::random();
    // created long enough ago to be past its expiry already
    f.store
        .insert(id, record(33612345679, now - 20, 10, 5, 7))
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(f.store.clone().housekeeping(Box::pin(async move {
        let _ = stop_rx.await;
    })));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while f.changes.of(id).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    task.await.unwrap();
    assert_eq!(
        f.changes.of(id),
        vec![(OtpStatus::Expired, DeliveryStatus::Queued)]
    );
    assert_eq!(
        f.store.get(&id).await.unwrap().unwrap().status,
        OtpStatus::Expired
    );
}

async fn pumping_guard(f: Fixture) {
    let mut cfg = AbuseConfig {
        prefix_digits: 2,
        prefix_limit: 3,
        ..AbuseConfig::default()
    };
    cfg.country_daily_caps.insert("DE".into(), 2);
    let g = f.guard(cfg);
    let now = f.clock.unix_secs();
    let fr = |n: u64| Phone::stored(n, *b"FR");
    for i in 0..3 {
        assert_eq!(
            g.admit(LimitKey::ZERO, &fr(33612345600 + i), now)
                .await
                .unwrap(),
            Ok(())
        );
    }
    let e = g
        .admit(LimitKey::ZERO, &fr(33612345699), now)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.reason(), "prefix_velocity");
    assert_eq!(
        g.admit(LimitKey::ZERO, &fr(33712345600), now)
            .await
            .unwrap(),
        Ok(())
    );
    let de = |n: u64| Phone::stored(n, *b"DE");
    assert_eq!(
        g.admit(LimitKey::ZERO, &de(4915112345678), now)
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        g.admit(LimitKey::ZERO, &de(4916112345678), now)
            .await
            .unwrap(),
        Ok(())
    );
    let e = g
        .admit(LimitKey::ZERO, &de(4917112345678), now)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.reason(), "country_daily_cap");
    g.verified(LimitKey::ZERO, &fr(33612345600), now)
        .await
        .unwrap();
    // another tenant's prefix counters are its own; the country cap is shared
    let b = LimitKey::from_raw(1);
    assert_eq!(g.admit(b, &fr(33612345699), now).await.unwrap(), Ok(()));
    let e = g
        .admit(b, &de(4917112345678), now)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.reason(), "country_daily_cap");
}

fn variants(id: &str) -> Vec<String> {
    message_id_variants(id).collect()
}

fn receipt(status: Option<DeliveryStatus>) -> HeldReceipt {
    HeldReceipt {
        status,
        error: None,
    }
}

async fn lookup(f: &Fixture, smsc: &str, id: &str, r: HeldReceipt, now: u32) -> ReceiptMatch {
    let forms = variants(id);
    f.store.find_or_hold(smsc, &forms, r, now).await.unwrap()
}

async fn submit(f: &Fixture, id: &OtpId, smsc: &str, mid: &str, now: u32) {
    let sub = DeliveryChange::Submitted {
        smsc: smsc.into(),
        message_ids: vec![mid.into()],
    };
    f.store.apply_delivery(id, sub, now).await.unwrap().unwrap();
}

async fn message_ids_are_indexed_per_smsc(f: Fixture) {
    let (a, now) = new_otp(&f, 33612345680, 5).await;
    let (b, _) = new_otp(&f, 33612345681, 5).await;
    // two SMSCs return the same id for different OTPs
    submit(&f, &a, "smsc-x", "7F", now).await;
    submit(&f, &b, "smsc-y", "7f", now).await;
    let found = |smsc: &'static str, id: &'static str| {
        let store = f.store.clone();
        async move {
            store
                .find_or_hold(smsc, &variants(id), receipt(None), now)
                .await
                .unwrap()
        }
    };
    assert_eq!(found("smsc-x", "7f").await, ReceiptMatch::Found(a));
    // decimal 127 is 0x7f
    assert_eq!(found("smsc-y", "127").await, ReceiptMatch::Found(b));
    assert_eq!(found("smsc-z", "7f").await, ReceiptMatch::Held);
    assert!(f
        .store
        .take_held("smsc-x", &["7f".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        f.store.take_held("smsc-z", &["7F".into()]).await.unwrap(),
        vec![receipt(None)]
    );
}

async fn a_receipt_before_its_submit_is_held_then_taken(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345682, 5).await;
    let delivered = receipt(Some(DeliveryStatus::Delivered));
    // ENROUTE, then DELIVRD, both before the submit_sm_resp; the receipt's id in decimal
    for r in [receipt(None), delivered.clone()] {
        let m = lookup(&f, "sim", "255", r, now).await;
        assert_eq!(m, ReceiptMatch::Held);
    }
    submit(&f, &id, "sim", "00FF", now).await;
    // another SMSC's submit of the same id does not take them
    assert!(f
        .store
        .take_held("other", &["ff".into()])
        .await
        .unwrap()
        .is_empty());
    let taken = f.store.take_held("sim", &["00FF".into()]).await.unwrap();
    assert_eq!(taken, vec![receipt(None), delivered]);
    assert!(f
        .store
        .take_held("sim", &["ff".into()])
        .await
        .unwrap()
        .is_empty());
    // once indexed, a receipt is found at once
    let m = lookup(&f, "sim", "255", receipt(None), now).await;
    assert_eq!(m, ReceiptMatch::Found(id));
}

async fn held_receipts_are_shed_beyond_the_cap_and_expire(f: Fixture) {
    let now = f.clock.unix_secs();
    // HOLD.max is 3: a fourth sheds the oldest
    for mid in ["a1", "a2", "a3", "a4"] {
        let m = lookup(&f, "sim", mid, receipt(None), now).await;
        assert_eq!(m, ReceiptMatch::Held);
    }
    assert!(f
        .store
        .take_held("sim", &["a1".into()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        f.store
            .take_held("sim", &["a2".into()])
            .await
            .unwrap()
            .len(),
        1
    );
    // one held long ago: its hold time is over, housekeeping drops it
    let old = now - HOLD.hold_s - 10;
    let m = lookup(&f, "sim", "b1", receipt(None), old).await;
    assert_eq!(m, ReceiptMatch::Held);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(f.store.clone().housekeeping(Box::pin(async move {
        let _ = stop_rx.await;
    })));
    // two expiring OTPs, the second inserted once the first expired: a whole housekeeping
    // round ran in between, held receipts included
    for phone in [33612345683, 33612345684] {
        let id = OtpId::random();
        f.store
            .insert(id, record(phone, now - 20, 10, 5, 7))
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while f.changes.of(id).is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!f.changes.of(id).is_empty(), "housekeeping ran");
    }
    let _ = stop_tx.send(());
    task.await.unwrap();
    assert!(f
        .store
        .take_held("sim", &["b1".into()])
        .await
        .unwrap()
        .is_empty());
    // those still within their hold time stay
    assert_eq!(
        f.store
            .take_held("sim", &["a3".into()])
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A send's charge adds to the cost and clears the estimate; a resend's estimate sits beside
/// what was charged; nothing else of the record moves, and the cost survives a read back.
async fn cost_adds_charges_and_keeps_one_estimate(f: Fixture) {
    let (id, now) = new_otp(&f, 33612345678, 5).await;
    let cost = |r: &otpgate::otp::model::Record| r.extra.as_deref().and_then(|e| e.cost);
    let before = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(
        before.cost_micros(50_000),
        50_000,
        "no cost stored: parts x fallback"
    );
    let charged = DeliveryChange::Cost {
        charge: 120_000,
        pending: 0,
    };
    let r = f
        .store
        .apply_delivery(&id, charged, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.delivery, DeliveryStatus::Queued);
    assert_eq!(cost(&r).map(|c| (c.charged, c.pending)), Some((120_000, 0)));
    let estimate = DeliveryChange::Cost {
        charge: 0,
        pending: 40_000,
    };
    f.store.apply_delivery(&id, estimate, now).await.unwrap();
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(r.cost_micros(50_000), 160_000);
    let settled = DeliveryChange::Cost {
        charge: 35_000,
        pending: 0,
    };
    f.store.apply_delivery(&id, settled, now).await.unwrap();
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(cost(&r).map(|c| (c.charged, c.pending)), Some((155_000, 0)));
    let gone = OtpId::random();
    let nothing = DeliveryChange::Cost {
        charge: 1,
        pending: 0,
    };
    assert!(f
        .store
        .apply_delivery(&gone, nothing, now)
        .await
        .unwrap()
        .is_none());

    // the split of the SMSC that took it replaces the estimate's; the PIN's spec stays
    let pin = r.pin();
    let sent_as = || DeliveryChange::SentAs {
        encoding: otpgate::otp::text::Encoding::Ucs2,
        parts: 2,
    };
    f.store.apply_delivery(&id, sent_as(), now).await.unwrap();
    let r = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (r.encoding(), r.parts, r.pin()),
        (otpgate::otp::text::Encoding::Ucs2, 2, pin)
    );
    assert_eq!(r.delivery, DeliveryStatus::Queued);
    assert!(f
        .store
        .apply_delivery(&gone, sent_as(), now)
        .await
        .unwrap()
        .is_none());
    assert!(f.store.get(&gone).await.unwrap().is_none());
}

/// A send charged nothing (no price anywhere, or refused) costs nothing once its fate is
/// recorded; a send that was charged keeps its charge through a later free one. (A resend's
/// estimate is the service's: see the resend tests of the API.)
async fn a_send_charged_nothing_costs_nothing_once_settled(f: Fixture) {
    let free = |parts| DeliveryChange::Charged {
        charge: 0,
        parts,
        sent_as: None,
    };
    let (sent, now) = new_otp(&f, 33612345680, 5).await;
    let r = f.store.get(&sent).await.unwrap().unwrap();
    assert_eq!(
        (r.cost_micros(50_000), r.pending_micros(50_000)),
        (50_000, 50_000)
    );
    f.store.apply_delivery(&sent, free(1), now).await.unwrap();
    let submitted = DeliveryChange::Submitted {
        smsc: "sim".into(),
        message_ids: vec!["c0ffee".into()],
    };
    f.store.apply_delivery(&sent, submitted, now).await.unwrap();
    let r = f.store.get(&sent).await.unwrap().unwrap();
    assert_eq!((r.cost_micros(50_000), r.pending_micros(50_000)), (0, 0));
    let view = otpgate::otp::model::OtpView::new(sent, &r, now, 0.05);
    assert_eq!(view.cost, 0.0);

    let (refused, _) = new_otp(&f, 33612345681, 5).await;
    f.store
        .apply_delivery(&refused, free(0), now)
        .await
        .unwrap();
    let rejected = DeliveryChange::Status {
        status: DeliveryStatus::Rejected,
        smsc: Some("sim".into()),
        error: Some("0x00000045: submit failed".into()),
    };
    f.store
        .apply_delivery(&refused, rejected, now)
        .await
        .unwrap();
    let r = f.store.get(&refused).await.unwrap().unwrap();
    assert_eq!(r.cost_micros(50_000), 0);

    let (charged, _) = new_otp(&f, 33612345682, 5).await;
    let paid = DeliveryChange::Charged {
        charge: 30_000,
        parts: 1,
        sent_as: None,
    };
    f.store.apply_delivery(&charged, paid, now).await.unwrap();
    f.store
        .apply_delivery(&charged, free(1), now)
        .await
        .unwrap();
    let r = f.store.get(&charged).await.unwrap().unwrap();
    assert_eq!(r.cost_micros(50_000), 30_000);
}

/// A settled send in one step: its charge adds to the cost and clears the estimate, and the
/// split of the SMSC that took it (when one did) replaces the estimate's; the PIN's spec and
/// the delivery status stay.
async fn a_charge_and_its_split_are_one_change(f: Fixture) {
    use otpgate::otp::text::Encoding;
    let (id, now) = new_otp(&f, 33612345679, 5).await;
    let cost = |r: &otpgate::otp::model::Record| r.extra.as_deref().and_then(|e| e.cost);
    let estimate = DeliveryChange::Cost {
        charge: 0,
        pending: 40_000,
    };
    f.store.apply_delivery(&id, estimate, now).await.unwrap();
    let pin = f.store.get(&id).await.unwrap().unwrap().pin();
    let charged = DeliveryChange::Charged {
        charge: 70_000,
        parts: 3,
        sent_as: Some((Encoding::Ucs2, 3)),
    };
    let r = f
        .store
        .apply_delivery(&id, charged, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cost(&r).map(|c| (c.charged, c.pending)), Some((70_000, 0)));
    assert_eq!((r.encoding(), r.parts, r.pin()), (Encoding::Ucs2, 3, pin));
    assert_eq!(r.delivery, DeliveryStatus::Queued);
    let back = f.store.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (cost(&back), back.encoding(), back.parts),
        (cost(&r), r.encoding(), r.parts),
        "read back the same"
    );
    // no SMSC took it: a charge (of nothing) and the split untouched
    let none = DeliveryChange::Charged {
        charge: 0,
        parts: 0,
        sent_as: None,
    };
    let r = f
        .store
        .apply_delivery(&id, none, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cost(&r).map(|c| (c.charged, c.pending)), Some((70_000, 0)));
    assert_eq!((r.encoding(), r.parts), (Encoding::Ucs2, 3));
    let gone = DeliveryChange::Charged {
        charge: 1,
        parts: 1,
        sent_as: None,
    };
    assert!(f
        .store
        .apply_delivery(&OtpId::random(), gone, now)
        .await
        .unwrap()
        .is_none());
}

/// Usage per tenant and UTC day: creates (a removed one taken back), accepted parts and their
/// cost when a send is charged (on the day it is), successful verifications only.
async fn usage_is_counted_per_tenant_and_day(f: Fixture) {
    use otpgate::otp::usage::{day_of, DayUsage, DAY_S};
    let (a, b) = (TenantTag::of("usage-a"), TenantTag::of("usage-b"));
    let now = f.clock.unix_secs();
    let today = day_of(now);
    let mut ids = Vec::new();
    for (i, tenant) in [a, a, a, b, b].into_iter().enumerate() {
        let id = OtpId::random();
        let r = otpgate::otp::model::Record {
            tenant,
            ..record(33_612_340_000 + i as u64, now, 600, 3, 7)
        };
        f.store.insert(id, r).await.unwrap();
        ids.push(id);
    }
    // the SMS of the third was never queued
    assert!(f.store.remove(&ids[2]).await.unwrap().is_some());
    assert!(f.store.verify(&ids[0], &RIGHT, now).await.unwrap().is_ok());
    assert!(f.store.verify(&ids[0], &RIGHT, now).await.unwrap().is_err());
    assert!(f.store.verify(&ids[1], &WRONG, now).await.unwrap().is_err());
    let charged = |charge, parts| DeliveryChange::Charged {
        charge,
        parts,
        sent_as: None,
    };
    for (id, change, at) in [
        (ids[0], charged(70_000, 2), now),
        (ids[1], charged(0, 0), now),
        (ids[3], charged(35_000, 1), now),
        // a resend's send, charged the next day
        (ids[1], charged(10, 1), now + DAY_S),
    ] {
        f.store
            .apply_delivery(&id, change, at)
            .await
            .unwrap()
            .unwrap();
    }
    let unknown = OtpId::random();
    let gone = f.store.apply_delivery(&unknown, charged(5, 5), now).await;
    assert!(gone.unwrap().is_none());

    assert_eq!(
        f.store.usage(a, today - 1, today + 1).await.unwrap(),
        vec![
            (
                today,
                DayUsage {
                    created: 2,
                    parts: 2,
                    cost_micros: 70_000,
                    verified: 1
                }
            ),
            (
                today + 1,
                DayUsage {
                    parts: 1,
                    cost_micros: 10,
                    ..DayUsage::default()
                }
            ),
        ]
    );
    assert_eq!(
        f.store.usage(b, today, today).await.unwrap(),
        vec![(
            today,
            DayUsage {
                created: 2,
                parts: 1,
                cost_micros: 35_000,
                verified: 0
            }
        )]
    );
    assert!(f
        .store
        .usage(a, today + 2, today + 9)
        .await
        .unwrap()
        .is_empty());
    assert!(f
        .store
        .usage(TenantTag::of("usage-c"), today, today)
        .await
        .unwrap()
        .is_empty());
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(crate::support::store::memory()).await;
            })*
        }
        mod redis {
            $(#[tokio::test]
            #[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
            async fn $case() {
                super::$case(crate::support::store::redis(stringify!($case)).await).await;
            })*
        }
        mod redis_cluster {
            $(#[tokio::test]
            #[ignore = "needs a Redis Cluster (OTPGATE_REDIS_CLUSTER_NODES, set by .ci/install.d/51-redis-cluster.sh)"]
            async fn $case() {
                super::$case(crate::support::store::cluster(stringify!($case)).await).await;
            })*
        }
    };
}

suite!(
    insert_get_and_duplicate,
    refuses_beyond_max_live_until_one_leaves,
    verify_succeeds_once,
    wrong_pins_use_attempts_then_fail,
    expired_otp_does_not_verify,
    cancel_rules,
    delivery_updates_and_receipt_index,
    resend_replaces_pin_and_forgets_message_ids,
    a_replaced_pin_is_told_apart_and_counted,
    number_limit_slides,
    idempotency_keys,
    concurrent_verifies_succeed_once,
    housekeeping_reports_expiry,
    pumping_guard,
    message_ids_are_indexed_per_smsc,
    a_receipt_before_its_submit_is_held_then_taken,
    held_receipts_are_shed_beyond_the_cap_and_expire,
    cost_adds_charges_and_keeps_one_estimate,
    a_charge_and_its_split_are_one_change,
    a_send_charged_nothing_costs_nothing_once_settled,
    usage_is_counted_per_tenant_and_day,
);
