//! Which template a create picks, over real HTTP, with the example body of the sms.cx OTP page
//! (a generic template and French, German, Spanish, Italian and Bulgarian ones): the
//! destination's main language picks its `template_XX`, a country's secondary languages never
//! displace the generic `template`, Quebec's area codes read French, and an explicit
//! `language` wins when it names a template of the request. The same table is in
//! `docs/api.md`.

use crate::support::server::{test_config, Server};
use serde_json::{json, Value};

/// The sms.cx example body, for `phone`.
fn smscx_example(phone: &str) -> Value {
    json!({
        "phoneNumber": phone,
        "template": "Your verification code is {{pin}}",
        "template_fr": "Votre code de vérification est {{pin}}",
        "template_de": "Ihr Bestätigungscode lautet {{pin}}",
        "template_es": "Su código de verificación es {{pin}}",
        "template_it": "Il tuo codice di verifica è {{pin}}",
        "template_bg": "Вашият код за потвърждение е {{pin}}",
        "ttl": 300,
        "maxAttempts": 3,
        "pinType": "numbers",
        "pinLength": 6,
        "otpCallbackUrl": "https://example.com/otp-callback"
    })
}

/// Destination, number, the template field whose text the SMS must carry.
const TABLE: &[(&str, &str, &str)] = &[
    ("United States", "+12025550123", "template"),
    ("Canada, Toronto", "+14165550123", "template"),
    ("Canada, Montreal", "+15145550123", "template_fr"),
    ("Canada, Quebec City", "+14185550123", "template_fr"),
    ("France", "+33612345678", "template_fr"),
    ("Belgium", "+32470123456", "template"),
    ("Switzerland", "+41781234567", "template_de"),
    ("Germany", "+4915112345678", "template_de"),
    ("Austria", "+436641234567", "template_de"),
    ("Spain", "+34612345678", "template_es"),
    ("Mexico", "+525512345678", "template_es"),
    ("Italy", "+393123456789", "template_it"),
    ("Bulgaria", "+359881234567", "template_bg"),
    ("United Kingdom", "+447400123456", "template"),
    ("Japan", "+819012345678", "template"),
];

/// The template text of `field` with the PIN of `text` put back as `{{pin}}`.
fn as_template(text: &str) -> String {
    let pin = text.split_whitespace().last().unwrap_or_default();
    assert_eq!(pin.len(), 6, "{text}");
    assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{text}");
    format!("{}{{{{pin}}}}", text.strip_suffix(pin).unwrap_or_default())
}

#[tokio::test]
async fn the_smscx_example_body_speaks_each_destinations_main_language() {
    let s = Server::start(test_config()).await;
    let mut wrong = Vec::new();
    for (place, phone, field) in TABLE {
        let body = smscx_example(phone);
        let (status, otp) = s.create(body.clone()).await;
        assert_eq!(status, 201, "{place}: {otp}");
        let id = otp["otpId"].as_str().unwrap();
        let sms = s.dispatcher.sms_for(id).expect("an SMS was sent");
        let got = as_template(&sms.text);
        if got != body[*field] {
            wrong.push(format!("{place} ({phone}): want {field}, got `{got}`"));
        }
        // the reply names the language of the template used
        let lang = field.strip_prefix("template_");
        assert_eq!(otp["language"].as_str(), lang, "{place}: {otp}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    s.stop().await;
}

#[tokio::test]
async fn an_explicit_language_wins_when_the_request_has_its_template() {
    let s = Server::start(test_config()).await;
    let cases = [
        // a Spanish speaker in the US asks for Spanish
        ("+12025550124", Some("es"), "template_es"),
        // upper-case tags are normalised
        ("+12025550125", Some("IT"), "template_it"),
        // no template for it: the destination's main language decides
        ("+33612345679", Some("ja"), "template_fr"),
        ("+12025550126", Some("ja"), "template"),
        ("+12025550127", None, "template"),
    ];
    for (phone, language, field) in cases {
        let mut body = smscx_example(phone);
        if let Some(l) = language {
            body["language"] = json!(l);
        }
        let (status, otp) = s.create(body.clone()).await;
        assert_eq!(status, 201, "{otp}");
        let sms = s
            .dispatcher
            .sms_for(otp["otpId"].as_str().unwrap())
            .unwrap();
        assert_eq!(as_template(&sms.text), body[field], "{phone} {language:?}");
    }
    s.stop().await;
}
