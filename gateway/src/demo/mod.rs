//! `spaces serve --demo`: seeds, once, a platform operator, a small catalogue of published
//! courses with their CMF facts, and the "Ocapiat campus" space: two member companies with an HR
//! admin and learners each, editions in every enrolment mode, a pathway that makes a CMF
//! microcredential, and enrolments, so that a learner's dashboard, HR's views and
//! `editions(joinable: true)` show real data; billing: a subscription with most seats used, a
//! priced edition, an issued and a paid invoice; an LRS credential printed with a curl line to
//! try it; Nora's signed certificate with the commands that verify it. Each capability adds
//! itself here.

mod billing;
mod certificates;
mod lrs;
mod vouchers;

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use spaces_tenants::auth::invitations;
use spaces_tenants::catalogue::{self, Assessment, CourseInput, CourseStatus, NewProvider};
use spaces_tenants::editions::{self, EnrolmentMode, ModuleInput, NewEdition, VisibilityKind};
use spaces_tenants::enrolments::{self, AdmissionGate, Enrolee};
use spaces_tenants::organisations::{self, NewOrganisation, OrgKind, SizeBand};
use spaces_tenants::pathways::{self, NewPathway};
use spaces_tenants::people::{self, NewPerson};
use spaces_tenants::spaces::{self, BrandingInput, NewSpace, operators};
use spaces_tenants::values::Password;
use spaces_tenants::{
    CourseId, Db, EditionId, OrganisationId, PersonId, Principal, Role, TenantTx,
};

use crate::app::AppState;

pub const DEMO_PASSWORD: &str = "demo-password-2026";
pub const OPERATOR_EMAIL: &str = "operator@spaces.localhost";
/// The learner whose dashboard the printed query shows.
pub const LEARNER_EMAIL: &str = "lea@durand.localhost";

/// Seeds the demo unless the space is there already; returns the sign-ins to print.
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
    // Platform data first: SQLite has one connection, which the space's transaction holds.
    let courses = catalogue(db).await?;
    let now = state.deps.clock.now();
    let plan = billing::plan(db, now).await?;
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
    let mut learners: HashMap<&str, PersonId> = HashMap::new();
    let mut companies: HashMap<&str, OrganisationId> = HashMap::new();
    for (name, slug, band, names) in [
        (
            "Fromagerie Durand",
            "durand",
            SizeBand::From11To49,
            [("lea", "Léa"), ("hugo", "Hugo"), ("ines", "Inès")],
        ),
        (
            "Biscuiterie Leroy",
            "leroy",
            SizeBand::From50To299,
            [("nora", "Nora"), ("theo", "Théo"), ("jade", "Jade")],
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
        companies.insert(slug, company.id);
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
        for (l, given) in names {
            let email = format!("{l}@{slug}.localhost");
            let id = invite_active(
                &tx,
                &admin,
                &email,
                given,
                name,
                company.id,
                Role::Learner,
                &url,
            )
            .await?;
            learners.insert(l, id);
            lines.push(format!("  learner at {name:<19} {email}"));
        }
    }
    let editions = curriculum(&tx, &admin, &courses, &companies).await?;
    let durand = companies
        .get("durand")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo company Durand is missing"))?;
    let (_, paid) = billing::subscribe(&tx, &admin, now, &plan, root, durand).await?;
    // Enrolments go through billing's gate like every other: they take seats and pay.
    let gate = state.deps.admission.as_ref();
    enrol_learners(&tx, &admin, gate, &editions, &learners, &url).await?;
    let haccp = courses
        .get("haccp")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo course haccp is missing"))?;
    let priced =
        billing::priced_edition(&tx, &admin, haccp, in_days(21), billing::HACCP_PAID).await?;
    let hugo = learners
        .get("hugo")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo learner hugo is missing"))?;
    enrolments::enrol(
        &tx,
        &admin,
        gate,
        priced,
        Enrolee::Person(hugo),
        None,
        &url,
        &[],
    )
    .await?;
    // Job seekers with no employer here sign themselves up.
    spaces_tenants::auth::registration::set(
        &tx,
        &admin,
        now,
        spaces_tenants::auth::registration::Mode::Open,
        &[],
    )
    .await?;
    let codes = vouchers::seed(&tx, &admin, &state.deps.voucher_key, now).await?;
    // One code redeemed already: HR enrols Inès with it; the fund pays 500 EUR of her seat,
    // Fromagerie Durand the rest.
    let ines = learners
        .get("ines")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo learner ines is missing"))?;
    enrolments::enrol(
        &tx,
        &admin,
        gate,
        priced,
        Enrolee::Person(ines),
        None,
        &url,
        std::slice::from_ref(&codes.redeemed),
    )
    .await?;
    // Where the printed code is tried: a session its 500 EUR covers whole.
    let covered =
        billing::priced_edition(&tx, &admin, haccp, in_days(14), vouchers::COVERED).await?;
    let credential = lrs::seed(&tx, &admin).await?;
    let links = &state.deps.links;
    let home = links.origin(&links.slug_host("ocapiat"));
    // The campus's logo, on its issuer profile and certificates, before Nora's is signed.
    certificates::brand(&tx, &admin, now).await?;
    lrs::history(&tx, &admin, &home, &learners, now).await?;
    tx.commit().await?;
    lines.push(format!(
        "  vouchers: {} (a sector fund) issued {} codes of 500 EUR; Inès's seat in the paid HACCP \
         session was redeemed with one (500 EUR to the fund, the rest to Fromagerie Durand)",
        codes.funder,
        vouchers::CODES
    ));
    lines.push(format!(
        "  a code to try (shown once: only its hash is kept): sign in as a learner and run \
         selfEnrol(editionId: \"{covered}\", voucherCodes: [\"{}\"])",
        codes.to_try
    ));
    lines.push(format!(
        "  billing: plan of {} seats sold to the campus, 6 used, its invoice {paid} paid; Hugo's priced \
         enrolment invoiced at once to Fromagerie Durand, unpaid",
        billing::SEATS
    ));
    lines.push(
        "  self-registration: OPEN (anyone may register; the link lands in the outbox)".to_owned(),
    );
    let base = format!("http://{}", state.config.addr);
    lines.extend(lrs::lines(&base, &credential));
    lines.push(
        "  progress an LMS reported: Nora completed HACCP (grade 88.5), Léa is half-way, Hugo started"
            .to_owned(),
    );
    lines.push(lrs::post_line(&base, &credential, LEARNER_EMAIL));
    lines.extend(certificates::issue_and_describe(state, tenant, &admin, &base).await?);
    Ok(Some(format!(
        "Demo seeded. Every account's password is {DEMO_PASSWORD:?}. Sign in at /graphql with the header X-Tenant: ocapiat:\n{}",
        lines.join("\n")
    )))
}

