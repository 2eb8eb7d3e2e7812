//! Fresh tenants, people and tokens for each test, so tests share a database safely.

use serde_json::{Value, json};
use spaces_tenants::spaces::operators;
use spaces_tenants::values::Password;
use spaces_tenants::{TenantTx, outbox};

use crate::app::{TestApp, ok};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    )
}

/// A platform operator and their access token.
pub async fn operator(app: &TestApp) -> String {
    let email = format!("{}@platform.test", unique("op"));
    operators::create(
        &app.state.deps.db,
        &email,
        Password::parse("p", PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    let v = app
        .gql(
            None,
            None,
            "mutation($i: OperatorSignInInput!) { operatorSignIn(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": PASSWORD } }),
        )
        .await;
    ok(&v)["operatorSignIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The newest invitation token sent to `email` in the space `tenant`.
pub async fn invitation_token(app: &TestApp, tenant: &str, email: &str) -> String {
    token_of_link(&newest_link(app, tenant, email, outbox::MessageKind::Invitation).await)
}

/// The link of the newest message of `kind` to `email`: from the outbox while it waits, or from
/// the `.eml` file the worker wrote once delivered (delivery drops it from the outbox).
pub async fn newest_link(
    app: &TestApp,
    tenant: &str,
    email: &str,
    kind: outbox::MessageKind,
) -> String {
    let db = &app.state.deps.db;
    let space = spaces_tenants::spaces::by_slug(db, tenant)
        .await
        .unwrap()
        .unwrap();
    let tx = TenantTx::begin(db, space.id).await.unwrap();
    let msgs = outbox::history(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    let m = msgs
        .iter()
        .rev()
        .filter(|m| m.kind == Some(kind))
        .find(|m| m.recipient == email)
        .expect("a message in the outbox");
    if let Some(p) = &m.payload {
        return p.link.clone();
    }
    let file = app
        .data_dir
        .join("outbox")
        .join(format!("{}-{}.eml", space.id, m.id));
    let text = std::fs::read_to_string(&file).expect("the delivered message's file");
    link_in(&text).expect("a link in the delivered message")
}

/// The first page link (one carrying a token) in a message as sent, its body decoded as a mail
/// client does.
pub fn link_in(message: &str) -> Option<String> {
    let text = decode_body(message);
    let at = text.find("?token=")?;
    let start = text[..at].rfind("http")?;
    let end = text[at..]
        .find(char::is_whitespace)
        .map_or(text.len(), |e| at + e);
    Some(text[start..end].to_owned())
}

/// The body of an email, quoted-printable decoded when it says so.
pub fn decode_body(message: &str) -> String {
    let (head, body) = message
        .split_once("\r\n\r\n")
        .or_else(|| message.split_once("\n\n"))
        .unwrap_or(("", message));
    if !head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return body.to_owned();
    }
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token in a link such as `http://host/accept-invitation?token=...`.
pub fn token_of_link(link: &str) -> String {
    link.split("?token=")
        .nth(1)
        .expect("a token in the link")
        .split(|c: char| c.is_whitespace() || c == '&')
        .next()
        .unwrap()
        .to_owned()
}

pub struct Campus {
    pub slug: String,
    pub id: String,
    pub admin_email: String,
    pub admin_token: String,
    pub root_id: String,
}

pub const CREATE_TENANT: &str = "mutation($i: CreateTenantInput!) { createTenant(input: $i) { id slug displayName status domains branding { logoUrl primaryColour accentColour supportEmail } } }";

/// A new space created by an operator, its admin signed in through the invitation.
pub async fn campus(app: &TestApp, op_token: &str) -> Campus {
    let slug = unique("campus-");
    let admin_email = format!("admin@{slug}.test");
    let v = app
        .gql(
            None,
            Some(op_token),
            CREATE_TENANT,
            json!({ "i": {
                "slug": slug, "displayName": format!("Campus {slug}"), "domains": [format!("{slug}.example.org")],
                "branding": { "primaryColour": "#00609C", "accentColour": "#f39200", "logoUrl": "https://cdn.example.org/logo.svg", "supportEmail": "help@example.org" },
                "firstAdmin": { "email": admin_email, "givenName": "Camille", "familyName": "Martin" }
            }}),
        )
        .await;
    let id = ok(&v)["createTenant"]["id"].as_str().unwrap().to_owned();
    let token = invitation_token(app, &slug, &admin_email).await;
    let admin_token = accept(app, &slug, &token).await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = app
        .gql(
            Some(&slug),
            Some(&admin_token),
            "{ viewer { organisation { id } } }",
            json!({}),
        )
        .await;
    let root_id = ok(&v)["viewer"]["organisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Campus {
        slug,
        id,
        admin_email,
        admin_token,
        root_id,
    }
}

/// Accepts an invitation; returns the session.
pub async fn accept(app: &TestApp, tenant: &str, token: &str) -> Value {
    let v = app
        .gql(
            Some(tenant),
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken refreshToken person { id email } } }",
            json!({ "i": { "token": token, "password": PASSWORD } }),
        )
        .await;
    ok(&v)["acceptInvitation"].clone()
}

