//! From statements to progress, in the transaction that stores them.
//!
//! A statement moves progress when its object is the activity IRI of a current module and its
//! actor is a person of the space (by `mbox`, `mbox_sha1sum`, or an `account` matching the
//! person's external reference) enrolled in that module's edition. A `context.registration`
//! that names one of the person's enrolments narrows it to that one.
//!
//! Progress only grows (completed, passed and failed are flags, the score is the best one), so
//! a replayed or repeated statement changes nothing. A voided statement is the one way back:
//! before completion the module's progress is folded again from the statements still standing;
//! after it, completion stands and the voiding is reported on the enrolment's history.
//! Statements about unknown actors or activities are counted for the admins' report.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Value, json};
use spaces_xapi::agent::{self, Ifi, Place};
use uuid::Uuid;

use crate::editions::MoveOn;
use crate::editions::entity::{edition, module};
use crate::enrolments::entity::{enrolment, event};
use crate::people::entity::person;
use crate::{EnrolmentEventId, Result, TenantTx};

use super::entity::module_progress;
use super::query;

const VERB: &str = "http://adlnet.gov/expapi/verbs/";
/// The job certificates pick up once an enrolment completes.
pub const COMPLETED_JOB: &str = "enrolment.completed";
/// The xAPI extension (in `context.extensions` or `result.extensions`) by which an LMS says
/// the learner's identity was verified at this assessment: `true` on a passed or completed
/// statement records it on the enrolment, and its certificate says so.
pub const IDENTITY_VERIFIED_EXTENSION: &str = "urn:spaces:xapi:identity-verified";

/// What one statement says about a module.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fact {
    pub completed: bool,
    pub passed: bool,
    pub failed: bool,
    pub scaled: Option<f64>,
}

impl Fact {
    /// Read from the verb (ADL's completed, passed, failed, as cmi5 sends them) and the result.
    pub fn of(s: &Value) -> Fact {
        let verb = s.pointer("/verb/id").and_then(Value::as_str).unwrap_or("");
        let verb = verb.strip_prefix(VERB).unwrap_or("");
        let success = s.pointer("/result/success").and_then(Value::as_bool);
        Fact {
            completed: verb == "completed"
                || s.pointer("/result/completion").and_then(Value::as_bool) == Some(true),
            passed: verb == "passed" || success == Some(true),
            failed: verb == "failed" || success == Some(false),
            scaled: s
                .pointer("/result/score/scaled")
                .and_then(Value::as_f64)
                .filter(|x| x.is_finite()),
        }
    }

