//! `GET /graphql` upgraded to a WebSocket: subscriptions over the `graphql-transport-ws`
//! protocol. The bearer token comes in `connection_init` and is verified as an HTTP request's
//! is, in the space of the Host; each subscription then gets a request scope of its own.

use std::any::TypeId;
use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::futures_util::StreamExt;
use async_graphql::futures_util::stream::{self, BoxStream};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{FromRequestParts, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use spaces_graphql::{ApiError, RequestScope};
use spaces_tenants::spaces::Space;

use crate::app::AppState;
use crate::resolve::{Addressed, resolve_with};

/// A socket's outgoing buffer: past it the subscription waits, and a subscription that waits
/// too long falls behind its bounded feed and is ended (see `SPACES_LIVE_BUFFER`).
const WRITE_BUFFER: usize = 16 * 1024;
const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// What `connection_init` established, for every operation of the connection.
#[derive(Clone)]
struct Connection {
    space: Space,
    token: String,
    client: String,
}

/// Whether a `GET /graphql` asks for a WebSocket.
pub fn wants_upgrade(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn upgrade(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: axum::extract::Request,
) -> HttpResponse {
    let (mut parts, _) = req.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &state).await {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(r) => return r.into_response(),
    };
    let space = match resolve_with(&state.deps, &parts.headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => s,
        Ok(_) => {
            return (StatusCode::NOT_FOUND, "subscriptions are served in a space").into_response();
        }
        Err(e) => {
            let e = ApiError::from(e);
            return (StatusCode::BAD_REQUEST, e.message).into_response();
        }
    };
    let client = crate::client_addr::client_address(
        &state.config.trusted_proxies,
        &parts.headers,
        Some(peer),
    );
    let executor = LiveExecutor {
        state: state.clone(),
    };
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| init(state, space, client, payload))
                .serve()
        })
}

/// The token of `connection_init`'s payload: `{"authorization": "Bearer …"}` or
/// `{"token": "…"}`.
fn token_of(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    if let Some(t) = obj.get("token").and_then(|v| v.as_str()) {
        return Some(t.trim().to_owned());
    }
    let auth = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())?;
    let (scheme, token) = auth.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn init(
    state: Arc<AppState>,
    space: Space,
    client: String,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let token = token_of(&payload)
        .ok_or_else(|| async_graphql::Error::new("connection_init needs a bearer token"))?;
    // As an HTTP request: signature, expiry, the token's space against the Host's, the
    // space's status, the person's status and roles.
    let scope = RequestScope::open(
        state.deps.clone(),
        Some(space.clone()),
        Some(&token),
        client.clone(),
        1,
    )
    .await
    .map_err(|e| async_graphql::Error::new(e.message))?;
    let person = scope.require_person().is_ok();
    scope
        .finish()
        .await
        .map_err(|e| async_graphql::Error::new(e.message))?;
    if !person {
        return Err(async_graphql::Error::new(
            "subscriptions need a person of this space",
        ));
    }
    let mut data = Data::default();
    data.insert(Connection {
        space,
        token,
        client,
    });
    Ok(data)
}

#[derive(Clone)]
struct LiveExecutor {
    state: Arc<AppState>,
}

fn refused(e: ApiError) -> Response {
    Response::from_errors(vec![
        async_graphql::Error::from(e).into_server_error(async_graphql::Pos::default()),
    ])
}

/// Whether every operation of the document is a subscription: queries and mutations go over
/// HTTP, where one request is one transaction.
fn only_subscriptions(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| {
        doc.operations
            .iter()
            .all(|(_, op)| op.node.ty == OperationType::Subscription)
    })
}

impl Executor for LiveExecutor {
    async fn execute(&self, _request: Request) -> Response {
        refused(ApiError::bad_input(
            "query",
            "send queries and mutations to POST /graphql",
        ))
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let state = self.state.clone();
        let conn = session_data.as_ref().and_then(|d| {
            d.get(&TypeId::of::<Connection>())
                .and_then(|c| c.downcast_ref::<Connection>())
                .cloned()
        });
        stream::once(async move {
            let Some(conn) = conn else {
                return stream::once(async {
                    refused(ApiError::unauthenticated("send connection_init first"))
                })
                .boxed();
            };
            if !only_subscriptions(&request.query) {
                return stream::once(async {
                    refused(ApiError::bad_input(
                        "query",
                        "only subscriptions are served here; send queries and mutations to POST /graphql",
                    ))
                })
                .boxed();
            }
            // Verified again: the token may have expired or the person been disabled since
            // the connection began.
            let scope = match RequestScope::open(
                state.deps.clone(),
                Some(conn.space),
                Some(&conn.token),
                conn.client,
                1,
            )
            .await
            {
                Ok(s) => Arc::new(s),
                Err(e) => return stream::once(async { refused(e) }).boxed(),
            };
            if let Err(e) = scope.finish().await {
                return stream::once(async { refused(e) }).boxed();
            }
            state.schema.execute_stream(request.data(scope)).boxed()
        })
        .flatten()
        .boxed()
    }
}
