//! The small pages that emailed links open, served on the space's own host: accept an
//! invitation, reset a password, ask for a reset, confirm a self-registration. Server-rendered, in the space's language and
//! branding, working without JavaScript; the template and the stylesheet are in the binary.
//!
//! A token arrives in the query string and travels on in a hidden form field. Nothing logs it:
//! the request span records the path only, and these handlers log no request data. Responses
//! forbid caching and referrers, so the link leaves no trace in a proxy or in a logo's host.
//!
//! Setting a password reads the token in one short transaction, hashes with none open, then
//! claims the token in a second transaction with a conditional update: a link used, replaced or
//! expired meanwhile is refused there.

mod signup;
pub mod texts;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
use spaces_tenants::auth::invitations::{self, TokenState};
use spaces_tenants::auth::{registration, reset};
use spaces_tenants::spaces::links::{
    ACCEPT_INVITATION_PATH, CONFIRM_REGISTRATION_PATH, RESET_PASSWORD_PATH,
};
use spaces_tenants::spaces::{Space, SpaceStatus};
use spaces_tenants::values::Password;
use spaces_tenants::{Error, TenantTx};

use crate::app::AppState;
use crate::resolve::{Addressed, resolve};
use texts::{Page, Refusal};

pub use spaces_tenants::spaces::links::FORGOT_PASSWORD_PATH;
pub const REGISTER_PATH: &str = "/register";
const STYLE_PATH: &str = "/pages/style.css";
const STYLE: &str = include_str!("style.css");

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // `.html` turns on HTML escaping of every value.
    if let Err(e) = env.add_template("page.html", include_str!("page.html")) {
        tracing::error!(error = %e, "the page template does not parse");
    }
    env
});

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            ACCEPT_INVITATION_PATH,
            get(invitation_form).post(invitation_submit),
        )
        .route(RESET_PASSWORD_PATH, get(reset_form).post(reset_submit))
        .route(FORGOT_PASSWORD_PATH, get(forgot_form).post(forgot_submit))
        .route(
            CONFIRM_REGISTRATION_PATH,
            get(signup::confirm_form).post(signup::confirm_submit),
        )
        .route(
            REGISTER_PATH,
            get(signup::register_form).post(signup::register_submit),
        )
        .route(STYLE_PATH, get(style))
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// Which token a page takes: each page accepts only its own kind.
#[derive(Clone, Copy)]
enum Flow {
    Invitation,
    Reset,
    Registration,
}

impl Flow {
    fn page(self) -> Page {
        match self {
            Flow::Invitation => Page::Invitation,
            Flow::Reset => Page::Reset,
            Flow::Registration => Page::Registration,
        }
    }

    /// Why the token cannot be used now, or none when it can.
    async fn check(
        self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        token: &str,
    ) -> spaces_tenants::Result<Option<Refusal>> {
        if token.is_empty() || token.len() > 100 {
            return Ok(Some(Refusal::Unknown));
        }
        Ok(match self {
            Flow::Invitation => refusal_of(invitations::check(tx, token).await?),
            Flow::Reset => refusal_of(reset::check(tx, token).await?),
            Flow::Registration => match registration::check(tx, now, token).await? {
                registration::TokenState::Valid => None,
                registration::TokenState::Expired => Some(Refusal::Expired),
                registration::TokenState::Used => Some(Refusal::Used),
                registration::TokenState::Unknown => Some(Refusal::Unknown),
            },
        })
    }

    async fn complete(
        self,
        tx: &TenantTx,
        now: DateTime<Utc>,
        token: &str,
        hash: String,
    ) -> spaces_tenants::Result<()> {
        match self {
            Flow::Invitation => invitations::complete(tx, token, hash).await.map(|_| ()),
            Flow::Reset => reset::complete(tx, token, hash).await.map(|_| ()),
            Flow::Registration => registration::complete(tx, now, token, hash)
                .await
                .map(|_| ()),
        }
    }
}

/// What one page shows.
#[derive(Default)]
struct View<'a> {
    error: Option<&'a str>,
    text: Option<&'a str>,
    /// "password", "email", "register" or none.
    form: Option<&'static str>,
    token: Option<&'a str>,
    done: bool,
    forgot: bool,
}

