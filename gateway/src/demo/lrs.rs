//! The demo's LRS credential, printed once with a curl line that reaches `/xapi/about` and an
//! authenticated path of the space's learning record store.

use spaces_tenants::progress::credentials::{self, Issued, NewCredential, Scope};
use spaces_tenants::{Principal, TenantTx};

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
