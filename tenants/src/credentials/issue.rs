//! Issuance: the `enrolment.completed` job signs the enrolment's credential and, when that
//! completes a pathway for the learner, the pathway's. Credentials are unique on the space and
//! their source (the enrolment; the pathway and the person), and the job's transaction holds
//! both the signing and the job's removal: a crash before commit leaves the job to run again,
//! a replayed job or a second worker finds the credential and signs nothing.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Months, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::document::{self, AchievementFacts, CredentialFacts, IssuerFacts, Urls};
use super::entity::credential;
use super::keys;
use super::status::LIST_SIZE;
use crate::auth::secret::random_bytes;
use crate::catalogue::Assessment;
use crate::editions::entity::edition;
use crate::editions::{self, Parts};
use crate::enrolments::entity::enrolment;
use crate::jobs::{Job, JobHandler};
use crate::pathways::entity::step;
use crate::people::entity::person;
use crate::spaces::{self, links::Links};
use crate::{EditionId, EnrolmentId, Error, PathwayId, Result, TenantTx};

/// A list is filled to half at most, so a random free index is found in a few draws.
const PER_LIST: u64 = (LIST_SIZE / 2) as u64;

/// The job handler; the gateway registers it with its links.
pub struct CredentialJobs {
    pub links: Links,
}

#[async_trait::async_trait]
impl JobHandler for CredentialJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[crate::progress::derive::COMPLETED_JOB]
    }

    async fn run(&self, tx: &TenantTx, now: DateTime<Utc>, job: &Job) -> Result<()> {
        let id = job
            .payload
            .get("enrolmentId")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| Error::Internal(format!("{}: no enrolmentId", job.kind)))?;
        let urls = urls(tx, &self.links).await?;
        issue_for_enrolment(tx, &urls, EnrolmentId::from_uuid(id), now).await?;
        Ok(())
    }
}

/// The space's credential URLs: on its own `<slug>.<base domain>` host, which stays while
/// custom domains come and go.
pub async fn urls(tx: &TenantTx, links: &Links) -> Result<Urls> {
    let space = spaces::current(tx).await?;
    Ok(Urls {
        origin: links.origin(&links.slug_host(&space.slug)),
    })
}

/// Issues the credential of a completed enrolment, and any pathway it completes; an enrolment
/// not completed gets nothing. Returns the ids of the credentials it signed now (empty when
/// they exist already).
pub async fn issue_for_enrolment(
    tx: &TenantTx,
    urls: &Urls,
    id: EnrolmentId,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let Some(e) = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(id.uuid()))
        .one()
        .await?
    else {
        return Ok(vec![]);
    };
    if e.status != "completed" {
        return Ok(vec![]);
    }
    let mut signed = Vec::new();
    let source = format!("enrolment:{}", e.id);
    if !exists(tx, &source).await? {
        let edition = EditionId::from_uuid(e.edition_id);
        let a = edition_achievement(tx, edition).await?;
        let months = tx
            .select::<edition::Entity>()
            .filter(edition::Column::Id.eq(e.edition_id))
            .one()
            .await?
            .and_then(|m| m.credential_valid_months);
        let learner = Learner {
            person: e.person_id,
            completed_at: e.completed_at.unwrap_or(now),
            grade: e.grade,
            identity_verified: e.identity_verified_at.is_some(),
        };
        let origin = Origin {
            source,
            enrolment: Some(e.id),
            edition: Some(e.edition_id),
            pathway: None,
        };
        signed.extend(sign(tx, urls, origin, &a, learner, months, now).await?);
    }
    signed.extend(pathways_completed(tx, urls, e.person_id, e.edition_id, now).await?);
    Ok(signed)
}

async fn exists(tx: &TenantTx, source: &str) -> Result<bool> {
    Ok(tx
        .select::<credential::Entity>()
        .filter(credential::Column::Source.eq(source))
        .count()
        .await?
        > 0)
}

