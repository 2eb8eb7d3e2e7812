//! Importing enrolments from a CSV file (journey 5): every row is checked first; if any fails,
//! nothing is applied and the report names each bad line, column and reason. Otherwise every row
//! applies in the one transaction, in batches. Importing the same file again changes nothing.
//!
//! Columns (a header row; any order; case, spaces, `_` and `-` ignored): `email`, `given name`,
//! `family name`, `organisation` (its external reference, or its path of names below the root,
//! such as `Durand/Production`), and optionally `due date` (`2027-01-31` or `31/01/2027`). UTF-8
//! with or without a BOM, comma- or semicolon-separated.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::entity::{enrolment, event};
use super::{EnrolmentStatus, Source};
use crate::auth::{entity::invitation, invitations};
use crate::editions::{self, EditionStatus};
use crate::kernel::principal::Need;
use crate::organisations::{self, Organisation};
use crate::people::PersonStatus;
use crate::people::entity::{grant, person};
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
    /// 1 is the header row.
    pub line: u64,
    pub column: Option<&'static str>,
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

enum Column {
    Email,
    Given,
    Family,
    Organisation,
    Due,
}

fn column_of(header: &str) -> Option<Column> {
    let h: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Some(match h.as_str() {
        "email" | "mail" | "emailaddress" | "courriel" => Column::Email,
        "givenname" | "firstname" | "prenom" | "prénom" => Column::Given,
        "familyname" | "lastname" | "surname" | "nom" => Column::Family,
        "organisation" | "organization" | "org" | "company" | "entreprise" => Column::Organisation,
        "duedate" | "due" | "echeance" | "échéance" => Column::Due,
        _ => return None,
    })
}

fn parse_due(raw: &str) -> std::result::Result<Option<NaiveDate>, ()> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| ())
}