pub async fn sign_in(app: &TestApp, tenant: &str, email: &str, password: &str) -> Value {
    app.gql(
        Some(tenant),
        None,
        "mutation($i: SignInInput!) { signIn(input: $i) { accessToken refreshToken person { id email } } }",
        json!({ "i": { "email": email, "password": password } }),
    )
    .await
}

/// Creates a member company under the root; returns its id.
pub async fn company(app: &TestApp, c: &Campus, name: &str) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": c.root_id, "kind": "COMPANY", "name": name, "sizeBand": "FROM_11_TO_49" } }),
        )
        .await;
    ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Invites a person with a role into an organisation, accepts, and returns (person id, token).
pub async fn member(
    app: &TestApp,
    c: &Campus,
    inviter_token: &str,
    org: &str,
    email: &str,
    role: &str,
) -> (String, String) {
    let v = app
        .gql(
            Some(&c.slug),
            Some(inviter_token),
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }",
            json!({ "i": { "email": email, "givenName": "Given", "familyName": "Family", "organisationId": org, "role": role } }),
        )
        .await;
    let id = ok(&v)["invitePerson"]["id"].as_str().unwrap().to_owned();
    let token = invitation_token(app, &c.slug, email).await;
    let s = accept(app, &c.slug, &token).await;
    (id, s["accessToken"].as_str().unwrap().to_owned())
}

/// A published catalogue course (a new provider each time); returns its id.
pub async fn published_course(app: &TestApp, op_token: &str, title: &str) -> String {
    let v = app
        .gql(
            None,
            Some(op_token),
            "mutation($i: ProviderInput!) { createProvider(input: $i) { id } }",
            json!({ "i": { "name": unique("Université ") } }),
        )
        .await;
    let provider = ok(&v)["createProvider"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            None,
            Some(op_token),
            "mutation($i: CourseFactsInput!) { createCourse(input: $i) { id } }",
            json!({ "i": { "providerId": provider, "title": title, "language": "fr", "studyHours": 20, "ects": 1, "eqfLevel": 4, "assessment": "ONLINE_UNVERIFIED" } }),
        )
        .await;
    let id = ok(&v)["createCourse"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            None,
            Some(op_token),
            "mutation($id: ID!) { publishCourse(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    ok(&v);
    id
}

/// An open edition of `course` with two modules (one required), curated by the campus admin.
/// `visible_to`: organisation ids, or empty for the whole space.
pub async fn open_edition(
    app: &TestApp,
    c: &Campus,
    course: &str,
    mode: &str,
    capacity: Option<i64>,
    visible_to: &[&str],
) -> String {
    let visibility = if visible_to.is_empty() {
        "WHOLE_TENANT"
    } else {
        "ORGANISATIONS"
    };
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateEditionInput!) { createEdition(input: $i) { id } }",
            json!({ "i": { "courseId": course, "enrolmentMode": mode, "visibility": visibility, "visibleTo": visible_to, "capacity": capacity, "price": { "amountMinor": 0, "currency": "EUR" } } }),
        )
        .await;
    let id = ok(&v)["createEdition"]["id"].as_str().unwrap().to_owned();
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!, $i: SetEditionModulesInput!) { setEditionModules(id: $id, input: $i) { id } }",
            json!({ "id": id, "i": { "modules": [
                { "title": "Hygiene", "required": true, "estimatedMinutes": 30, "activityIri": "https://lms.example.org/xapi/m1" },
                { "title": "Going further", "required": false, "estimatedMinutes": 15, "activityIri": "https://lms.example.org/xapi/m2" }
            ] } }),
        )
        .await;
    ok(&v);
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($id: ID!) { openEdition(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(ok(&v)["openEdition"]["status"], "OPEN");
    id
}

/// Creates an organisation of `kind` under `parent`; returns its id.
pub async fn organisation(
    app: &TestApp,
    c: &Campus,
    parent: &str,
    kind: &str,
    name: &str,
) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateOrganisationInput!) { createOrganisation(input: $i) { id } }",
            json!({ "i": { "parentId": parent, "kind": kind, "name": name } }),
        )
        .await;
    ok(&v)["createOrganisation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Invites a person without accepting; returns the person's id.
pub async fn invite(
    app: &TestApp,
    c: &Campus,
    org: &str,
    email: &str,
    given_name: &str,
    role: &str,
) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: InvitePersonInput!) { invitePerson(input: $i) { id } }",
            json!({ "i": { "email": email, "givenName": given_name, "familyName": unique("Family-"), "organisationId": org, "role": role } }),
        )
        .await;
    ok(&v)["invitePerson"]["id"].as_str().unwrap().to_owned()
}