fn render(space: &Space, page: Page, status: StatusCode, v: View<'_>) -> Response {
    let locale = space.locale;
    let t = texts::page(locale, page);
    let b = &space.branding;
    let ctx = context! {
        lang => locale.as_str(),
        title => if v.done { t.done_title } else { t.title },
        space => &space.display_name,
        logo => &b.logo_url,
        primary => b.primary_colour.as_deref().unwrap_or("#1f4e79"),
        accent => b.accent_colour.as_deref().unwrap_or("#f39200"),
        error => v.error,
        text => v.text.or(if v.done { Some(t.done) } else if v.form.is_some() { Some(t.intro) } else { None }),
        form => v.form,
        action => match page {
            Page::Invitation => ACCEPT_INVITATION_PATH,
            Page::Registration => CONFIRM_REGISTRATION_PATH,
            _ => RESET_PASSWORD_PATH,
        },
        token => v.token,
        first_label => t.password,
        second_label => t.confirm,
        third_label => texts::family_name(locale),
        submit => t.submit,
        forgot => if v.forgot { Some(texts::forgot_link(locale)) } else { None },
        support => &b.support_email,
        support_text => texts::support(locale),
    };
    match TEMPLATES
        .get_template("page.html")
        .and_then(|tpl| tpl.render(ctx))
    {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".into(),
            )
        }
    }
}