    fn merge(&mut self, other: Fact) {
        self.completed |= other.completed;
        self.passed |= other.passed;
        self.failed |= other.failed;
        self.scaled = match (self.scaled, other.scaled) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A statement about an activity by an identified agent: what may move progress.
struct About {
    statement_id: String,
    activity: String,
    ifi: Ifi,
    registration: Option<Uuid>,
    fact: Fact,
    identity_verified: bool,
}

fn about(s: &Value) -> Option<About> {
    let object = s.get("object")?;
    let kind = object
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity");
    if kind != "Activity" {
        return None;
    }
    let actor = agent::actor(s.get("actor")?, "actor", Place::Actor).ok()?;
    Some(About {
        statement_id: s.get("id").and_then(Value::as_str)?.to_owned(),
        activity: object.get("id").and_then(Value::as_str)?.to_owned(),
        ifi: actor.ifi.filter(|_| !actor.group)?,
        registration: s
            .pointer("/context/registration")
            .and_then(Value::as_str)
            .and_then(|r| Uuid::parse_str(r).ok()),
        fact: Fact::of(s),
        identity_verified: super::identity::reported(s),
    })
}

/// What the statements of one request name: modules by IRI, people by IFI key, their
/// enrolments (active or completed), and the editions' minimum scores.
struct World {
    modules: HashMap<String, Vec<module::Model>>,
    people: HashMap<String, person::Model>,
    enrolments: Vec<enrolment::Model>,
    min_score: HashMap<Uuid, Option<i32>>,
}

async fn world(tx: &TenantTx, abouts: &[&About]) -> Result<World> {
    let iris: Vec<String> = abouts
        .iter()
        .map(|a| a.activity.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut modules: HashMap<String, Vec<module::Model>> = HashMap::new();
    if !iris.is_empty() {
        for m in tx
            .select::<module::Entity>()
            .filter(module::Column::ActivityIri.is_in(iris))
            .filter(module::Column::RetiredAt.is_null())
            .all()
            .await?
        {
            modules.entry(m.activity_iri.clone()).or_default().push(m);
        }
    }
    // People, only for statements about a module.
    let mut emails = HashSet::new();
    let mut sha1s = HashSet::new();
    let mut accounts = HashSet::new();
    for a in abouts.iter().filter(|a| modules.contains_key(&a.activity)) {
        match &a.ifi {
            Ifi::Mbox(m) => {
                emails.insert(m.trim_start_matches("mailto:").to_lowercase());
            }
            Ifi::MboxSha1(h) => {
                sha1s.insert(h.clone());
            }
            Ifi::Account { name, .. } => {
                accounts.insert(name.clone());
            }
            Ifi::OpenId(_) => {}
        }
    }
    let mut found = Vec::new();
    for (col, values) in [
        (person::Column::Email, emails),
        (person::Column::MboxSha1sum, sha1s),
        (person::Column::ExternalRef, accounts),
    ] {
        if !values.is_empty() {
            found.extend(
                tx.select::<person::Entity>()
                    .filter(col.is_in(values))
                    .all()
                    .await?,
            );
        }
    }
    let mut people = HashMap::new();
    for p in found {
        for key in person_keys(&p) {
            people.insert(key, p.clone());
        }
    }
    let person_ids: HashSet<Uuid> = people.values().map(|p| p.id).collect();
    let edition_ids: HashSet<Uuid> = modules.values().flatten().map(|m| m.edition_id).collect();
    let enrolments = if person_ids.is_empty() || edition_ids.is_empty() {
        Vec::new()
    } else {
        tx.select::<enrolment::Entity>()
            .filter(enrolment::Column::PersonId.is_in(person_ids))
            .filter(enrolment::Column::EditionId.is_in(edition_ids.clone()))
            .filter(enrolment::Column::Status.is_in(["active", "completed"]))
            .all()
            .await?
    };
    let min_score = if edition_ids.is_empty() {
        HashMap::new()
    } else {
        tx.select::<edition::Entity>()
            .filter(edition::Column::Id.is_in(edition_ids))
            .all()
            .await?
            .into_iter()
            .map(|e| (e.id, e.min_score))
            .collect()
    };
    Ok(World {
        modules,
        people,
        enrolments,
        min_score,
    })
}

/// Every IFI key an LMS may name this person by.
fn person_keys(p: &person::Model) -> Vec<String> {
    let mut keys = vec![
        Ifi::Mbox(format!("mailto:{}", p.email.to_lowercase())).key(),
        Ifi::MboxSha1(crate::people::mbox_sha1sum(&p.email)).key(),
    ];
    if let (Some(home_page), Some(name)) = (&p.external_home_page, &p.external_ref) {
        keys.push(
            Ifi::Account {
                home_page: home_page.clone(),
                name: name.clone(),
            }
            .key(),
        );
    }
    keys
}

/// The key an IFI is looked up by in [`World::people`]: addresses compared without case.
fn lookup_key(ifi: &Ifi) -> String {
    match ifi {
        Ifi::Mbox(m) => Ifi::Mbox(m.to_lowercase()).key(),
        other => other.key(),
    }
}

/// The (enrolment, module) pairs a statement is about.
fn targets<'w>(w: &'w World, a: &About) -> Vec<(&'w enrolment::Model, &'w module::Model)> {
    let (Some(modules), Some(person)) = (
        w.modules.get(&a.activity),
        w.people.get(&lookup_key(&a.ifi)),
    ) else {
        return Vec::new();
    };
    let mut out: Vec<_> = modules
        .iter()
        .flat_map(|m| {
            w.enrolments
                .iter()
                .filter(move |e| e.person_id == person.id && e.edition_id == m.edition_id)
                .map(move |e| (e, m))
        })
        .collect();
    if let Some(r) = a.registration
        && out.iter().any(|(e, _)| e.id == r)
    {
        out.retain(|(e, _)| e.id == r);
    }
    out
}

/// Applies newly stored statements, and takes back what newly voided ones had made; answers
/// the enrolments whose progress was written.
pub(crate) async fn apply(
    tx: &TenantTx,
    stored: &[&Value],
    voided: &[&Value],
    now: DateTime<Utc>,
) -> Result<Vec<super::Progressed>> {
    let new: Vec<About> = stored.iter().filter_map(|s| about(s)).collect();
    let gone: Vec<About> = voided.iter().filter_map(|s| about(s)).collect();
    if new.is_empty() && gone.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<&About> = new.iter().chain(gone.iter()).collect();
    let w = world(tx, &all).await?;

    // Unknown activities and actors, counted.
    let mut unmatched: BTreeMap<(&str, String), i64> = BTreeMap::new();
    let mut facts: BTreeMap<(Uuid, Uuid), Fact> = BTreeMap::new();
    let mut verified: BTreeSet<Uuid> = BTreeSet::new();
    for a in &new {
        if !w.modules.contains_key(&a.activity) {
            *unmatched
                .entry(("activity", a.activity.clone()))
                .or_default() += 1;
            continue;
        }
        if !w.people.contains_key(&lookup_key(&a.ifi)) {
            *unmatched.entry(("actor", a.ifi.key())).or_default() += 1;
            continue;
        }
        for (e, m) in targets(&w, a) {
            // Completion is final: what comes after it is stored, and moves nothing.
            if e.status == "active" {
                facts.entry((e.id, m.id)).or_default().merge(a.fact);
                // An assessment is a required module; an optional one proves nothing here.
                if a.identity_verified && m.required {
                    verified.insert(e.id);
                }
            }
        }
    }
    count_unmatched(tx, &unmatched, now).await?;
    for e in &verified {
        crate::credentials::records::mark_identity_verified(
            tx,
            crate::EnrolmentId::from_uuid(*e),
            crate::credentials::records::IdentitySource::Lms,
            now,
        )
        .await?;
    }

    let mut refold: BTreeMap<(Uuid, Uuid), Vec<String>> = BTreeMap::new();
    let mut unverify: BTreeMap<Uuid, (Uuid, Vec<String>)> = BTreeMap::new();
    for a in &gone {
        for (e, m) in targets(&w, a) {
            if e.status == "active" {
                let person = w.people.get(&lookup_key(&a.ifi));
                let keys = person.map(person_keys).unwrap_or_default();
                if a.identity_verified && m.required {
                    unverify.insert(e.id, (e.edition_id, keys.clone()));
                }
                refold.entry((e.id, m.id)).or_insert(keys);
            } else {
                event(
                    tx,
                    e.id,
                    "voided_after_completion",
                    Some(format!(
                        "statement {} about {} was voided after completion; completion stands",
                        a.statement_id, m.activity_iri
                    )),
                    now,
                )
                .await?;
            }
        }
    }

    for (e, (edition, keys)) in &unverify {
        super::identity::recheck(tx, *e, *edition, keys).await?;
    }

    let modules: HashMap<Uuid, &module::Model> =
        w.modules.values().flatten().map(|m| (m.id, m)).collect();
    let enrolments: HashMap<Uuid, &enrolment::Model> =
        w.enrolments.iter().map(|e| (e.id, e)).collect();
    let mut touched: HashSet<Uuid> = HashSet::new();
    for ((e, m), fact) in &facts {
        let (Some(en), Some(md)) = (enrolments.get(e), modules.get(m)) else {
            continue;
        };
        let min = w.min_score.get(&en.edition_id).copied().flatten();
        write(tx, *e, md, min, *fact, false, now).await?;
        touched.insert(*e);
    }
    for ((e, m), keys) in &refold {
        let (Some(en), Some(md)) = (enrolments.get(e), modules.get(m)) else {
            continue;
        };
        let mut fact = Fact::default();
        for s in query::about(tx, &md.activity_iri, keys).await? {
            fact.merge(Fact::of(&s));
        }
        let min = w.min_score.get(&en.edition_id).copied().flatten();
        write(tx, *e, md, min, fact, true, now).await?;
        touched.insert(*e);
    }
    let mut progressed = Vec::with_capacity(touched.len());
    for e in touched {
        if let Some(en) = enrolments.get(&e) {
            let completed = settle(tx, en, now).await?;
            progressed.push(super::Progressed::of(en, completed));
        }
    }
    Ok(progressed)
}

/// Whether a module's progress makes it done: its rule, and the edition's minimum score
/// (0–100, against `scaled × 100`) unless nothing is asked of the module.
pub fn done(
    rule: MoveOn,
    min_score: Option<i32>,
    completed: bool,
    passed: bool,
    best: Option<f64>,
) -> bool {
    if !rule.met(completed, passed) {
        return false;
    }
    match (rule, min_score) {
        (MoveOn::NotApplicable, _) | (_, None) => true,
        (_, Some(min)) => best.is_some_and(|s| s * 100.0 >= f64::from(min)),
    }
}

/// Merges `fact` into the module's progress (or, with `replace`, makes it the progress).
async fn write(
    tx: &TenantTx,
    enrolment_id: Uuid,
    m: &module::Model,
    min_score: Option<i32>,
    fact: Fact,
    replace: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let rule = MoveOn::from_db(&m.move_on)?;
    let row = tx
        .select::<module_progress::Entity>()
        .filter(module_progress::Column::EnrolmentId.eq(enrolment_id))
        .filter(module_progress::Column::ModuleId.eq(m.id))
        .one()
        .await?;
    let mut f = fact;
    if !replace && let Some(r) = &row {
        f.merge(Fact {
            completed: r.completed,
            passed: r.passed,
            failed: r.failed,
            scaled: r.best_scaled,
        });
    }
    let is_done = done(rule, min_score, f.completed, f.passed, f.scaled);
    let completed_at = match (&row, is_done) {
        (_, false) => None,
        (Some(r), true) => r.completed_at.or(Some(now)),
        (None, true) => Some(now),
    };
    let score = f.scaled.map(|s| (s * 100.0).round() as i32);
    match row {
        Some(r) => {
            let same = r.completed == f.completed
                && r.passed == f.passed
                && r.failed == f.failed
                && r.best_scaled == f.scaled
                && r.completed_at == completed_at;
            if !same {
                tx.update_many::<module_progress::Entity>()
                    .set(module_progress::ActiveModel {
                        completed: Set(f.completed),
                        passed: Set(f.passed),
                        failed: Set(f.failed),
                        best_scaled: Set(f.scaled),
                        score: Set(score),
                        completed_at: Set(completed_at),
                        updated_at: Set(now),
                        ..Default::default()
                    })
                    .filter(module_progress::Column::Id.eq(r.id))
                    .exec()
                    .await?;
            }
        }
        None => {
            tx.insert(module_progress::ActiveModel {
                id: Set(Uuid::now_v7()),
                enrolment_id: Set(enrolment_id),
                module_id: Set(m.id),
                completed_at: Set(completed_at),
                score: Set(score),
                updated_at: Set(now),
                completed: Set(f.completed),
                passed: Set(f.passed),
                failed: Set(f.failed),
                best_scaled: Set(f.scaled),
                ..Default::default()
            })
            .await?;
        }
    }
    Ok(())
}

/// The enrolment's grade, and its completion once every current required module is done;
/// answers whether this call completed it.
pub(super) async fn settle(
    tx: &TenantTx,
    e: &enrolment::Model,
    now: DateTime<Utc>,
) -> Result<bool> {
    let required = tx
        .select::<module::Entity>()
        .filter(module::Column::EditionId.eq(e.edition_id))
        .filter(module::Column::Required.eq(true))
        .filter(module::Column::RetiredAt.is_null())
        .all()
        .await?;
    if required.is_empty() {
        return Ok(false);
    }
    let ids: Vec<Uuid> = required.iter().map(|m| m.id).collect();
    let rows = tx
        .select::<module_progress::Entity>()
        .filter(module_progress::Column::EnrolmentId.eq(e.id))
        .filter(module_progress::Column::ModuleId.is_in(ids))
        .all()
        .await?;
    let row_of = |m: &module::Model| rows.iter().find(|r| r.module_id == m.id);
    let all_done = required.iter().all(|m| {
        MoveOn::from_db(&m.move_on).is_ok_and(|r| r == MoveOn::NotApplicable)
            || row_of(m).is_some_and(|r| r.completed_at.is_some())
    });
    let scores: Vec<f64> = required
        .iter()
        .filter_map(|m| row_of(m).and_then(|r| r.best_scaled))
        .collect();
    // In percent, to two decimals: what a transcript shows, without float noise.
    let grade = (!scores.is_empty()).then(|| {
        let mean = scores.iter().sum::<f64>() / scores.len() as f64 * 100.0;
        (mean * 100.0).round() / 100.0
    });
    let mut update = enrolment::ActiveModel {
        grade: Set(grade),
        ..Default::default()
    };
    if all_done {
        update.status = Set("completed".into());
        update.completed_at = Set(Some(now));
        update.updated_at = Set(now);
    }
    // Only an active enrolment moves: two requests completing it at once write it once.
    let changed = tx
        .update_many::<enrolment::Entity>()
        .set(update)
        .filter(enrolment::Column::Id.eq(e.id))
        .filter(enrolment::Column::Status.eq("active"))
        .exec()
        .await?;
    if all_done && changed == 1 {
        event(tx, e.id, "completed", None, now).await?;
        crate::jobs::enqueue(
            tx,
            COMPLETED_JOB,
            now,
            json!({ "enrolmentId": e.id }),
            Some(&format!("{COMPLETED_JOB}:{}", e.id)),
        )
        .await?;
    }
    Ok(all_done && changed == 1)
}

async fn event(
    tx: &TenantTx,
    enrolment_id: Uuid,
    kind: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.insert(event::ActiveModel {
        id: Set(EnrolmentEventId::new().uuid()),
        enrolment_id: Set(enrolment_id),
        kind: Set(kind.to_owned()),
        actor_id: Set(None),
        note: Set(note),
        at: Set(now),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Records statements about unknown activities and actors: one row per value and request,
/// inserted only, so concurrent writers never wait on a shared counter row.
async fn count_unmatched(
    tx: &TenantTx,
    counts: &BTreeMap<(&str, String), i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.insert_many(
        counts
            .iter()
            .map(|((kind, value), n)| super::entity::unmatched::ActiveModel {
                id: Set(Uuid::now_v7()),
                kind: Set((*kind).to_owned()),
                value: Set(super::statements::key_value(value)),
                statements: Set(*n),
                last_seen_at: Set(now),
                ..Default::default()
            })
            .collect(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_minimum_score() {
        use MoveOn::*;
        assert!(done(Completed, None, true, false, None));
        assert!(!done(Completed, None, false, true, None));
        assert!(done(Passed, None, false, true, None));
        assert!(!done(CompletedAndPassed, None, true, false, None));
        assert!(done(CompletedAndPassed, None, true, true, None));
        assert!(done(CompletedOrPassed, None, false, true, None));
        assert!(done(NotApplicable, Some(80), false, false, None));
        assert!(
            !done(Completed, Some(80), true, false, None),
            "no score, minimum asked"
        );
        assert!(!done(Completed, Some(80), true, false, Some(0.79)));
        assert!(done(Completed, Some(80), true, false, Some(0.8)));
    }

    #[test]
    fn facts() {
        let f = Fact::of(&json!({
            "verb": { "id": "http://adlnet.gov/expapi/verbs/passed" },
            "result": { "score": { "scaled": 0.9 }, "completion": true }
        }));
        assert_eq!(
            f,
            Fact {
                completed: true,
                passed: true,
                failed: false,
                scaled: Some(0.9)
            }
        );
        let mut g = Fact::of(
            &json!({ "verb": { "id": "http://adlnet.gov/expapi/verbs/failed" }, "result": { "score": { "scaled": 0.4 } } }),
        );
        g.merge(f);
        assert_eq!(
            g,
            Fact {
                completed: true,
                passed: true,
                failed: true,
                scaled: Some(0.9)
            }
        );
    }
}
