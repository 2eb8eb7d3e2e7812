//! Importing enrolments from a CSV file (journey 5): every row is checked first; if any fails,
//! nothing is applied and the report names each bad line, column and reason. Otherwise every row
//! applies in the one transaction, in batches. Importing the same file again changes nothing.
//!
//! The edition row is locked first, and the rows go through the one admission function as one
//! batch: the same rules as `enrol` (window included), one lock, one capacity count, one call of
//! the admission gate.
//!
//! Columns (a header row; any order; case, spaces, `_` and `-` ignored): `email`, `given name`,
//! `family name`, `organisation` (its external reference, or its path of names below the root,
//! such as `Durand/Production`), and optionally `due date` (`2027-01-31` or `31/01/2027`) and
//! the person's xAPI account in their LMS, `lms home page` and `lms id` (both or neither: what
//! statements name them by, see `people::ExternalRef`). UTF-8 with or without a BOM, comma- or
//! semicolon-separated.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

mod columns;

use columns::{Column, column_of, parse_due};

use super::admission::{self, AdmissionGate, Candidate, Path, Verdict};
use super::entity::{enrolment, event};
use super::{EnrolmentStatus, Source};
use crate::auth::{entity::invitation, invitations};
use crate::organisations::{self, Organisation};
use crate::people::entity::{grant, person};
use crate::people::{ExternalRef, PersonStatus};
use crate::values::{Email, name};
use crate::{
    EditionId, EnrolmentEventId, EnrolmentId, Error, PersonId, Principal, Result, Role,
    RoleGrantId, TenantTx,
};

pub const MAX_ROWS: usize = 50_000;
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Rows per INSERT: well under PostgreSQL's 65,535 bound parameters.
const BATCH: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1 is the header row; 0 for the file as a whole.
    pub line: u64,
    pub column: Option<&'static str>,
    /// The admission rule that refused the row or the file (`CAPACITY_REACHED`, ...); none for
    /// a row that could not be read.
    pub code: Option<&'static str>,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: usize,
    pub created_people: usize,
    pub invitations: usize,
    pub new_enrolments: usize,
    pub already_enrolled: usize,
    pub errors: Vec<LineError>,
    /// False for a dry run and whenever a row failed: then nothing changed.
    pub applied: bool,
}

/// One valid row, ready to apply.
struct Planned<'o> {
    line: u64,
    email: String,
    given: String,
    family: String,
    /// The person's organisation: their own if they exist, the row's for a new person.
    organisation: &'o Organisation,
    due: Option<NaiveDate>,
    external: Option<ExternalRef>,
    /// An existing person, or the id a new person will get.
    person: PersonId,
    existing: Option<Option<(EnrolmentId, EnrolmentStatus)>>,
}

/// Finds an organisation by external reference, or by its path of names below the root.
struct OrgIndex {
    by_ref: HashMap<String, usize>,
    by_path: HashMap<String, usize>,
    orgs: Vec<Organisation>,
}

impl OrgIndex {
    fn new(orgs: Vec<Organisation>) -> Self {
        let names: HashMap<crate::OrganisationId, String> =
            orgs.iter().map(|o| (o.id, o.name.to_lowercase())).collect();
        let mut by_ref = HashMap::new();
        let mut by_path = HashMap::new();
        for (i, o) in orgs.iter().enumerate() {
            if let Some(r) = &o.external_ref {
                by_ref.insert(r.to_lowercase(), i);
            }
            // Names from below the root down to this node.
            let path: Vec<&str> = o
                .ancestry()
                .iter()
                .skip(1)
                .filter_map(|id| names.get(id).map(String::as_str))
                .collect();
            if !path.is_empty() {
                by_path.insert(path.join("/"), i);
            }
        }
        Self {
            by_ref,
            by_path,
            orgs,
        }
    }

    fn find(&self, raw: &str) -> Option<&Organisation> {
        let key = raw.trim().to_lowercase();
        let path: String = key
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        self.by_ref
            .get(&key)
            .or_else(|| self.by_path.get(&path))
            .map(|&i| &self.orgs[i])
    }
}

