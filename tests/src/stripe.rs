//! A stand-in for Stripe's API on loopback: it answers checkouts and refunds as Stripe does
//! (one id per call) and keeps every form it received, so tests see what the server asked.
//! Checkout sessions are open until expired, or completed by [`FakeStripe::complete`] (a payer
//! who paid); expiring a completed one is refused, as Stripe refuses it.
//! Events come the other way, signed with [`signed_event`].

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub const WEBHOOK_SECRET: &str = "whsec_test";
pub const API_KEY: &str = "sk_test_spaces";

/// Every call: its path and its form fields.
pub type Calls = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// The state of each checkout session that is not open: `expired` or `complete`.
type Sessions = Arc<Mutex<std::collections::HashMap<String, &'static str>>>;

pub struct FakeStripe {
    pub base: String,
    pub calls: Calls,
    sessions: Sessions,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let calls: Calls = Arc::default();
        let handler = |axum::extract::State(calls): axum::extract::State<Calls>,
                       uri: axum::http::Uri,
                       axum::Form(form): axum::Form<Vec<(String, String)>>| async move {
            let mut all = calls.lock().unwrap();
            all.push((uri.path().to_owned(), form));
            let n = all.len();
            let body = if uri.path() == "/v1/refunds" {
                json!({ "id": format!("re_test_{n}"), "object": "refund" })
            } else {
                json!({ "id": format!("cs_test_{n}"), "url": format!("https://checkout.stripe.test/c/cs_test_{n}") })
            };
            axum::Json(body)
        };
        let sessions: Sessions = Arc::default();
        let (calls2, sessions2) = (calls.clone(), sessions.clone());
        let expire = move |axum::extract::Path(id): axum::extract::Path<String>| async move {
            calls2
                .lock()
                .unwrap()
                .push((format!("/v1/checkout/sessions/{id}/expire"), vec![]));
            let mut all = sessions2.lock().unwrap();
            match all.get(&id).copied() {
                None => {
                    all.insert(id.clone(), "expired");
                    (
                        axum::http::StatusCode::OK,
                        axum::Json(json!({ "id": id, "status": "expired" })),
                    )
                }
                Some(_) => (
                    axum::http::StatusCode::BAD_REQUEST,
                    axum::Json(
                        json!({ "error": { "message": "Only Checkout Sessions with a status in [\"open\"] can be expired." } }),
                    ),
                ),
            }
        };
        let sessions3 = sessions.clone();
        let status = move |axum::extract::Path(id): axum::extract::Path<String>| async move {
            let state = sessions3
                .lock()
                .unwrap()
                .get(&id)
                .copied()
                .unwrap_or("open");
            axum::Json(json!({ "id": id, "status": state }))
        };
        let app = axum::Router::new()
            .route("/v1/checkout/sessions", axum::routing::post(handler))
            .route("/v1/refunds", axum::routing::post(handler))
            .with_state(calls.clone())
            .route(
                "/v1/checkout/sessions/{id}/expire",
                axum::routing::post(expire),
            )
            .route("/v1/checkout/sessions/{id}", axum::routing::get(status));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{addr}"),
            calls,
            sessions,
        }
    }

    /// The payer completed this checkout (its webhook is the test's to deliver).
    pub fn complete(&self, checkout_id: &str) {
        self.sessions
            .lock()
            .unwrap()
            .insert(checkout_id.to_owned(), "complete");
    }

    /// The ids of the checkout sessions the server expired (or tried to), in order.
    pub fn expired(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(p, _)| {
                p.strip_prefix("/v1/checkout/sessions/")
                    .and_then(|rest| rest.strip_suffix("/expire"))
                    .map(str::to_owned)
            })
            .collect()
    }

    /// The form fields of the calls made to `path`, oldest first.
    pub fn forms(&self, path: &str) -> Vec<Vec<(String, String)>> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// One field of a form.
pub fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A `payment_intent.succeeded` event for a checkout whose form the server sent (its
/// metadata carried through, as Stripe does), and its `Stripe-Signature` header.
pub fn payment_succeeded(
    event_id: &str,
    intent: &str,
    checkout: &[(String, String)],
    at: chrono::DateTime<chrono::Utc>,
) -> (Vec<u8>, String) {
    let meta = |k: &str| field(checkout, &format!("payment_intent_data[metadata][{k}]"));
    let body = json!({
        "id": event_id, "object": "event", "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": intent, "object": "payment_intent",
            "amount_received": field(checkout, "line_items[0][price_data][unit_amount]")
                .and_then(|a| a.parse::<i64>().ok()),
            "currency": field(checkout, "line_items[0][price_data][currency]"),
            "metadata": { "space": meta("space"), "invoice": meta("invoice"), "purpose": meta("purpose") }
        } }
    });
    signed_event(&body, at)
}

/// The event's bytes and a signature made at `at` (the server's clock, which tests move) with
/// [`WEBHOOK_SECRET`].
pub fn signed_event(body: &Value, at: chrono::DateTime<chrono::Utc>) -> (Vec<u8>, String) {
    let bytes = body.to_string().into_bytes();
    let t = at.timestamp();
    let sig = spaces_billing::payments::stripe::sign(WEBHOOK_SECRET, t, &bytes);
    (bytes, sig)
}

/// Posts a signed event to the server's Stripe webhook, as Stripe does; the answer's status.
pub async fn deliver(app: &crate::TestApp, (body, sig): (Vec<u8>, String)) -> reqwest::StatusCode {
    app.client
        .post(format!("{}/webhooks/stripe", app.base))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}
