//! The demo's LRS credential, printed once with a curl line that reaches `/xapi/about` and an
//! authenticated path of the space's learning record store; the progress an LMS already
//! reported (Nora completed HACCP, Léa is half-way, Hugo started); and a statement to post with
//! curl that completes Léa's HACCP session.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use spaces_tenants::progress::credentials::{self, Issued, NewCredential, Scope};
use spaces_tenants::progress::statements;
use spaces_tenants::{PersonId, Principal, TenantTx, people};

const VERBS: &str = "http://adlnet.gov/expapi/verbs/";
/// The HACCP edition's modules, as the demo's curriculum names them.
const HACCP: &str = "https://lms.ocapiat.localhost/xapi/haccp";

/// A credential that writes statements and reads its own.
pub async fn seed(tx: &TenantTx, admin: &Principal) -> anyhow::Result<Issued> {
    Ok(credentials::create(
        tx,
        admin,
        NewCredential {
            name: "Demo LMS".into(),
            scopes: vec![Scope::WriteStatements, Scope::ReadOwn],
        },
    )
    .await?)
}

/// What is printed: the key, the secret (shown only here), and the curl to try them with.
pub fn lines(base: &str, issued: &Issued) -> Vec<String> {
    let key = &issued.credential.key;
    let secret = &issued.secret;
    vec![
        format!(
            "  an LRS credential (xAPI 1.0.3, HTTP Basic; the secret is shown once, only its digest is kept): key {key} secret {secret}"
        ),
        format!(
            "  try the LRS: curl -s -H 'X-Tenant: ocapiat' {base}/xapi/about && curl -si -u '{key}:{secret}' -H 'X-Tenant: ocapiat' -H 'X-Experience-API-Version: 1.0.3' {base}/xapi/statements"
        ),
    ]
}

/// What the demo's LMS reported before the newcomer arrives, stored through the LRS's own path
/// by a credential of its own (the printed one reads only what it stores itself).
pub async fn history(
    tx: &TenantTx,
    admin: &Principal,
    home: &str,
    learners: &HashMap<&str, PersonId>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let lms = credentials::create(
        tx,
        admin,
        NewCredential {
            name: "Moodle (history)".into(),
            scopes: vec![Scope::WriteStatements],
        },
    )
    .await?;
    let mut batch = Vec::new();
    for (who, verb, module, scaled) in [
        ("nora", "completed", "m1", Some(0.85)),
        ("nora", "completed", "m2", Some(0.92)),
        ("lea", "attempted", "m1", None),
        ("lea", "completed", "m1", Some(0.78)),
        ("hugo", "attempted", "m1", None),
    ] {
        let id = learners
            .get(who)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the demo learner {who} is missing"))?;
        let email = people::load(tx, id).await?.email;
        let mut s = statement(&email, verb, module, scaled);
        if who == "nora" && module == "m2" {
            // The LMS checked Nora's identity at the final quiz: her certificate says so.
            s["context"] = json!({ "extensions": { (spaces_tenants::progress::derive::IDENTITY_VERIFIED_EXTENSION): true } });
        }
        batch.push(s);
    }
    let authority = statements::authority(home, &lms.credential);
    statements::store(tx, &lms.credential, &authority, now, batch).await?;
    Ok(())
}

fn statement(email: &str, verb: &str, module: &str, scaled: Option<f64>) -> Value {
    let mut s = json!({
        "actor": { "objectType": "Agent", "mbox": format!("mailto:{email}") },
        "verb": { "id": format!("{VERBS}{verb}"), "display": { "fr": verb } },
        "object": { "objectType": "Activity", "id": format!("{HACCP}/{module}") }
    });
    if let Some(x) = scaled {
        s["result"] = json!({ "score": { "scaled": x }, "completion": true });
    }
    s
}

/// The curl that completes Léa's HACCP session: her second required module, at 90 %.
pub fn post_line(base: &str, issued: &Issued, email: &str) -> String {
    let key = &issued.credential.key;
    let secret = &issued.secret;
    let body = statement(email, "completed", "m2", Some(0.9));
    format!(
        "  post a statement (Léa completes HACCP; see her enrolment's progress, grade and status move): curl -s -u '{key}:{secret}' -H 'X-Tenant: ocapiat' -H 'X-Experience-API-Version: 1.0.3' -H 'Content-Type: application/json' {base}/xapi/statements -d '{body}'"
    )
}