struct Learner {
    person: Uuid,
    completed_at: DateTime<Utc>,
    grade: Option<f64>,
    identity_verified: bool,
}

struct Origin {
    source: String,
    enrolment: Option<Uuid>,
    edition: Option<Uuid>,
    pathway: Option<Uuid>,
}

/// The achievement of editions taken together (one for an edition, in order for a pathway).
async fn achievement_of(
    tx: &TenantTx,
    ids: &[EditionId],
) -> Result<(
    Vec<(editions::Edition, crate::catalogue::Course)>,
    Vec<String>,
)> {
    let mut found = editions::many_with_courses(tx, ids, Parts::ALL, true).await?;
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        ordered.push(
            found
                .remove(id)
                .ok_or_else(|| Error::Internal(format!("edition {id} vanished")))?,
        );
    }
    let mut providers = Vec::new();
    for (_, c) in &ordered {
        let p = crate::catalogue::provider(tx, c.provider).await?.name;
        if !providers.contains(&p) {
            providers.push(p);
        }
    }
    Ok((ordered, providers))
}

fn totals(parts: &[(editions::Edition, crate::catalogue::Course)]) -> (i64, i64, Vec<i32>) {
    let levels: BTreeSet<i32> = parts.iter().map(|(_, c)| c.eqf_level).collect();
    (
        parts.iter().map(|(_, c)| i64::from(c.ects_halves)).sum(),
        parts.iter().map(|(_, c)| i64::from(c.study_minutes)).sum(),
        levels.into_iter().collect(),
    )
}

async fn edition_achievement(tx: &TenantTx, id: EditionId) -> Result<AchievementFacts> {
    let (parts, providers) = achievement_of(tx, &[id]).await?;
    let (ects_halves, study_minutes, eqf_levels) = totals(&parts);
    let (e, c) = &parts[0];
    Ok(AchievementFacts {
        id: format!("urn:uuid:{}", e.id),
        pathway: false,
        microcredential: false,
        name: e.title.clone().unwrap_or_else(|| c.title.clone()),
        description: e.description.clone().unwrap_or_else(|| c.summary.clone()),
        language: Some(c.language.clone()),
        criteria: e
            .modules
            .iter()
            .filter(|m| m.required)
            .map(|m| m.title.clone())
            .collect(),
        outcomes: c.learning_outcomes.clone(),
        skills: c
            .skills
            .iter()
            .map(|s| (s.esco_uri.clone(), s.label.clone()))
            .collect(),
        ects_halves,
        study_minutes,
        eqf_levels,
        assessment: c.assessment,
        providers,
    })
}

