//! Stripe: webhooks signed in `Stripe-Signature` (`t=<unix time>,v1=<hex HMAC-SHA256 of
//! "t.body">`, several `v1` during a secret's rotation), checkouts and refunds over its REST API
//! (form bodies, bearer key) at a configurable base, so tests point it at a fake on loopback.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::Sha256;
use spaces_tenants::{Error, Result, TenantId};

use super::provider::{
    Checkout, CheckoutRequest, CheckoutState, Event, EventKind, Metadata, PaymentProvider,
};
use crate::{Currency, InvoiceId, Money};

/// How far a signature's timestamp may be from our clock, either way.
pub const TOLERANCE_SECS: i64 = 300;
pub const SIGNATURE_HEADER: &str = "stripe-signature";
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// How long a Stripe call may take before the caller hears it is unavailable.
const API_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

pub struct Stripe {
    client: reqwest::Client,
    api_base: String,
    api_key: Option<String>,
    /// Webhook signing secrets (`whsec_..`): any one verifies, so a rotation lists two.
    secrets: Vec<String>,
}

impl Stripe {
    pub fn new(api_base: &str, api_key: Option<String>, secrets: Vec<String>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(API_TIMEOUT)
            .build()
            .map_err(|e| Error::Internal(format!("building the Stripe client: {e}")))?;
        Ok(Self {
            client,
            api_base: api_base.trim_end_matches('/').to_owned(),
            api_key,
            secrets,
        })
    }

    /// Whether webhooks can be verified at all (some secret is configured).
    pub fn receives_webhooks(&self) -> bool {
        !self.secrets.is_empty()
    }

    async fn post_form(&self, path: &str, form: &[(String, String)]) -> Result<Value> {
        let req = self
            .client
            .post(format!("{}{path}", self.api_base))
            .form(form);
        self.send(path, req).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let req = self.client.get(format!("{}{path}", self.api_base));
        self.send(path, req).await
    }

    async fn send(&self, path: &str, req: reqwest::RequestBuilder) -> Result<Value> {
        let key = self
            .api_key
            .as_deref()
            .ok_or_else(|| Error::Internal("SPACES_STRIPE_API_KEY is not set".into()))?;
        let resp = req.bearer_auth(key).send().await.map_err(|e| {
            tracing::warn!(error = %e, path, "Stripe unreachable");
            Error::Unavailable {
                retry_after_secs: 30,
            }
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_server_error() || status.as_u16() == 429 {
            tracing::warn!(%status, path, "Stripe unavailable");
            return Err(Error::Unavailable {
                retry_after_secs: 30,
            });
        }
        if !status.is_success() {
            let message = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(Error::Internal(format!(
                "Stripe refused {path}: {status}: {message}"
            )));
        }
        Ok(body)
    }
}

fn metadata_form(prefix: &str, m: &Metadata, form: &mut Vec<(String, String)>) {
    if let Some(s) = m.space {
        form.push((format!("{prefix}[space]"), s.to_string()));
    }
    if let Some(i) = m.invoice {
        form.push((format!("{prefix}[invoice]"), i.to_string()));
    }
    if let Some(p) = &m.purpose {
        form.push((format!("{prefix}[purpose]"), p.clone()));
    }
}

fn text(v: &Value, field: &str) -> Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Internal(format!("Stripe's answer has no {field}")))
}