pub async fn import(
    tx: &TenantTx,
    who: &Principal,
    gate: &dyn AdmissionGate,
    edition_id: EditionId,
    file: &[u8],
    dry_run: bool,
    accept_url: &str,
) -> Result<ImportReport> {
    let actor = who
        .person()
        .map(|(_, p)| p)
        .ok_or(Error::Unauthenticated("sign in first"))?;
    if file.len() > MAX_BYTES {
        return Err(Error::invalid(
            "file",
            format!("must be at most {} MiB", MAX_BYTES / (1024 * 1024)),
        ));
    }
    // Locked before anything is counted, until the transaction ends.
    let locked = admission::lock(tx, edition_id)
        .await
        .map_err(|e| e.not_found_as("editionId", "no such edition"))?;
    if who.readable_roots().is_some_and(|r| r.is_empty()) {
        return Err(Error::Forbidden("importing needs an HR or admin role"));
    }
    let text =
        std::str::from_utf8(file).map_err(|_| Error::invalid("file", "must be UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::invalid("file", format!("unreadable header row: {e}")))?
        .clone();
    let mut cols: [Option<usize>; 7] = [None; 7];
    for (i, h) in headers.iter().enumerate() {
        let slot = match column_of(h) {
            Some(Column::Email) => 0,
            Some(Column::Given) => 1,
            Some(Column::Family) => 2,
            Some(Column::Organisation) => 3,
            Some(Column::Due) => 4,
            Some(Column::HomePage) => 5,
            Some(Column::Account) => 6,
            None => continue,
        };
        cols[slot].get_or_insert(i);
    }
    for (slot, label) in [
        (0, "email"),
        (1, "given name"),
        (2, "family name"),
        (3, "organisation"),
    ] {
        if cols[slot].is_none() {
            return Err(Error::invalid(
                "file",
                format!("the header row has no \"{label}\" column"),
            ));
        }
    }

    let mut raw_rows: Vec<(u64, [String; 7])> = Vec::new();
    let mut report = ImportReport::default();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.errors.push(LineError {
                    line,
                    column: None,
                    code: None,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if raw_rows.len() >= MAX_ROWS {
            return Err(Error::invalid("file", format!("at most {MAX_ROWS} rows")));
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |slot: usize| cols[slot].and_then(|i| rec.get(i)).unwrap_or("").to_owned();
        raw_rows.push((
            line,
            [get(0), get(1), get(2), get(3), get(4), get(5), get(6)],
        ));
    }
    report.rows = raw_rows.len();

    // Everything the rows refer to, loaded at once.
    let orgs = OrgIndex::new(organisations::all(tx).await?);
    let emails: Vec<String> = raw_rows
        .iter()
        .filter_map(|(_, r)| Email::parse("email", &r[0]).ok())
        .map(|e| e.as_str().to_owned())
        .collect();
    let mut known: HashMap<String, person::Model> = HashMap::new();
    for chunk in emails.chunks(BATCH) {
        for m in tx
            .scoped_select::<person::Entity>()
            .filter(person::Column::Email.is_in(chunk.iter().cloned()))
            .all(&tx.tx)
            .await?
        {
            known.insert(m.email.clone(), m);
        }
    }
    let person_ids: Vec<uuid::Uuid> = known.values().map(|m| m.id).collect();
    let mut enrolled: HashMap<uuid::Uuid, (EnrolmentId, EnrolmentStatus)> = HashMap::new();
    for chunk in person_ids.chunks(BATCH) {
        for e in tx
            .scoped_select::<enrolment::Entity>()
            .filter(enrolment::Column::EditionId.eq(edition_id.uuid()))
            .filter(enrolment::Column::PersonId.is_in(chunk.iter().copied()))
            .all(&tx.tx)
            .await?
        {
            enrolled.insert(
                e.person_id,
                (
                    EnrolmentId::from_uuid(e.id),
                    EnrolmentStatus::from_db(&e.status)?,
                ),
            );
        }
    }
    let org_by_id: HashMap<crate::OrganisationId, &Organisation> =
        orgs.orgs.iter().map(|o| (o.id, o)).collect();

    // Accounts the rows name, and who holds them already.
    let names: Vec<String> = raw_rows
        .iter()
        .map(|(_, r)| r[6].trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let mut holders: HashMap<(String, String), uuid::Uuid> = HashMap::new();
    for chunk in names.chunks(BATCH) {
        for m in tx
            .scoped_select::<person::Entity>()
            .filter(person::Column::ExternalRef.is_in(chunk.iter().cloned()))
            .all(&tx.tx)
            .await?
        {
            if let (Some(h), Some(n)) = (m.external_home_page, m.external_ref) {
                holders.insert((h, n), m.id);
            }
        }
    }
    let mut seen_accounts: HashMap<(String, String), u64> = HashMap::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut planned: Vec<Planned> = Vec::new();
    for (line, r) in &raw_rows {
        let line = *line;
        let mut fail = |column: Option<&'static str>, reason: String| {
            report.errors.push(LineError {
                line,
                column,
                code: None,
                reason,
            })
        };
        let email = match Email::parse("email", &r[0]) {
            Ok(e) => e,
            Err(_) => {
                fail(
                    Some("email"),
                    format!("\"{}\" is not an email address", r[0]),
                );
                continue;
            }
        };
        if let Some(first) = seen.insert(email.as_str().to_owned(), line) {
            fail(
                Some("email"),
                format!("{} already appears on line {first}", email.as_str()),
            );
            continue;
        }
        let org = match orgs.find(&r[3]) {
            Some(o) if o.archived_at.is_none() => o,
            Some(_) => {
                fail(Some("organisation"), format!("\"{}\" is archived", r[3]));
                continue;
            }
            None => {
                fail(
                    Some("organisation"),
                    format!("no organisation \"{}\" (by reference or path)", r[3]),
                );
                continue;
            }
        };
        let due = match parse_due(&r[4]) {
            Ok(d) => d,
            Err(()) => {
                fail(
                    Some("due date"),
                    format!("\"{}\" is not a date (2027-01-31 or 31/01/2027)", r[4]),
                );
                continue;
            }
        };
        let existing = known.get(email.as_str());
        let external = match (r[5].trim(), r[6].trim()) {
            ("", "") => None,
            (home, name) => match ExternalRef::parse("lms", home, name) {
                Ok(x) => Some(x),
                Err(Error::Invalid { field, reason }) => {
                    let column = if field.ends_with("homePage") {
                        "lms home page"
                    } else {
                        "lms id"
                    };
                    fail(Some(column), reason.into_owned());
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        if let Some(x) = &external {
            let key = (x.home_page.clone(), x.name.clone());
            if let Some(first) = seen_accounts.insert(key.clone(), line) {
                fail(
                    Some("lms id"),
                    format!("this LMS account already appears on line {first}"),
                );
                continue;
            }
            if holders
                .get(&key)
                .is_some_and(|holder| existing.is_none_or(|p| p.id != *holder))
            {
                fail(
                    Some("lms id"),
                    "this LMS account already names another person of the space".into(),
                );
                continue;
            }
        }
        let target_org = match existing {
            Some(p) => match org_by_id.get(&crate::OrganisationId::from_uuid(p.organisation_id)) {
                Some(o) => *o,
                None => {
                    return Err(Error::Internal(format!(
                        "person {} without their organisation",
                        p.id
                    )));
                }
            },
            None => org,
        };
        if existing.is_some_and(|p| PersonStatus::from_db_str(&p.status) == PersonStatus::Disabled)
        {
            fail(Some("email"), "this person's account is disabled".into());
            continue;
        }
        let (given, family) = match existing {
            Some(p) => (p.given_name.clone(), p.family_name.clone()),
            None => match (
                name("given name", &r[1], 100),
                name("family name", &r[2], 100),
            ) {
                (Ok(g), Ok(f)) => (g, f),
                (Err(Error::Invalid { reason, .. }), _) => {
                    fail(Some("given name"), reason.into_owned());
                    continue;
                }
                (_, Err(Error::Invalid { reason, .. })) => {
                    fail(Some("family name"), reason.into_owned());
                    continue;
                }
                (Err(e), _) | (_, Err(e)) => return Err(e),
            },
        };
        planned.push(Planned {
            line,
            email: email.as_str().to_owned(),
            given,
            family,
            organisation: target_org,
            due,
            external,
            person: existing.map_or_else(PersonId::new, |p| PersonId::from_uuid(p.id)),
            existing: existing.map(|p| enrolled.get(&p.id).copied()),
        });
    }

    // The rows that could be read, through the admission rules as one batch. With a row already
    // refused above, the gate only checks (nothing will be applied).
    let candidates: Vec<Candidate<'_>> = planned
        .iter()
        .map(|p| Candidate {
            person: p.person,
            organisation: p.organisation,
            existing: p.existing.flatten().map(|(_, s)| s),
            // Rows of disabled people were refused above, with their line.
            disabled: false,
        })
        .collect();
    let check_only = dry_run || !report.errors.is_empty();
    let admission = locked
        .admit(tx, who, gate, Path::Import, &candidates, check_only, &[])
        .await?;
    let mut admitted: Vec<&Planned<'_>> = Vec::with_capacity(planned.len());
    for (p, verdict) in planned.iter().zip(admission.verdicts) {
        match verdict {
            Verdict::Admit(_) => {
                if p.existing.is_none() {
                    report.created_people += 1;
                    report.invitations += 1;
                }
                report.new_enrolments += 1;
                admitted.push(p);
            }
            Verdict::Holds => report.already_enrolled += 1,
            Verdict::Refused(e) => report.errors.push(row_refusal(p, e)),
        }
    }
    for e in [admission.edition_refusal, admission.batch_refusal]
        .into_iter()
        .flatten()
    {
        report.errors.push(file_refusal(e)?);
    }
    if !report.errors.is_empty() || dry_run {
        report.errors.sort_by_key(|e| e.line);
        return Ok(report);
    }

    // Apply, in batches, in the caller's transaction.
    let tenant = tx.tenant_uuid();
    let now = Utc::now();
    let mut people_rows = Vec::new();
    let mut grant_rows = Vec::new();
    let mut invitation_rows: Vec<invitation::ActiveModel> = Vec::new();
    let mut message_rows = Vec::new();
    let mut enrolment_rows = Vec::new();
    let mut event_rows = Vec::new();
    let mut reopen: Vec<EnrolmentId> = Vec::new();
    let mut placed: Vec<admission::Placed> = Vec::new();
    for p in admitted {
        let person_id = match &p.existing {
            Some(Some((eid, _))) => {
                reopen.push(*eid);
                placed.push(admission::Placed {
                    person: p.person,
                    enrolment: *eid,
                    ancestry: p.organisation.ancestry(),
                    vouchers: Vec::new(),
                    self_service: false,
                });
                continue;
            }
            Some(None) => p.person,
            None => {
                let id = p.person;
                people_rows.push(person::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(id.uuid()),
                    email: Set(p.email.clone()),
                    given_name: Set(p.given.clone()),
                    family_name: Set(p.family.clone()),
                    organisation_id: Set(p.organisation.id.uuid()),
                    password_hash: Set(None),
                    status: Set(PersonStatus::Invited.as_str().to_owned()),
                    password_changed_at: Set(None),
                    token_version: Set(0),
                    created_at: Set(now),
                    external_home_page: Set(p.external.as_ref().map(|x| x.home_page.clone())),
                    external_ref: Set(p.external.as_ref().map(|x| x.name.clone())),
                    // Rows inserted together skip `before_save`: the digest is written here.
                    mbox_sha1sum: Set(Some(crate::people::mbox_sha1sum(&p.email))),
                });
                grant_rows.push(grant::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(RoleGrantId::new().uuid()),
                    person_id: Set(id.uuid()),
                    organisation_id: Set(p.organisation.id.uuid()),
                    role: Set(Role::Learner.as_str().to_owned()),
                    created_at: Set(now),
                });
                let (inv, msg, _token) = invitations::rows(tx, id, &p.email, &p.given, accept_url)?;
                invitation_rows.push(inv);
                message_rows.push(msg);
                id
            }
        };
        let eid = EnrolmentId::new();
        placed.push(admission::Placed {
            person: person_id,
            enrolment: eid,
            ancestry: p.organisation.ancestry(),
            vouchers: Vec::new(),
            self_service: false,
        });
        enrolment_rows.push(enrolment::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(eid.uuid()),
            edition_id: Set(edition_id.uuid()),
            person_id: Set(person_id.uuid()),
            status: Set(EnrolmentStatus::Active.as_str().to_owned()),
            source: Set(Source::Import.as_str().to_owned()),
            due_on: Set(p.due),
            enrolled_by: Set(Some(actor.uuid())),
            created_at: Set(now),
            updated_at: Set(now),
            completed_at: Set(None),
            grade: Set(None),
            identity_verified_at: Set(None),
            identity_verified_source: Set(None),
        });
        event_rows.push(event::ActiveModel {
            tenant_id: Set(tenant),
            id: Set(EnrolmentEventId::new().uuid()),
            enrolment_id: Set(eid.uuid()),
            kind: Set("imported".to_owned()),
            actor_id: Set(Some(actor.uuid())),
            note: Set(None),
            at: Set(now),
        });
    }
    insert_batches(tx, people_rows).await?;
    // Known people get the LMS account their row names (the same again changes nothing).
    for p in &planned {
        let (Some(x), Some(Some(_)) | Some(None)) = (&p.external, known_state(&known, p)) else {
            continue;
        };
        tx.scoped_update::<person::Entity>()
            .set(person::ActiveModel {
                external_home_page: Set(Some(x.home_page.clone())),
                external_ref: Set(Some(x.name.clone())),
                ..Default::default()
            })
            .filter(person::Column::Id.eq(p.person.uuid()))
            .exec(&tx.tx)
            .await?;
    }
    insert_batches(tx, grant_rows).await?;
    insert_batches(tx, invitation_rows).await?;
    insert_batches(tx, message_rows).await?;
    insert_batches(tx, enrolment_rows).await?;
    insert_batches(tx, event_rows).await?;
    for eid in reopen {
        super::reopen(tx, eid, Source::Import, Some(actor)).await?;
    }
    gate.placed(tx, &locked.edition, &placed).await?;
    report.applied = true;
    Ok(report)
}

/// For a row of a person who existed before the import: whether their account differs from
/// the row's (`Some(Some(()))`) or they have none (`Some(None)`); `None` when nothing changes.
fn known_state(known: &HashMap<String, person::Model>, p: &Planned<'_>) -> Option<Option<()>> {
    let m = known.get(&p.email)?;
    let x = p.external.as_ref()?;
    match (&m.external_home_page, &m.external_ref) {
        (Some(h), Some(n)) if *h == x.home_page && *n == x.name => None,
        (Some(_), Some(_)) => Some(Some(())),
        _ => Some(None),
    }
}

/// A row the admission rules refused, with the column to look at.
fn row_refusal(p: &Planned<'_>, e: Error) -> LineError {
    let (code, reason) = match e {
        Error::Refused { code, reason } => (code, reason.into_owned()),
        e => ("", e.to_string()),
    };
    let (column, reason) = match code {
        "OUT_OF_SUBTREE" if p.existing.is_some() => (
            Some("email"),
            "this person belongs to an organisation you do not manage".to_owned(),
        ),
        "OUT_OF_SUBTREE" => (
            Some("organisation"),
            format!(
                "\"{}\" is not an organisation you manage",
                p.organisation.name
            ),
        ),
        "NOT_VISIBLE" => (Some("organisation"), reason),
        _ => (None, reason),
    };
    LineError {
        line: p.line,
        column,
        code: (!code.is_empty()).then_some(code),
        reason,
    }
}

/// A refusal of the file as a whole (line 0); anything but a rule's refusal stays an error.
fn file_refusal(e: Error) -> Result<LineError> {
    match e {
        Error::Refused { code, reason } => Ok(LineError {
            line: 0,
            column: None,
            code: Some(code),
            reason: reason.into_owned(),
        }),
        // Billing's refusals with figures (SEAT_LIMIT_REACHED): the figures join the reason.
        Error::RefusedWith {
            code,
            reason,
            figures,
        } => Ok(LineError {
            line: 0,
            column: None,
            code: Some(code),
            reason: figures
                .iter()
                .fold(reason.into_owned(), |r, (k, v)| format!("{r}; {k}: {v}")),
        }),
        e => Err(e),
    }
}

async fn insert_batches<A>(tx: &TenantTx, rows: Vec<A>) -> Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(&tx.tx)
            .await?;
    }
    Ok(())
}
