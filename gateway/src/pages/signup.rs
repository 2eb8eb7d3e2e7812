//! The self-registration pages: the form a learner registers with, and the page the emailed
//! link opens to choose a password and create the account.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use spaces_tenants::auth::registration;
use spaces_tenants::spaces::links::{CONFIRM_REGISTRATION_PATH, FORGOT_PASSWORD_PATH};
use spaces_tenants::{Error, TenantTx};

use super::texts::{self, Page, Refusal};
use super::{Flow, View, client, failure, refusal, render, set_password, show_form, space_of};
use crate::app::AppState;

pub(super) async fn confirm_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show_form(&state, &headers, Flow::Registration, &q).await
}

pub(super) async fn confirm_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    set_password(&state, &headers, Flow::Registration, &f).await
}

pub(super) async fn register_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response {
    let space = match space_of(&state, &headers, Page::Register).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let setting = match TenantTx::begin(&state.deps.db, space.id).await {
        Ok(tx) => {
            let s = registration::settings(&tx).await;
            let _ = tx.rollback().await;
            s
        }
        Err(e) => Err(e),
    };
    match setting {
        Ok(s) if s.mode == registration::Mode::Off => render(
            &space,
            Page::Register,
            StatusCode::FORBIDDEN,
            View {
                error: Some(texts::register_refusal(space.locale, false)),
                ..View::default()
            },
        ),
        Ok(_) => render(
            &space,
            Page::Register,
            StatusCode::OK,
            View {
                form: Some("register"),
                ..View::default()
            },
        ),
        Err(e) => failure(&e),
    }
}

/// Registers from the form, as `register` does: the same page for a new and a known email.
pub(super) async fn register_submit(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let space = match space_of(&state, &headers, Page::Register).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let d = &state.deps;
    let (confirm_url, forgot_url) = (
        d.links
            .page(&d.links.slug_host(&space.slug), CONFIRM_REGISTRATION_PATH),
        d.links
            .page(&d.links.slug_host(&space.slug), FORGOT_PASSWORD_PATH),
    );
    let tx = match TenantTx::begin(&d.db, space.id).await {
        Ok(tx) => tx,
        Err(e) => return failure(&e),
    };
    let asked = registration::register(
        &tx,
        d.limiter.as_ref(),
        d.clock.now(),
        registration::NewRegistration {
            email: field("email"),
            given_name: field("givenName"),
            family_name: field("familyName"),
        },
        &client(&state, &headers, peer),
        registration::Pages {
            confirm_url: &confirm_url,
            forgot_url: &forgot_url,
        },
    )
    .await;
    let again = |status, error| {
        render(
            &space,
            Page::Register,
            status,
            View {
                error: Some(error),
                form: Some("register"),
                ..View::default()
            },
        )
    };
    match asked {
        Ok(()) => match tx.commit().await {
            Ok(()) => render(
                &space,
                Page::Register,
                StatusCode::OK,
                View {
                    done: true,
                    ..View::default()
                },
            ),
            Err(e) => failure(&e),
        },
        Err(e) => {
            let _ = tx.rollback().await;
            match e {
                Error::Invalid { field, .. } => again(
                    StatusCode::BAD_REQUEST,
                    texts::register_invalid(space.locale, &field),
                ),
                Error::Refused { code, .. } => again(
                    StatusCode::FORBIDDEN,
                    texts::register_refusal(space.locale, code == "EMAIL_DOMAIN_NOT_ALLOWED"),
                ),
                Error::RateLimited { .. } => refusal(&space, Page::Register, Refusal::RateLimited),
                e => failure(&e),
            }
        }
    }
}
