//! `POST /webhooks/stripe`: the payment provider's one platform endpoint. The event is verified
//! (400 and nothing kept when it is not), de-duplicated, and acted on in the space its metadata
//! names (`spaces_billing::payments::webhooks`). Answers: 200 when the event is taken (applied,
//! parked, ignored or a replay), 400 when it does not verify, 503 when the database is away (the
//! provider sends it again later), 404 when no webhook secret is configured.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use spaces_billing::payments::provider::PaymentProvider;
use spaces_billing::payments::stripe::Stripe;
use spaces_billing::payments::webhooks::{self, Payments};
use spaces_tenants::Error;

use crate::app::AppState;
use crate::config::Config;

/// Stripe's events are a few KiB; this leaves room and no more.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The provider, when any Stripe setting is given.
pub fn provider(config: &Config) -> anyhow::Result<Option<Arc<dyn PaymentProvider>>> {
    if config.stripe_webhook_secrets.is_empty() && config.stripe_api_key.is_none() {
        return Ok(None);
    }
    let stripe = Stripe::new(
        &config.stripe_api_base,
        config.stripe_api_key.clone(),
        config.stripe_webhook_secrets.clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Some(Arc::new(stripe)))
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn stripe(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(provider) = state
        .payments
        .as_ref()
        .filter(|_| !state.config.stripe_webhook_secrets.is_empty())
    else {
        return answer(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "webhooks are not configured" }),
        );
    };
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({ "error": format!("an event is at most {MAX_BODY_BYTES} bytes") }),
        );
    };
    let now = state.deps.clock.now();
    match webhooks::receive(
        &state.deps.db,
        provider.as_ref(),
        &Payments,
        &headers,
        &body,
        now,
    )
    .await
    {
        Ok(outcome) => answer(
            StatusCode::OK,
            serde_json::json!({ "received": true, "outcome": outcome.as_str() }),
        ),
        Err(Error::Invalid { field, reason }) => {
            tracing::info!(%field, %reason, "a webhook refused");
            answer(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": format!("{field}: {reason}") }),
            )
        }
        Err(e)
            if matches!(e, Error::Unavailable { .. })
                || matches!(&e, Error::Db(d) if spaces_tenants::kernel::error::is_connection_error(d)) =>
        {
            tracing::warn!(error = %e, "a webhook could not be handled now");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "error": "temporarily unavailable" }),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "a webhook failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": "internal error" }),
            )
        }
    }
}