/// Pathways holding this edition whose every edition the person has completed now.
async fn pathways_completed(
    tx: &TenantTx,
    urls: &Urls,
    person: Uuid,
    edition: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let holding: Vec<Uuid> = tx
        .select::<step::Entity>()
        .filter(step::Column::EditionId.eq(edition))
        .all()
        .await?
        .into_iter()
        .map(|s| s.pathway_id)
        .collect();
    let mut signed = Vec::new();
    for pathway in holding {
        let source = format!("pathway:{pathway}:{person}");
        if exists(tx, &source).await? {
            continue;
        }
        let p = crate::pathways::load(tx, PathwayId::from_uuid(pathway)).await?;
        let done: HashMap<Uuid, enrolment::Model> = tx
            .select::<enrolment::Entity>()
            .filter(enrolment::Column::PersonId.eq(person))
            .filter(enrolment::Column::Status.eq("completed"))
            .filter(enrolment::Column::EditionId.is_in(p.editions.iter().map(|e| e.uuid())))
            .order_by_asc(enrolment::Column::CompletedAt)
            .all()
            .await?
            .into_iter()
            .map(|e| (e.edition_id, e))
            .collect();
        if p.editions.is_empty() || p.editions.iter().any(|e| !done.contains_key(&e.uuid())) {
            continue;
        }
        let (parts, providers) = achievement_of(tx, &p.editions).await?;
        let facts: Vec<_> = parts
            .iter()
            .map(|(_, c)| crate::pathways::cmf::CourseFacts::from(c))
            .collect();
        let microcredential = crate::pathways::cmf::check(&facts).is_microcredential();
        let (ects_halves, study_minutes, eqf_levels) = totals(&parts);
        let mut skills = Vec::new();
        let mut outcomes = Vec::new();
        for (_, c) in &parts {
            for s in &c.skills {
                if !skills
                    .iter()
                    .any(|(u, _): &(String, String)| u == &s.esco_uri)
                {
                    skills.push((s.esco_uri.clone(), s.label.clone()));
                }
            }
            outcomes.extend(c.learning_outcomes.iter().cloned());
        }
        let a = AchievementFacts {
            id: format!("urn:uuid:{pathway}"),
            pathway: true,
            microcredential,
            name: p.title.clone(),
            description: p.description.clone().unwrap_or_else(|| p.title.clone()),
            language: None,
            criteria: parts
                .iter()
                .map(|(e, c)| e.title.clone().unwrap_or_else(|| c.title.clone()))
                .collect(),
            outcomes,
            skills,
            ects_halves,
            study_minutes,
            eqf_levels,
            assessment: parts.last().map_or(Assessment::None, |(_, c)| c.assessment),
            providers,
        };
        let enrolments: Vec<&enrolment::Model> = done.values().collect();
        let grades: Vec<f64> = enrolments.iter().filter_map(|e| e.grade).collect();
        let last = p
            .editions
            .last()
            .and_then(|e| done.get(&e.uuid()))
            .ok_or_else(|| Error::Internal("pathway without a last edition".into()))?;
        let learner = Learner {
            person,
            completed_at: enrolments
                .iter()
                .filter_map(|e| e.completed_at)
                .max()
                .unwrap_or(now),
            grade: (!grades.is_empty()).then(|| {
                (grades.iter().sum::<f64>() / grades.len() as f64 * 100.0).round() / 100.0
            }),
            // The framework asks it of the assessment that ends the pathway.
            identity_verified: last.identity_verified_at.is_some(),
        };
        let origin = Origin {
            source,
            enrolment: None,
            edition: None,
            pathway: Some(pathway),
        };
        // As long as its shortest-lived edition's certificate, when any edition sets one.
        let months = tx
            .select::<edition::Entity>()
            .filter(edition::Column::Id.is_in(p.editions.iter().map(|e| e.uuid())))
            .all()
            .await?
            .into_iter()
            .filter_map(|m| m.credential_valid_months)
            .min();
        signed.extend(sign(tx, urls, origin, &a, learner, months, now).await?);
    }
    Ok(signed)
}

/// Signs and records one credential; `None` when another transaction recorded it first.
async fn sign(
    tx: &TenantTx,
    urls: &Urls,
    origin: Origin,
    a: &AchievementFacts,
    learner: Learner,
    valid_months: Option<i32>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    let p = tx
        .select::<person::Entity>()
        .filter(person::Column::Id.eq(learner.person))
        .one()
        .await?
        .ok_or_else(|| Error::Internal("the learner vanished".into()))?;
    let space = spaces::current(tx).await?;
    let has_logo = super::logo::exists(tx).await?;
    let issuer = IssuerFacts {
        name: space.display_name.clone(),
        email: space.branding.support_email.clone(),
        has_logo,
    };
    let (key_id, signing_key) = keys::current_signing(tx, now).await?;
    let salt = crate::auth::secret::new_token()?;
    // A slot taken meanwhile by another issuance: draw again (the source's own conflict ends it).
    for _ in 0..8 {
        let (list, index) = status_slot(tx).await?;
        let done = sign_into(
            tx,
            urls,
            &origin,
            a,
            &learner,
            valid_months,
            now,
            Slot {
                key: (key_id, &signing_key),
                list,
                index,
                email: &p.email,
                salt: &salt,
                issuer: &issuer,
            },
        )
        .await?;
        match done {
            Signed::Inserted(id) => return Ok(Some(id)),
            Signed::Exists => return Ok(None),
            Signed::SlotTaken => continue,
        }
    }
    Err(Error::Internal(
        "no free status list slot after 8 draws".into(),
    ))
}