/// What to try once the demo runs (printed on every `serve --demo`).
pub fn what_to_try(base: &str) -> String {
    format!(
        "Try it: open {base}/graphql, set the header {{\"X-Tenant\": \"ocapiat\"}} and sign in as a learner:\n  \
         mutation {{ signIn(input: {{ email: \"{LEARNER_EMAIL}\", password: \"{DEMO_PASSWORD}\" }}) {{ accessToken }} }}\n\
         then add \"Authorization\": \"Bearer <accessToken>\" and look at the dashboard and what Léa may join:\n  \
         {{ viewer {{ enrolments {{ edges {{ node {{ status dueOn edition {{ title }} progress {{ percent }} grade }} }} }} }} editions(joinable: true) {{ edges {{ node {{ title enrolmentMode }} }} }} }}\n\
         As hr@durand.localhost, see your people's enrolments and the request waiting for you:\n  \
         {{ people(first: 20) {{ edges {{ node {{ email enrolments {{ edges {{ node {{ id status edition {{ title }} }} }} }} }} }} }} }}\n\
         As admin@ocapiat.localhost, see the subscription's seats and the invoices (then GET {base}/invoices/<id>.pdf or .xml with the same headers):\n  \
         {{ subscription {{ planName seats used status endsOn }} invoices(first: 10) {{ edges {{ node {{ id number status gross {{ amountMinor currency }} due {{ amountMinor }} }} }} }} }}\n\
         Self-registration is open on the campus: register yourself (no token needed), then open the confirmation link written to the outbox (the data dir's outbox/ folder):\n  \
         mutation {{ register(input: {{ email: \"you@example.org\", givenName: \"Sam\", familyName: \"Doe\" }}) }}"
    )
}

/// A published course as the demo describes it.
struct DemoCourse {
    key: &'static str,
    title: &'static str,
    summary: &'static str,
    hours: f64,
    ects: f64,
    eqf: i32,
    assessment: Assessment,
    outcomes: &'static [&'static str],
    /// (slug, label). The URIs are under ESCO's namespace but made up for the demo.
    skills: &'static [(&'static str, &'static str)],
}

