//! Billing in the demo: the campus bought an annual plan of 8 seats (its first invoice issued and
//! paid by bank transfer), Fromagerie Durand has its own billing account, and a priced edition
//! invoices each enrolment at once, so one invoice stays issued and unpaid.

use chrono::{DateTime, Utc};
use spaces_billing::accounts::{self, AccountInput, BillingAccount};
use spaces_billing::plans::{self, NewPlan, Plan, Term};
use spaces_billing::subscriptions::{self, Sale};
use spaces_billing::{Money, invoices, payments};
use spaces_tenants::editions::VisibilityKind;
use spaces_tenants::editions::{self, BillingPatch, EnrolmentMode, ModuleInput, NewEdition};
use spaces_tenants::{CourseId, Db, EditionId, OrganisationId, Principal, TenantTx};

/// Seats of the demo plan; the demo's six learners hold six of them.
pub const SEATS: i32 = 8;

/// The plan, written before the space's transaction (SQLite has one connection).
pub async fn plan(db: &Db, now: DateTime<Utc>) -> anyhow::Result<Plan> {
    Ok(plans::create(
        db,
        now,
        NewPlan {
            name: "Campus — 8 places".into(),
            seats: SEATS,
            term: Term::Annual,
            price_minor: 480_000,
            currency: "EUR".into(),
            vat_basis_points: 2000,
        },
    )
    .await?)
}

fn account(legal_name: &str, city: &str, email: &str) -> AccountInput {
    AccountInput {
        legal_name: legal_name.into(),
        address_line: "12 rue des Halles".into(),
        postcode: "75001".into(),
        city: city.into(),
        country: "FR".into(),
        // A SIREN and its VAT number that pass the checks (a demo value).
        registration_number: Some("732829320".into()),
        vat_number: Some("FR44732829320".into()),
        invoice_email: email.into(),
        currency: "EUR".into(),
    }
}

/// The campus's and Durand's billing accounts, and the subscription sold on the campus's, its
/// first invoice paid. Returns Durand's account and the paid invoice's number.
pub async fn subscribe(
    tx: &TenantTx,
    admin: &Principal,
    now: DateTime<Utc>,
    plan: &Plan,
    root: OrganisationId,
    durand: OrganisationId,
) -> anyhow::Result<(BillingAccount, String)> {
    let campus = accounts::create(
        tx,
        admin,
        now,
        root,
        account("OCAPIAT", "Paris", "factures@ocapiat.localhost"),
    )
    .await?;
    let company = accounts::create(
        tx,
        admin,
        now,
        durand,
        account("Fromagerie Durand SAS", "Lyon", "compta@durand.localhost"),
    )
    .await?;
    let (_, invoice) = subscriptions::sell(
        tx,
        now,
        plan,
        Sale {
            starts_on: now.date_naive(),
            seats: None,
            billing_account: campus.id,
        },
    )
    .await?;
    let invoice = invoice.ok_or_else(|| anyhow::anyhow!("the demo plan issued no invoice"))?;
    let doc = invoices::document(tx, invoice).await?;
    payments::record_manual(
        tx,
        admin,
        now,
        invoice,
        Money::new(doc.gross_total_minor, doc.currency),
        now.date_naive(),
        "VIR-OCAPIAT-2026-001",
    )
    .await?;
    Ok((company, doc.number))
}

/// A priced edition of the course as the demo shows it: what it is called, who enrols, its
/// price before VAT (20 %), invoiced at once to the learner's company.
pub struct Priced<'a> {
    pub title: &'a str,
    pub mode: EnrolmentMode,
    pub net_minor: i64,
}

/// The paid HACCP session: 450.00 EUR per enrolment, HR enrols.
pub const HACCP_PAID: Priced<'static> = Priced {
    title: "HACCP — session inter-entreprises payante",
    mode: EnrolmentMode::AssignedOnly,
    net_minor: 45_000,
};

pub async fn priced_edition(
    tx: &TenantTx,
    admin: &Principal,
    course: CourseId,
    starts_on: chrono::NaiveDate,
    what: Priced<'_>,
) -> anyhow::Result<EditionId> {
    let e = editions::create(
        tx,
        admin,
        NewEdition {
            course,
            title: Some(what.title.into()),
            description: None,
            starts_on: Some(starts_on),
            ends_on: None,
            enrol_opens_at: None,
            enrol_closes_at: None,
            capacity: Some(30),
            enrolment_mode: what.mode,
            visibility: VisibilityKind::WholeTenant,
            visible_to: None,
            price: Some((what.net_minor, "EUR".into())),
            included_in_subscription: None,
            min_score: None,
            billing: BillingPatch {
                invoice_immediately: Some(true),
                ..Default::default()
            },
        },
    )
    .await?;
    let modules = [ModuleInput {
        title: "Les sept principes".into(),
        required: true,
        estimated_minutes: 90,
        activity_iri: "https://lms.ocapiat.localhost/xapi/haccp-paid/m1".into(),
        move_on: Default::default(),
    }];
    editions::set_modules(tx, admin, e.id, &modules, false).await?;
    editions::open(tx, admin, e.id).await?;
    Ok(e.id)
}
