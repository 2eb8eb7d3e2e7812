//! The demo's certificate: Nora completed HACCP (the LMS reported her identity checked at the
//! quiz), so the `enrolment.completed` job signed her Open Badges 3.0 credential. The demo runs
//! that job at once and prints where to see, verify and download it.

use spaces_tenants::credentials::records;
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{Principal, TenantId, TenantTx};

use crate::app::AppState;

/// The logo the campus uploaded (a PNG in the binary, as an admin would upload it).
pub async fn brand(
    tx: &TenantTx,
    admin: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    spaces_tenants::credentials::logo::set(
        tx,
        admin,
        include_bytes!("ocapiat-logo.png").to_vec(),
        now,
    )
    .await?;
    Ok(())
}

/// Runs the due jobs (Nora's completion among them) and names her certificate.
pub async fn issue_and_describe(
    state: &AppState,
    tenant: TenantId,
    admin: &Principal,
    base: &str,
) -> anyhow::Result<Vec<String>> {
    spaces_tenants::jobs::run_due(&state.deps.db, &state.deps.clock, &state.jobs).await?;
    let tx = TenantTx::begin(&state.deps.db, tenant).await?;
    let page = records::list(&tx, admin, None, PageRequest::parse(Some(1), None)?).await?;
    let Some(c) = page.items.first() else {
        return Ok(vec![
            "  certificates: none yet (the jobs worker signs them when an enrolment completes)"
                .to_owned(),
        ]);
    };
    // Nora chose to show her name on the verification page.
    records::set_public(&tx, &nora(&tx, c).await?, c.id, true).await?;
    tx.commit().await?;
    let id = c.id;
    Ok(vec![
        format!(
            "  certificate: Nora's \"{}\" is signed (Open Badges 3.0, VC-JWT RS256); verify it as anyone would:",
            c.achievement_name
        ),
        format!("    curl -s -H 'X-Tenant: ocapiat' -H 'Accept: application/json' {base}/verify/{id}   (or open it in a browser with Host ocapiat.localhost)"),
        format!("    curl -s -H 'X-Tenant: ocapiat' {base}/credentials/{id}.jwt | curl -s -H 'X-Tenant: ocapiat' -H 'Content-Type: application/vc+jwt' --data-binary @- {base}/verify"),
        format!("    the credential {base}/credentials/{id}, its key {base}/credentials/keys, the revocation list {base}/credentials/status/1, the issuer {base}/issuer (each with -H 'X-Tenant: ocapiat')"),
        "    as Nora (nora@leroy.localhost): { viewer { certificates { edges { node { achievementName verifyUrl pdfUrl } } } } }, then GET the pdfUrl with her bearer token".to_owned(),
    ])
}

/// The learner of the certificate, as herself (only she may make it public).
async fn nora(tx: &TenantTx, c: &records::Certificate) -> anyhow::Result<Principal> {
    Ok(Principal::Person {
        tenant: tx.tenant(),
        person: c.person,
        grants: Vec::new(),
    })
}