const COURSES: [DemoCourse; 5] = [
    DemoCourse {
        key: "haccp",
        title: "HACCP et sécurité des aliments",
        summary: "Les sept principes HACCP appliqués à un atelier de production.",
        hours: 25.0,
        ects: 1.0,
        eqf: 4,
        assessment: Assessment::OnlineUnverified,
        outcomes: &[
            "Identifier les dangers biologiques, chimiques et physiques",
            "Surveiller un point critique et réagir à une dérive",
        ],
        skills: &[("demo-haccp", "appliquer les principes HACCP")],
    },
    DemoCourse {
        key: "allergens",
        title: "Allergènes en production",
        summary: "Les quatorze allergènes réglementaires, de la réception à l'étiquette.",
        hours: 12.0,
        ects: 0.5,
        eqf: 4,
        assessment: Assessment::OnlineUnverified,
        outcomes: &["Prévenir les contaminations croisées"],
        skills: &[("demo-allergens", "gérer les allergènes alimentaires")],
    },
    DemoCourse {
        key: "maintenance",
        title: "Maintenance des lignes de conditionnement",
        summary: "Maintenance préventive et diagnostic de premier niveau.",
        hours: 40.0,
        ects: 1.5,
        eqf: 5,
        assessment: Assessment::OnlineUnverified,
        outcomes: &["Planifier la maintenance préventive d'une ligne"],
        skills: &[("demo-maintenance", "entretenir des machines d'emballage")],
    },
    DemoCourse {
        key: "quality",
        title: "Management de la qualité agroalimentaire",
        summary: "Piloter un système qualité en entreprise agroalimentaire.",
        hours: 60.0,
        ects: 2.5,
        eqf: 6,
        assessment: Assessment::OnlineUnverified,
        outcomes: &[
            "Construire un plan de maîtrise sanitaire",
            "Animer une démarche d'amélioration continue",
        ],
        skills: &[("demo-quality", "gérer un système qualité")],
    },
    DemoCourse {
        key: "audit",
        title: "Audit et certification IFS / BRCGS",
        summary: "Préparer et conduire un audit selon les référentiels du secteur.",
        hours: 60.0,
        ects: 2.5,
        eqf: 6,
        assessment: Assessment::IdVerifiedSummative,
        outcomes: &["Conduire un audit interne et en rédiger le rapport"],
        skills: &[("demo-audit", "réaliser des audits qualité")],
    },
];

/// The providers and published courses of the demo platform.
async fn catalogue(db: &Db) -> anyhow::Result<HashMap<&'static str, CourseId>> {
    let provider = catalogue::create_provider(
        db,
        NewProvider {
            name: "Institut agroalimentaire de démonstration".into(),
            country: Some("FR".into()),
            website: None,
        },
    )
    .await?;
    let mut out = HashMap::new();
    for c in &COURSES {
        let course = catalogue::create_course(
            db,
            CourseInput {
                provider: provider.id,
                title: c.title.into(),
                summary: c.summary.into(),
                language: "fr".into(),
                study_hours: c.hours,
                ects: c.ects,
                eqf_level: c.eqf,
                learning_outcomes: c.outcomes.iter().map(|o| (*o).to_owned()).collect(),
                skills: c
                    .skills
                    .iter()
                    .map(|(slug, label)| {
                        (
                            format!("http://data.europa.eu/esco/skill/{slug}"),
                            (*label).to_owned(),
                        )
                    })
                    .collect(),
                assessment: c.assessment,
            },
        )
        .await?;
        catalogue::set_status(db, course.id, CourseStatus::Published).await?;
        out.insert(c.key, course.id);
    }
    Ok(out)
}

fn in_days(days: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(days)
}