struct Slot<'a> {
    key: (crate::CredentialKeyId, &'a super::signing::SigningKey),
    list: i32,
    index: i32,
    email: &'a str,
    salt: &'a str,
    issuer: &'a IssuerFacts,
}

enum Signed {
    Inserted(Uuid),
    Exists,
    SlotTaken,
}

#[allow(clippy::too_many_arguments)]
async fn sign_into(
    tx: &TenantTx,
    urls: &Urls,
    origin: &Origin,
    a: &AchievementFacts,
    learner: &Learner,
    valid_months: Option<i32>,
    now: DateTime<Utc>,
    slot: Slot<'_>,
) -> Result<Signed> {
    let (key_id, signing_key) = slot.key;
    let (list, index) = (slot.list, slot.index);
    // Random (v4-shaped) so the URL cannot be guessed; never a time-ordered id.
    let id = uuid::Builder::from_random_bytes(random_bytes::<16>()?).into_uuid();
    // Valid for its period from completion, whenever the job ran.
    let valid_until = valid_months
        .and_then(|m| u32::try_from(m).ok())
        .and_then(|m| learner.completed_at.checked_add_months(Months::new(m)));
    let facts = CredentialFacts {
        id,
        key: key_id.uuid(),
        status_list: list,
        status_index: index,
        subject: document::subject_id(tx.tenant_uuid(), learner.person),
        email: slot.email.to_owned(),
        salt: slot.salt.to_owned(),
        grade: learner.grade,
        identity_verified: learner.identity_verified,
        completed_at: learner.completed_at,
        issued_at: now,
        valid_until,
    };
    let payload = document::credential(urls, slot.issuer, a, &facts);
    let jwt = signing_key.sign(&urls.key(key_id.uuid()), &payload)?;
    let row = credential::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id),
        source: Set(origin.source.clone()),
        kind: Set(if a.pathway { "pathway" } else { "edition" }.into()),
        person_id: Set(learner.person),
        enrolment_id: Set(origin.enrolment),
        edition_id: Set(origin.edition),
        pathway_id: Set(origin.pathway),
        achievement_name: Set(a.name.clone()),
        microcredential: Set(a.microcredential),
        key_id: Set(key_id.uuid()),
        jwt: Set(jwt),
        status_list: Set(list),
        status_index: Set(index),
        issued_at: Set(now),
        valid_until: Set(valid_until),
        public: Set(false),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        revoked_by: Set(None),
    };
    // Any unique index: a credential of this source recorded meanwhile wins (this one was never
    // stored or shown), or the status slot was taken and another is drawn.
    let inserted = credential::Entity::insert(row)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .try_insert()
        .exec_without_returning(&tx.tx)
        .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        Ok(Signed::Inserted(id))
    } else if exists(tx, &origin.source).await? {
        Ok(Signed::Exists)
    } else {
        Ok(Signed::SlotTaken)
    }
}

/// A free random index in the space's current list.
async fn status_slot(tx: &TenantTx) -> Result<(i32, i32)> {
    let issued = tx.select::<credential::Entity>().count().await?;
    let list = i32::try_from(issued / PER_LIST + 1)
        .map_err(|_| Error::Internal("status lists exhausted".into()))?;
    for _ in 0..64 {
        let r = u32::from_le_bytes(random_bytes::<4>()?);
        let index = (r % LIST_SIZE as u32) as i32;
        let taken = tx
            .select::<credential::Entity>()
            .filter(credential::Column::StatusList.eq(list))
            .filter(credential::Column::StatusIndex.eq(index))
            .count()
            .await?
            > 0;
        if !taken {
            return Ok((list, index));
        }
    }
    Err(Error::Internal("no free status list index".into()))
}
