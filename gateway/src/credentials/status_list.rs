//! `GET /credentials/status/{n}`: a space's revocation list as a W3C Bitstring Status List
//! credential. A verifier gets it signed (a VC-JWT, by the space's current key), which is what
//! `statusListCredential` must point to; `Accept: application/json` shows the unsigned JSON.
//!
//! Anyone may ask, as often as they like: the signed list is kept per space and list until a
//! revocation changes its bits, so a stream of requests costs reads, not RSA signatures.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use spaces_tenants::credentials::{document, keys, records, status};
use spaces_tenants::{Result, TenantId};

use super::{JWT_MEDIA, answer, json_answer, not_found, open, unavailable, wants};
use crate::app::AppState;

/// Signed lists kept: beyond this the cache starts afresh (a few KiB each).
const KEPT: usize = 4096;

/// (space, list) → (its `encodedList`, the VC-JWT signed over it).
type Signed = HashMap<(TenantId, i32), (String, String)>;
static SIGNED: LazyLock<Mutex<Signed>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn cached(space: TenantId, list: i32, encoded: &str) -> Option<String> {
    let kept = SIGNED.lock().ok()?;
    kept.get(&(space, list))
        .filter(|(e, _)| e == encoded)
        .map(|(_, jwt)| jwt.clone())
}

fn keep(space: TenantId, list: i32, encoded: String, jwt: String) {
    if let Ok(mut kept) = SIGNED.lock() {
        if kept.len() >= KEPT {
            kept.clear();
        }
        kept.insert((space, list), (encoded, jwt));
    }
}

enum Answer {
    Json(Value),
    Jwt(String),
}

pub async fn serve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(list): Path<String>,
) -> Response {
    let (space, tx, urls) = match open(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(list) = list.parse::<i32>().ok().filter(|l| *l >= 1) else {
        return not_found("no such status list in this space");
    };
    let signed = !wants(&headers, "application/json");
    let built = async {
        if !records::list_exists(&tx, list).await? {
            return Ok(None);
        }
        let encoded = status::encode(&records::revoked_in(&tx, list).await?)?;
        if signed && let Some(jwt) = cached(space.id, list, &encoded) {
            return Ok(Some(Answer::Jwt(jwt)));
        }
        let now = state.deps.clock.now();
        let id = urls.status_list(list);
        let vc: Value = json!({
            "@context": [document::VC_CONTEXT],
            "id": id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": urls.issuer(),
            "name": format!("{}: revocations", space.display_name),
            "validFrom": document::time(now),
            "credentialSubject": {
                "id": format!("{id}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": encoded,
            },
            "iss": urls.issuer(),
            "jti": id,
            "nbf": now.timestamp(),
        });
        if !signed {
            return Ok(Some(Answer::Json(vc)));
        }
        // A list exists only where a credential was signed, so the key does too.
        let (kid, key) = keys::current_signing(&tx, now).await?;
        let jwt = key.sign(&urls.key(kid.uuid()), &vc)?;
        keep(space.id, list, encoded, jwt.clone());
        Ok::<_, spaces_tenants::Error>(Some(Answer::Jwt(jwt)))
    };
    let built: Result<Option<Answer>> = built.await;
    match built {
        Ok(Some(Answer::Json(vc))) => json_answer(&vc, false),
        Ok(Some(Answer::Jwt(jwt))) => answer(StatusCode::OK, JWT_MEDIA, jwt.into_bytes(), false),
        Ok(None) => not_found("no such status list in this space"),
        Err(e) => unavailable(e),
    }
}