/// Open editions in every enrolment mode, and a pathway that makes a CMF microcredential.
async fn curriculum(
    tx: &TenantTx,
    admin: &Principal,
    courses: &HashMap<&'static str, CourseId>,
    companies: &HashMap<&str, OrganisationId>,
) -> anyhow::Result<HashMap<&'static str, EditionId>> {
    let leroy = companies
        .get("leroy")
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the demo company Leroy is missing"))?;
    let mut out = HashMap::new();
    for (key, title, mode, capacity, only_for) in [
        (
            "haccp",
            "HACCP — session de printemps",
            EnrolmentMode::AssignedOnly,
            Some(50),
            None,
        ),
        (
            "allergens",
            "Allergènes — en libre accès",
            EnrolmentMode::SelfEnrolment,
            None,
            None,
        ),
        (
            "maintenance",
            "Maintenance des lignes — Biscuiterie Leroy",
            EnrolmentMode::SelfEnrolment,
            Some(12),
            Some(leroy),
        ),
        (
            "quality",
            "Management de la qualité — promotion 2027",
            EnrolmentMode::OnApproval,
            Some(20),
            None,
        ),
        (
            "audit",
            "Audit et certification — promotion 2027",
            EnrolmentMode::OnApproval,
            Some(20),
            None,
        ),
    ] {
        let course = courses
            .get(key)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the demo course {key} is missing"))?;
        let e = editions::create(
            tx,
            admin,
            NewEdition {
                course,
                title: Some(title.into()),
                description: None,
                starts_on: Some(in_days(7)),
                ends_on: Some(in_days(97)),
                enrol_opens_at: None,
                enrol_closes_at: None,
                capacity,
                enrolment_mode: mode,
                visibility: if only_for.is_some() {
                    VisibilityKind::Organisations
                } else {
                    VisibilityKind::WholeTenant
                },
                visible_to: only_for.map(|o| vec![o]),
                price: None,
                included_in_subscription: Some(true),
                min_score: None,
                billing: Default::default(),
            },
        )
        .await?;
        let modules: Vec<ModuleInput> = [("Introduction", true), ("Mise en pratique", true)]
            .iter()
            .chain(&[("Pour aller plus loin", false)])
            .enumerate()
            .map(|(i, (t, required))| ModuleInput {
                title: (*t).into(),
                required: *required,
                estimated_minutes: 45,
                activity_iri: format!("https://lms.ocapiat.localhost/xapi/{key}/m{}", i + 1),
                move_on: Default::default(),
            })
            .collect();
        editions::set_modules(tx, admin, e.id, &modules, false).await?;
        editions::open(tx, admin, e.id).await?;
        out.insert(key, e.id);
    }
    let step = |k: &str| {
        out.get(k)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the demo edition {k} is missing"))
    };
    pathways::create(
        tx,
        admin,
        NewPathway {
            title: "Responsable qualité agroalimentaire".into(),
            description: Some(
                "Deux éditions, 120 heures, 5 ECTS, niveau 6, un audit final à identité vérifiée: \
                 une microcertification au sens du CMF."
                    .into(),
            ),
            editions: vec![step("quality")?, step("audit")?],
        },
    )
    .await?;
    Ok(out)
}

/// Assigned enrolments with due dates, self-enrolments, and a request waiting for HR.
async fn enrol_learners(
    tx: &TenantTx,
    admin: &Principal,
    gate: &dyn AdmissionGate,
    editions: &HashMap<&'static str, EditionId>,
    learners: &HashMap<&str, PersonId>,
    url: &str,
) -> anyhow::Result<()> {
    let edition = |k: &str| {
        editions
            .get(k)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the demo edition {k} is missing"))
    };
    let learner = |k: &str| {
        learners
            .get(k)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the demo learner {k} is missing"))
    };
    for who in ["lea", "hugo", "nora", "theo"] {
        enrolments::enrol(
            tx,
            admin,
            gate,
            edition("haccp")?,
            Enrolee::Person(learner(who)?),
            Some(in_days(60)),
            url,
            &[],
        )
        .await?;
    }
    for (who, k) in [
        ("lea", "allergens"),
        ("jade", "allergens"),
        ("theo", "maintenance"),
        ("ines", "quality"),
    ] {
        let (me, _) = people::load_principal(tx, learner(who)?, 0).await?;
        enrolments::self_enrol(tx, &me, gate, edition(k)?, &[]).await?;
    }
    Ok(())
}

/// Invites a person and accepts for them, so they can sign in with the demo password.
#[allow(clippy::too_many_arguments)]
async fn invite_active(
    tx: &TenantTx,
    admin: &Principal,
    email: &str,
    given: &str,
    family: &str,
    org: OrganisationId,
    role: Role,
    url: &str,
) -> anyhow::Result<PersonId> {
    let (person, token) = people::invite(
        tx,
        admin,
        NewPerson::parse(email, given, family, org)?,
        role,
        url,
    )
    .await?;
    invitations::accept(tx, &token, Password::parse("password", DEMO_PASSWORD)?).await?;
    Ok(person.id)
}