#[async_trait::async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_checkout(&self, r: CheckoutRequest) -> Result<Checkout> {
        if !r.amount.is_positive() {
            return Err(Error::Invalid {
                field: "amount".into(),
                reason: "a checkout is for a positive amount".into(),
            });
        }
        let mut form: Vec<(String, String)> = vec![
            ("mode".into(), "payment".into()),
            ("success_url".into(), r.success_url),
            ("cancel_url".into(), r.cancel_url),
            ("line_items[0][quantity]".into(), "1".into()),
            (
                "line_items[0][price_data][currency]".into(),
                r.amount.currency().code().to_ascii_lowercase(),
            ),
            (
                "line_items[0][price_data][unit_amount]".into(),
                r.amount.amount_minor().to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]".into(),
                r.description,
            ),
        ];
        if let Some(at) = r.expires_at {
            form.push(("expires_at".into(), at.timestamp().to_string()));
        }
        // On the session and on its payment intent, so every event of the payment names them.
        metadata_form("metadata", &r.metadata, &mut form);
        metadata_form("payment_intent_data[metadata]", &r.metadata, &mut form);
        let v = self.post_form("/v1/checkout/sessions", &form).await?;
        Ok(Checkout {
            id: text(&v, "id")?,
            url: text(&v, "url")?,
        })
    }

    async fn refund(&self, payment_external_id: &str, amount: Money) -> Result<String> {
        if !amount.is_positive() {
            return Err(Error::Invalid {
                field: "amount".into(),
                reason: "a refund is of a positive amount".into(),
            });
        }
        let form = vec![
            ("payment_intent".into(), payment_external_id.to_owned()),
            ("amount".into(), amount.amount_minor().to_string()),
        ];
        let v = self.post_form("/v1/refunds", &form).await?;
        text(&v, "id")
    }

    async fn expire_checkout(&self, checkout_id: &str) -> Result<CheckoutState> {
        // The id goes into a path: only what Stripe's ids are made of.
        if checkout_id.is_empty()
            || !checkout_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::Internal(format!(
                "not a checkout id: {checkout_id:?}"
            )));
        }
        let session = format!("/v1/checkout/sessions/{checkout_id}");
        match self.post_form(&format!("{session}/expire"), &[]).await {
            Ok(_) => Ok(CheckoutState::Expired),
            // Stripe refuses to expire a session that is no longer open: ask what it is.
            Err(Error::Internal(refused)) => match self.get(&session).await?["status"].as_str() {
                Some("expired") => Ok(CheckoutState::Expired),
                Some("complete") => Ok(CheckoutState::Complete),
                _ => Err(Error::Internal(refused)),
            },
            Err(e) => Err(e),
        }
    }

    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Event> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid("Stripe-Signature", "missing"))?;
        verify_signature(header, body, &self.secrets, now)?;
        parse_event(body)
    }
}

fn invalid(field: &'static str, reason: &'static str) -> Error {
    Error::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks a `Stripe-Signature` header: a timestamp within the tolerance of `now`, and some
/// `v1` signature that one of `secrets` made over `t.body` (compared in constant time).
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secrets: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut t = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => signatures.extend(hex(v)),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| invalid("Stripe-Signature", "no t= timestamp"))?;
    let at: i64 = t
        .parse()
        .map_err(|_| invalid("Stripe-Signature", "the timestamp is not a number"))?;
    if (now.timestamp() - at).abs() > TOLERANCE_SECS {
        return Err(invalid(
            "Stripe-Signature",
            "the timestamp is outside the 5-minute tolerance",
        ));
    }
    for secret in secrets {
        for sig in &signatures {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
                continue;
            };
            mac.update(t.as_bytes());
            mac.update(b".");
            mac.update(body);
            if mac.verify_slice(sig).is_ok() {
                return Ok(());
            }
        }
    }
    Err(invalid(
        "Stripe-Signature",
        "no signature matches a configured secret",
    ))
}

/// The `Stripe-Signature` header Stripe would send for `body` at `t` (tests and tools).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return format!("t={t}"),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={sig}")
}