/// The ids of the role grants a person holds.
pub async fn grants_of(app: &TestApp, c: &Campus, person: &str) -> Vec<String> {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "query($id: ID!) { person(id: $id) { roles { id } } }",
            json!({ "id": person }),
        )
        .await;
    ok(&v)["person"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

/// HR (or an admin, by `token`) enrols a person; returns the enrolment's id.
pub async fn enrol(app: &TestApp, c: &Campus, token: &str, edition: &str, person: &str) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(token),
            "mutation($i: EnrolInput!) { enrol(input: $i) { id } }",
            json!({ "i": { "editionId": edition, "personId": person } }),
        )
        .await;
    ok(&v)["enrol"]["id"].as_str().unwrap().to_owned()
}

/// A pathway over `editions`, curated by the campus admin; returns its id.
pub async fn pathway(app: &TestApp, c: &Campus, title: &str, editions: &[&str]) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreatePathwayInput!) { createPathway(input: $i) { id } }",
            json!({ "i": { "title": title, "editionIds": editions } }),
        )
        .await;
    ok(&v)["createPathway"]["id"].as_str().unwrap().to_owned()
}

/// Writes a learner's progress on a module as the LMS connector will: through the server's own
/// connection, inside the tenant (so row-level security applies on PostgreSQL).
pub async fn record_progress(
    app: &TestApp,
    tenant: &str,
    enrolment: &str,
    module: &str,
    done: bool,
) {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let db = &app.state.deps.db;
    let backend = db.backend();
    let uuid = |s: &str| sea_orm::Value::from(uuid::Uuid::parse_str(s).unwrap());
    let tx = db.connection().begin().await.unwrap();
    if db.is_postgres() {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT set_config('app.tenant_id', $1, true)",
            [tenant.into()],
        ))
        .await
        .unwrap();
    }
    let sql = "INSERT INTO module_progress (tenant_id, id, enrolment_id, module_id, completed_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    let sql = if db.is_postgres() {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    let now = chrono::Utc::now();
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            uuid(tenant),
            uuid::Uuid::now_v7().into(),
            uuid(enrolment),
            uuid(module),
            done.then_some(now).into(),
            now.into(),
        ],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

// --- Invoices: billing accounts and invoices through the API --------------------------------

/// A French SIREN and its VAT number that pass the checks.
pub const SIREN: &str = "732829320";
pub const VAT_FR: &str = "FR44732829320";

/// A billing account (EUR, France) for an organisation, by the space's admin; returns its id.
pub async fn billing_account(app: &TestApp, c: &Campus, org: &str) -> String {
    let v = app
        .gql(
            Some(&c.slug),
            Some(&c.admin_token),
            "mutation($i: CreateBillingAccountInput!) { createBillingAccount(input: $i) { id } }",
            json!({ "i": {
                "organisationId": org, "legalName": unique("Buyer SAS "), "addressLine": "12 rue des Halles",
                "postcode": "75001", "city": "Paris", "country": "FR", "registrationNumber": SIREN,
                "vatNumber": VAT_FR, "invoiceEmail": format!("billing@{}.test", c.slug), "currency": "EUR"
            }}),
        )
        .await;
    ok(&v)["createBillingAccount"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const INVOICE_FIELDS: &str = "id number kind status correctsId gross { amountMinor currency } net { amountMinor } vat { amountMinor } paid { amountMinor } due { amountMinor } credited { amountMinor } lines { id description quantity net { amountMinor } vatBasisPoints exemption creditsLineId } vatBreakdown { vatBasisPoints exemption taxable { amountMinor } amount { amountMinor } } payments { id amount { amountMinor } } creditNotes { id number }";

/// Issues an invoice to a billing account by the space's admin: a 20 % line of 2 × 100.00 EUR
/// and an exempt training line of 450.00 EUR. Returns the whole answer.
pub async fn issue_invoice(app: &TestApp, c: &Campus, buyer: &str) -> Value {
    let due = (app.state.deps.clock.now() + chrono::Duration::days(30)).date_naive();
    app.gql(
        Some(&c.slug),
        Some(&c.admin_token),
        &format!("mutation($i: IssueInvoiceInput!) {{ issueInvoice(input: $i) {{ {} }} }}", INVOICE_FIELDS),
        json!({ "i": {
            "buyerId": buyer, "dueDate": due, "note": "Campus subscription",
            "lines": [
                { "description": "Platform seats", "quantity": 2, "unitPrice": { "amountMinor": 10000, "currency": "EUR" }, "vatBasisPoints": 2000 },
                { "description": "Food hygiene training", "quantity": 1, "unitPrice": { "amountMinor": 45000, "currency": "EUR" }, "exemption": "Exonération de TVA, article 261-4-4° du CGI" }
            ]
        }}),
    )
    .await
}