/// Every page: never cached, never sent as a referrer, never framed, no script.
fn html_response(status: StatusCode, html: String) -> Response {
    html_page(
        status,
        html,
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src https:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// A server-rendered page with the headers every page carries and its own `csp`.
pub(crate) fn html_page(status: StatusCode, html: String, csp: &'static str) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, csp),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

fn refusal(space: &Space, page: Page, r: Refusal) -> Response {
    let status = match r {
        Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    render(
        space,
        page,
        status,
        View {
            error: Some(texts::refusal(space.locale, r, page)),
            forgot: match page {
                Page::Invitation => false,
                Page::Registration => matches!(r, Refusal::Registered),
                _ => matches!(r, Refusal::Expired | Refusal::Used),
            },
            ..View::default()
        },
    )
}

fn not_found() -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        "<!doctype html><html lang=\"en\"><title>Not found</title><p>No space is served here.</p></html>"
            .into(),
    )
}

fn failure(e: &Error) -> Response {
    if matches!(e, Error::Db(_) | Error::Internal(_)) {
        tracing::error!(error = %e, "a page could not be served");
    }
    let mut r = html_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "<!doctype html><html lang=\"en\"><title>Unavailable</title><p>Please try again in a moment.</p></html>"
            .into(),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// The active space this host serves, or the page to answer instead.
async fn space_of(state: &AppState, headers: &HeaderMap, page: Page) -> Result<Space, Response> {
    match resolve(&state.deps, headers).await {
        Ok(Addressed::Space(s)) if s.status == SpaceStatus::Active => Ok(s),
        Ok(Addressed::Space(s)) => Err(refusal(&s, page, Refusal::Unavailable)),
        Ok(_) => Err(not_found()),
        Err(e) => Err(failure(&e)),
    }
}

fn refusal_of(state: TokenState) -> Option<Refusal> {
    match state {
        TokenState::Valid(_) => None,
        TokenState::Expired => Some(Refusal::Expired),
        TokenState::Used => Some(Refusal::Used),
        TokenState::Unknown => Some(Refusal::Unknown),
    }
}

/// Reads what the token is worth in its own short transaction.
async fn token_state(
    state: &AppState,
    space: &Space,
    flow: Flow,
    token: &str,
) -> spaces_tenants::Result<Option<Refusal>> {
    let tx = TenantTx::begin(&state.deps.db, space.id).await?;
    let st = flow.check(&tx, state.deps.clock.now(), token).await;
    tx.rollback().await?;
    st
}

async fn show_form(
    state: &AppState,
    headers: &HeaderMap,
    flow: Flow,
    query: &HashMap<String, String>,
) -> Response {
    let space = match space_of(state, headers, flow.page()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = query.get("token").map(String::as_str).unwrap_or("");
    match token_state(state, &space, flow, token).await {
        Ok(st) => match st {
            Some(r) => refusal(&space, flow.page(), r),
            None => render(
                &space,
                flow.page(),
                StatusCode::OK,
                View {
                    form: Some("password"),
                    token: Some(token),
                    ..View::default()
                },
            ),
        },
        Err(e) => failure(&e),
    }
}

async fn set_password(
    state: &AppState,
    headers: &HeaderMap,
    flow: Flow,
    form: &HashMap<String, String>,
) -> Response {
    let space = match space_of(state, headers, flow.page()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let token = field("token");
    let again = |r: Refusal| {
        render(
            &space,
            flow.page(),
            StatusCode::BAD_REQUEST,
            View {
                error: Some(texts::refusal(space.locale, r, flow.page())),
                form: Some("password"),
                token: Some(token),
                ..View::default()
            },
        )
    };
    match token_state(state, &space, flow, token).await {
        Ok(None) => {}
        Ok(Some(r)) => return refusal(&space, flow.page(), r),
        Err(e) => return failure(&e),
    }
    if field("password") != field("confirm") {
        return again(Refusal::Mismatch);
    }
    let Ok(pw) = Password::parse("password", field("password")) else {
        return again(Refusal::TooShort);
    };
    // No transaction is open while the password hashes.
    let hash = match state.deps.hasher.hash(pw).await {
        Ok(h) => h,
        Err(Error::RateLimited { .. }) => {
            return refusal(&space, flow.page(), Refusal::RateLimited);
        }
        Err(e) => return failure(&e),
    };
    let tx = match TenantTx::begin(&state.deps.db, space.id).await {
        Ok(tx) => tx,
        Err(e) => return failure(&e),
    };
    match flow
        .complete(&tx, state.deps.clock.now(), token, hash)
        .await
    {
        Ok(()) => match tx.commit().await {
            Ok(()) => render(
                &space,
                flow.page(),
                StatusCode::OK,
                View {
                    done: true,
                    ..View::default()
                },
            ),
            Err(e) => failure(&e),
        },
        Err(Error::Invalid { .. }) => {
            let _ = tx.rollback().await;
            // Used, replaced or expired since it was read: say which, as a fresh read finds it.
            match token_state(state, &space, flow, token).await {
                Ok(st) => refusal(&space, flow.page(), st.unwrap_or(Refusal::Used)),
                Err(e) => failure(&e),
            }
        }
        // A registration whose email got an account meanwhile, or that the space's setting no
        // longer admits.
        Err(Error::Conflict { .. }) => {
            let _ = tx.rollback().await;
            refusal(&space, flow.page(), Refusal::Registered)
        }
        Err(Error::Refused { .. }) => {
            let _ = tx.rollback().await;
            refusal(&space, flow.page(), Refusal::Closed)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            failure(&e)
        }
    }
}

async fn invitation_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show_form(&state, &headers, Flow::Invitation, &q).await
}

async fn invitation_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    set_password(&state, &headers, Flow::Invitation, &f).await
}

async fn reset_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show_form(&state, &headers, Flow::Reset, &q).await
}

async fn reset_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    set_password(&state, &headers, Flow::Reset, &f).await
}

async fn forgot_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match space_of(&state, &headers, Page::Forgot).await {
        Ok(space) => render(
            &space,
            Page::Forgot,
            StatusCode::OK,
            View {
                form: Some("email"),
                ..View::default()
            },
        ),
        Err(r) => r,
    }
}

/// The client's address for the request limits, as the GraphQL endpoint reads it.
fn client(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    crate::client_addr::client_address(&state.config.trusted_proxies, headers, Some(peer))
}

async fn forgot_submit(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let space = match space_of(&state, &headers, Page::Forgot).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let email = f.get("email").map(String::as_str).unwrap_or("");
    let d = &state.deps;
    let tx = match TenantTx::begin(&d.db, space.id).await {
        Ok(tx) => tx,
        Err(e) => return failure(&e),
    };
    let asked = reset::request(
        &tx,
        d.limiter.as_ref(),
        email,
        &client(&state, &headers, peer),
        &d.reset_url(&space.slug),
    )
    .await;
    match asked {
        Ok(()) => match tx.commit().await {
            Ok(()) => render(
                &space,
                Page::Forgot,
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
                Error::Invalid { .. } => render(
                    &space,
                    Page::Forgot,
                    StatusCode::BAD_REQUEST,
                    View {
                        error: Some(texts::page(space.locale, Page::Forgot).password),
                        form: Some("email"),
                        ..View::default()
                    },
                ),
                Error::RateLimited { .. } => refusal(&space, Page::Forgot, Refusal::RateLimited),
                e => failure(&e),
            }
        }
    }
}