/// One valid row, ready to apply.
struct Planned {
    email: String,
    given: String,
    family: String,
    organisation: crate::OrganisationId,
    due: Option<NaiveDate>,
    existing: Option<(PersonId, Option<(EnrolmentId, EnrolmentStatus)>)>,
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
    let edition = editions::load(tx, edition_id)
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
    let mut cols: [Option<usize>; 5] = [None; 5];
    for (i, h) in headers.iter().enumerate() {
        let slot = match column_of(h) {
            Some(Column::Email) => 0,
            Some(Column::Given) => 1,
            Some(Column::Family) => 2,
            Some(Column::Organisation) => 3,
            Some(Column::Due) => 4,
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

    let mut raw_rows: Vec<(u64, [String; 5])> = Vec::new();
    let mut report = ImportReport::default();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.errors.push(LineError {
                    line,
                    column: None,
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
        raw_rows.push((line, [get(0), get(1), get(2), get(3), get(4)]));
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
            .select::<person::Entity>()
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
            .select::<enrolment::Entity>()
            .filter(enrolment::Column::EditionId.eq(edition_id.uuid()))
            .filter(enrolment::Column::PersonId.is_in(chunk.iter().copied()))
            .all(&tx.tx)
            .await?
        {
            enrolled.insert(
                e.person_id,
                (
                    EnrolmentId::from_uuid(e.id),
                    EnrolmentStatus::from_db(&e.status),
                ),
            );
        }
    }
    let org_by_id: HashMap<crate::OrganisationId, &Organisation> =
        orgs.orgs.iter().map(|o| (o.id, o)).collect();

    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut planned: Vec<Planned> = Vec::new();
    for (line, r) in &raw_rows {
        let line = *line;
        let mut fail = |column: Option<&'static str>, reason: String| {
            report.errors.push(LineError {
                line,
                column,
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
        if !who.may(Need::Manage, &org.path) {
            fail(
                Some("organisation"),
                format!("\"{}\" is not an organisation you manage", r[3]),
            );
            continue;
        }
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
        let target_org = match existing {
            Some(p) => match org_by_id.get(&crate::OrganisationId::from_uuid(p.organisation_id)) {
                Some(o) if who.may(Need::Manage, &o.path) => *o,
                _ => {
                    fail(
                        Some("email"),
                        "this person belongs to an organisation you do not manage".into(),
                    );
                    continue;
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
        if !edition.visibility.reaches(&target_org.ancestry()) {
            fail(
                Some("organisation"),
                "this edition is not offered to this person's organisation".into(),
            );
            continue;
        }
        planned.push(Planned {
            email: email.as_str().to_owned(),
            given,
            family,
            organisation: org.id,
            due,
            existing: existing.map(|p| (PersonId::from_uuid(p.id), enrolled.get(&p.id).copied())),
        });
    }

    // What would happen.
    let mut seats_needed = 0i64;
    for p in &planned {
        match &p.existing {
            None => {
                report.created_people += 1;
                report.invitations += 1;
                report.new_enrolments += 1;
                seats_needed += 1;
            }
            Some((_, Some((_, s)))) if s.holds_seat() => report.already_enrolled += 1,
            Some(_) => {
                report.new_enrolments += 1;
                seats_needed += 1;
            }
        }
    }
    if edition.status != EditionStatus::Open {
        report.errors.push(LineError {
            line: 0,
            column: None,
            reason: "the edition is not open for enrolment".into(),
        });
    }
    if let Some(cap) = edition.capacity {
        let taken = super::seats_taken(tx, edition_id).await?;
        if taken + seats_needed > i64::from(cap) {
            report.errors.push(LineError {
                line: 0,
                column: None,
                reason: format!(
                    "the edition has {} places left and the file would take {seats_needed}",
                    (i64::from(cap) - taken).max(0)
                ),
            });
        }
    }
    if !report.errors.is_empty() || dry_run {
        report.errors.sort_by_key(|e| e.line);
        return Ok(report);
    }

    // Apply, in batches, in the caller's transaction.
    super::lock_edition(tx, edition_id).await?;
    let tenant = tx.tenant_uuid();
    let now = Utc::now();
    let mut people_rows = Vec::new();
    let mut grant_rows = Vec::new();
    let mut invitation_rows: Vec<invitation::ActiveModel> = Vec::new();
    let mut message_rows = Vec::new();
    let mut enrolment_rows = Vec::new();
    let mut event_rows = Vec::new();
    let mut reopen: Vec<EnrolmentId> = Vec::new();
    for p in &planned {
        let person_id = match &p.existing {
            Some((_, Some((eid, s)))) => {
                if !s.holds_seat() {
                    reopen.push(*eid);
                }
                continue;
            }
            Some((id, None)) => *id,
            None => {
                let id = PersonId::new();
                people_rows.push(person::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(id.uuid()),
                    email: Set(p.email.clone()),
                    given_name: Set(p.given.clone()),
                    family_name: Set(p.family.clone()),
                    organisation_id: Set(p.organisation.uuid()),
                    password_hash: Set(None),
                    status: Set(PersonStatus::Invited.as_str().to_owned()),
                    password_changed_at: Set(None),
                    token_version: Set(0),
                    created_at: Set(now),
                });
                grant_rows.push(grant::ActiveModel {
                    tenant_id: Set(tenant),
                    id: Set(RoleGrantId::new().uuid()),
                    person_id: Set(id.uuid()),
                    organisation_id: Set(p.organisation.uuid()),
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
    insert_batches(tx, grant_rows).await?;
    insert_batches(tx, invitation_rows).await?;
    insert_batches(tx, message_rows).await?;
    insert_batches(tx, enrolment_rows).await?;
    insert_batches(tx, event_rows).await?;
    for eid in reopen {
        super::reopen(tx, eid, Source::Import, Some(actor)).await?;
    }
    report.applied = true;
    Ok(report)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_dates_are_read_leniently() {
        assert!(matches!(column_of("E-mail"), Some(Column::Email)));
        assert!(matches!(column_of("Given name"), Some(Column::Given)));
        assert!(matches!(column_of("family_name"), Some(Column::Family)));
        assert!(matches!(
            column_of("Organisation"),
            Some(Column::Organisation)
        ));
        assert!(matches!(column_of("Due date"), Some(Column::Due)));
        assert!(column_of("shoe size").is_none());
        assert_eq!(
            parse_due("2027-01-31"),
            Ok(NaiveDate::from_ymd_opt(2027, 1, 31))
        );
        assert_eq!(
            parse_due("31/01/2027"),
            Ok(NaiveDate::from_ymd_opt(2027, 1, 31))
        );
        assert_eq!(parse_due(""), Ok(None));
        assert!(parse_due("31.01.2027").is_err());
    }
}
