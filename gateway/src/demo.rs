//! `spaces serve --demo`: seeds, once, a platform operator and the "Ocapiat campus" space with
//! two member companies, an HR admin each and a few learners, and says how to sign in.

use spaces_tenants::auth::invitations;
use spaces_tenants::organisations::{self, NewOrganisation, OrgKind, SizeBand};
use spaces_tenants::people::{self, NewPerson};
use spaces_tenants::spaces::{self, BrandingInput, NewSpace, operators};
use spaces_tenants::values::Password;
use spaces_tenants::{Principal, Role, TenantTx};

use crate::app::AppState;

pub const DEMO_PASSWORD: &str = "demo-password-2026";
pub const OPERATOR_EMAIL: &str = "operator@spaces.localhost";

pub async fn seed(state: &AppState) -> anyhow::Result<Option<String>> {
    let db = &state.deps.db;
    if spaces::by_slug(db, "ocapiat").await?.is_some() {
        return Ok(None);
    }
    operators::create(
        db,
        OPERATOR_EMAIL,
        Password::parse("password", DEMO_PASSWORD)?,
    )
    .await?;
    let created = spaces::create(
        db,
        NewSpace {
            slug: "ocapiat".into(),
            display_name: "Ocapiat campus".into(),
            domains: vec!["campus.ocapiat.localhost".into()],
            branding: BrandingInput {
                logo_url: Some("https://campus.ocapiat.localhost/logo.svg".into()),
                primary_colour: Some("#00609c".into()),
                accent_colour: Some("#f39200".into()),
                support_email: Some("support@ocapiat.localhost".into()),
            },
            locale: Some("fr".into()),
            admin_email: "admin@ocapiat.localhost".into(),
            admin_given_name: "Camille".into(),
            admin_family_name: "Martin".into(),
        },
        &state.deps.accept_url("{slug}"),
    )
    .await?;
    let tenant = created.space.id;
    let tx = TenantTx::begin(db, tenant).await?;
    invitations::accept(
        &tx,
        &created.invitation_token,
        Password::parse("password", DEMO_PASSWORD)?,
    )
    .await?;
    let (admin, _) = people::load_principal(&tx, created.admin.id, 0).await?;
    let root = created.admin.organisation;
    let url = state.deps.accept_url("ocapiat");
    let mut lines = vec![
        format!("  platform operator   {OPERATOR_EMAIL}   (operatorSignIn, no X-Tenant)"),
        "  campus admin        admin@ocapiat.localhost".to_owned(),
    ];
    for (name, slug, band, learners) in [
        (
            "Fromagerie Durand",
            "durand",
            SizeBand::From11To49,
            ["lea", "hugo", "ines"],
        ),
        (
            "Biscuiterie Leroy",
            "leroy",
            SizeBand::From50To299,
            ["nora", "theo", "jade"],
        ),
    ] {
        let company = organisations::create(
            &tx,
            &admin,
            NewOrganisation {
                parent: root,
                kind: OrgKind::Company,
                name: name.into(),
                size_band: Some(band),
                registration_number: None,
                external_ref: Some(slug.into()),
            },
        )
        .await?;
        let hr_email = format!("hr@{slug}.localhost");
        invite_active(
            &tx,
            &admin,
            &hr_email,
            "HR",
            name,
            company.id,
            Role::OrgAdmin,
            &url,
        )
        .await?;
        lines.push(format!("  HR admin of {name:<18} {hr_email}"));
        for l in learners {
            let email = format!("{l}@{slug}.localhost");
            invite_active(
                &tx,
                &admin,
                &email,
                l,
                name,
                company.id,
                Role::Learner,
                &url,
            )
            .await?;
            lines.push(format!("  learner at {name:<19} {email}"));
        }
    }
    tx.commit().await?;
    Ok(Some(format!(
        "Demo seeded. Every account's password is {DEMO_PASSWORD:?}. Sign in at /graphql with the header X-Tenant: ocapiat:\n{}",
        lines.join("\n")
    )))
}

#[allow(clippy::too_many_arguments)]
async fn invite_active(
    tx: &TenantTx,
    admin: &Principal,
    email: &str,
    given: &str,
    family: &str,
    org: spaces_tenants::OrganisationId,
    role: Role,
    url: &str,
) -> anyhow::Result<()> {
    let (_, token) = people::invite(
        tx,
        admin,
        NewPerson::parse(email, given, family, org)?,
        role,
        url,
    )
    .await?;
    invitations::accept(tx, &token, Password::parse("password", DEMO_PASSWORD)?).await?;
    Ok(())
}