fn metadata(obj: &Value) -> Metadata {
    let m = &obj["metadata"];
    Metadata {
        space: m["space"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(TenantId::from_uuid),
        invoice: m["invoice"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(InvoiceId::from_uuid),
        purpose: m["purpose"].as_str().map(str::to_owned),
    }
}

fn money(obj: &Value, field: &'static str) -> Result<Money> {
    let amount = obj[field]
        .as_i64()
        .ok_or_else(|| invalid("body", "an amount is missing"))?;
    let code = obj["currency"].as_str().unwrap_or("").to_ascii_uppercase();
    let currency = Currency::parse("currency", &code)
        .map_err(|_| invalid("body", "the currency is not one we know"))?;
    Ok(Money::new(amount, currency))
}

/// The event in a verified body.
pub fn parse_event(body: &[u8]) -> Result<Event> {
    let v: Value = serde_json::from_slice(body).map_err(|_| invalid("body", "not a JSON event"))?;
    let id = v["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("body", "the event has no id"))?
        .to_owned();
    let kind_name = v["type"].as_str().unwrap_or("").to_owned();
    let obj = &v["data"]["object"];
    let kind = match kind_name.as_str() {
        "payment_intent.succeeded" => EventKind::PaymentSucceeded {
            external_id: obj["id"]
                .as_str()
                .ok_or_else(|| invalid("body", "the payment intent has no id"))?
                .to_owned(),
            amount: money(obj, "amount_received")?,
            metadata: metadata(obj),
        },
        // A session paid by card; one paid later (bank debit) reports again when it settles.
        "checkout.session.completed" if obj["payment_status"] == "paid" => {
            match obj["payment_intent"].as_str() {
                Some(pi) => EventKind::PaymentSucceeded {
                    external_id: pi.to_owned(),
                    amount: money(obj, "amount_total")?,
                    metadata: metadata(obj),
                },
                None => EventKind::Other,
            }
        }
        "charge.refunded" => {
            let charge = obj["id"]
                .as_str()
                .ok_or_else(|| invalid("body", "the charge has no id"))?;
            let total_refunded = money(obj, "amount_refunded")?;
            EventKind::RefundSucceeded {
                payment_external_id: obj["payment_intent"].as_str().unwrap_or(charge).to_owned(),
                refund_id: format!("{charge}/refunded/{}", total_refunded.amount_minor()),
                total_refunded,
                metadata: metadata(obj),
            }
        }
        _ => EventKind::Other,
    };
    Ok(Event {
        id,
        kind_name,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_current";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a time")
    }

    fn body() -> Vec<u8> {
        serde_json::json!({
            "id": "evt_1", "type": "payment_intent.succeeded",
            "data": { "object": { "id": "pi_1", "amount_received": 12_345, "currency": "eur",
                "metadata": { "space": "0190f1a2-0000-7000-8000-000000000001", "invoice": "0190f1a2-0000-7000-8000-000000000002" } } }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_signature_by_any_configured_secret_within_five_minutes_verifies() {
        let b = body();
        let secrets = vec!["whsec_old".to_owned(), SECRET.to_owned()];
        for skew in [-300, -1, 0, 1, 300] {
            let h = sign(SECRET, now().timestamp() + skew, &b);
            assert!(verify_signature(&h, &b, &secrets, now()).is_ok(), "{skew}");
        }
        // During a rotation Stripe sends one v1 per secret; any match will do.
        let old = sign("whsec_old", now().timestamp(), &b);
        let new = sign("whsec_other", now().timestamp(), &b);
        let both = format!("{new},{}", old.split_once(',').expect("v1").1);
        assert!(verify_signature(&both, &b, &secrets, now()).is_ok());
    }

    #[test]
    fn stale_tampered_wrong_secret_and_malformed_signatures_are_refused() {
        let b = body();
        let secrets = vec![SECRET.to_owned()];
        let t = now().timestamp();
        let refused = |h: &str, body: &[u8]| match verify_signature(h, body, &secrets, now()) {
            Err(Error::Invalid { field, .. }) => field == "Stripe-Signature",
            _ => false,
        };
        assert!(refused(&sign(SECRET, t - 301, &b), &b), "stale");
        assert!(refused(&sign(SECRET, t + 301, &b), &b), "from the future");
        assert!(refused(&sign("whsec_wrong", t, &b), &b), "wrong secret");
        let mut tampered = b.clone();
        tampered[10] ^= 1;
        assert!(refused(&sign(SECRET, t, &b), &tampered), "tampered body");
        assert!(refused(&format!("t={t}"), &b), "no v1");
        assert!(refused("v1=00", &b), "no t");
        assert!(refused(&format!("t={t},v1=zz"), &b), "not hex");
        assert!(refused("", &b));
    }

    #[test]
    fn events_map_to_what_the_handler_does() {
        let e = parse_event(&body()).expect("parsed");
        assert_eq!(e.id, "evt_1");
        match e.kind {
            EventKind::PaymentSucceeded {
                external_id,
                amount,
                metadata,
            } => {
                assert_eq!(external_id, "pi_1");
                assert_eq!(amount, Money::new(12_345, Currency::EUR));
                assert_eq!(
                    metadata.space.map(|s| s.to_string()).as_deref(),
                    Some("0190f1a2-0000-7000-8000-000000000001")
                );
                assert!(metadata.invoice.is_some());
            }
            k => panic!("{k:?}"),
        }
        let refund = serde_json::json!({ "id": "evt_2", "type": "charge.refunded", "data": { "object": {
            "id": "ch_1", "payment_intent": "pi_1", "amount_refunded": 500, "currency": "eur", "metadata": {} } } });
        match parse_event(refund.to_string().as_bytes())
            .expect("parsed")
            .kind
        {
            EventKind::RefundSucceeded {
                payment_external_id,
                total_refunded,
                refund_id,
                ..
            } => {
                assert_eq!(payment_external_id, "pi_1");
                assert_eq!(total_refunded, Money::new(500, Currency::EUR));
                assert_eq!(refund_id, "ch_1/refunded/500");
            }
            k => panic!("{k:?}"),
        }
        let unpaid = serde_json::json!({ "id": "evt_3", "type": "checkout.session.completed", "data": { "object": {
            "id": "cs_1", "payment_intent": "pi_1", "payment_status": "unpaid", "amount_total": 500, "currency": "eur" } } });
        assert_eq!(
            parse_event(unpaid.to_string().as_bytes())
                .expect("parsed")
                .kind,
            EventKind::Other
        );
        let other = serde_json::json!({ "id": "evt_4", "type": "customer.created", "data": { "object": {} } });
        assert_eq!(
            parse_event(other.to_string().as_bytes())
                .expect("parsed")
                .kind,
            EventKind::Other
        );
        assert!(parse_event(b"not json").is_err());
        assert!(parse_event(br#"{"type":"x"}"#).is_err());
    }

    /// A fake Stripe on loopback: records each call (path, bearer, form) and answers as Stripe
    /// does, or with `fail` as the status.
    async fn fake(
        fail: Option<u16>,
    ) -> (
        String,
        std::sync::Arc<std::sync::Mutex<Vec<(String, String, Vec<(String, String)>)>>>,
    ) {
        use axum::extract::State;
        use axum::http::{HeaderMap as H, StatusCode, Uri};
        type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Vec<(String, String)>)>>>;
        let calls: Calls = Default::default();
        let handler =
            move |State(calls): State<Calls>,
                  uri: Uri,
                  headers: H,
                  axum::Form(form): axum::Form<Vec<(String, String)>>| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                calls
                    .lock()
                    .expect("calls")
                    .push((uri.path().to_owned(), auth, form));
                if let Some(code) = fail {
                    let status = StatusCode::from_u16(code).expect("status");
                    return (
                        status,
                        axum::Json(serde_json::json!({ "error": { "message": "nope" } })),
                    );
                }
                let body = if uri.path() == "/v1/refunds" {
                    serde_json::json!({ "id": "re_test_1", "object": "refund" })
                } else {
                    serde_json::json!({ "id": "cs_test_1", "url": "https://checkout.stripe.test/c/cs_test_1" })
                };
                (StatusCode::OK, axum::Json(body))
            };
        let app = axum::Router::new()
            .route("/v1/checkout/sessions", axum::routing::post(handler))
            .route("/v1/refunds", axum::routing::post(handler))
            .with_state(calls.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), calls)
    }

    fn find<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
        form.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn checkouts_and_refunds_go_to_the_configured_api_as_forms() {
        let (base, calls) = fake(None).await;
        let stripe = Stripe::new(&base, Some("sk_test_123".into()), vec![]).expect("client");
        let space = TenantId::new();
        let invoice = InvoiceId::new();
        let c = stripe
            .create_checkout(CheckoutRequest {
                amount: Money::new(45_000, Currency::EUR),
                description: "Invoice OCAPIAT-F-2026-000001".into(),
                metadata: Metadata {
                    space: Some(space),
                    invoice: Some(invoice),
                    purpose: None,
                },
                success_url: "https://campus.example.org/paid".into(),
                cancel_url: "https://campus.example.org/cancel".into(),
                expires_at: None,
            })
            .await
            .expect("checkout");
        assert_eq!(c.id, "cs_test_1");
        assert_eq!(c.url, "https://checkout.stripe.test/c/cs_test_1");
        let re = stripe
            .refund("pi_1", Money::new(500, Currency::EUR))
            .await
            .expect("refund");
        assert_eq!(re, "re_test_1");
        let calls = calls.lock().expect("calls").clone();
        assert_eq!(calls.len(), 2);
        let (path, auth, form) = &calls[0];
        assert_eq!(path, "/v1/checkout/sessions");
        assert_eq!(auth, "Bearer sk_test_123");
        assert_eq!(find(form, "mode"), Some("payment"));
        assert_eq!(
            find(form, "line_items[0][price_data][currency]"),
            Some("eur")
        );
        assert_eq!(
            find(form, "line_items[0][price_data][unit_amount]"),
            Some("45000")
        );
        let space_s = space.to_string();
        let invoice_s = invoice.to_string();
        assert_eq!(find(form, "metadata[space]"), Some(space_s.as_str()));
        assert_eq!(find(form, "metadata[invoice]"), Some(invoice_s.as_str()));
        assert_eq!(
            find(form, "payment_intent_data[metadata][space]"),
            Some(space_s.as_str())
        );
        let (path, _, form) = &calls[1];
        assert_eq!(path, "/v1/refunds");
        assert_eq!(find(form, "payment_intent"), Some("pi_1"));
        assert_eq!(find(form, "amount"), Some("500"));
    }

    #[tokio::test]
    async fn an_unavailable_api_is_unavailable_and_a_refusal_is_internal() {
        let (base, _) = fake(Some(503)).await;
        let stripe = Stripe::new(&base, Some("sk".into()), vec![]).expect("client");
        assert!(matches!(
            stripe.refund("pi_1", Money::new(1, Currency::EUR)).await,
            Err(Error::Unavailable { .. })
        ));
        let (base, _) = fake(Some(400)).await;
        let stripe = Stripe::new(&base, Some("sk".into()), vec![]).expect("client");
        assert!(matches!(
            stripe.refund("pi_1", Money::new(1, Currency::EUR)).await,
            Err(Error::Internal(_))
        ));
        // Nothing listens here: unavailable, not a hang or a panic.
        let stripe = Stripe::new("http://127.0.0.1:9", Some("sk".into()), vec![]).expect("client");
        assert!(matches!(
            stripe.refund("pi_1", Money::new(1, Currency::EUR)).await,
            Err(Error::Unavailable { .. })
        ));
        let keyless = Stripe::new("http://127.0.0.1:9", None, vec![]).expect("client");
        assert!(
            keyless
                .refund("pi_1", Money::new(1, Currency::EUR))
                .await
                .is_err()
        );
        assert!(
            keyless
                .refund("pi_1", Money::new(0, Currency::EUR))
                .await
                .is_err()
        );
    }
}
