//! Storing statements: a request's statements commit together or not at all. The LRS sets
//! `stored`, `authority`, and (when absent) `id`, `timestamp` and `version`; a statement whose
//! id is already stored is accepted again unchanged when it is the same statement, and refused
//! (409) when it is not: statements are immutable.
//!
//! Voiding: a voiding statement marks its target voided, whether the target came before or comes
//! after it; a voiding statement is never voided itself. A StatementRef's target lends its keys
//! to the statement that names it, so filters find the referring statement through its target
//! (xAPI 1.0.3, "Filter Conditions for StatementRefs").

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use spaces_xapi::index::{self, Kind};
use uuid::Uuid;

use crate::{Error, LrsCredentialId, Result, TenantTx};

use super::credentials::Credential;
use super::entity::{activity, agent, statement, statement_key};

/// The most statements one request may carry.
pub const MAX_BATCH: usize = 500;
/// Key values longer than this are indexed by their SHA-256, which B-tree indexes can hold.
const MAX_KEY: usize = 512;

/// A statement as stored and served.
#[derive(Clone, Debug)]
pub struct Stored {
    pub statement: Value,
    pub stored: DateTime<Utc>,
    pub voided: bool,
}

/// The value a key is indexed (and looked up) by.
pub fn key_value(v: &str) -> String {
    if v.len() <= MAX_KEY {
        v.to_owned()
    } else {
        format!("sha256:{:x}", Sha256::digest(v.as_bytes()))
    }
}

/// The value of the [`Kind::VerbActivity`] key of a verb key and an activity key (as stored:
/// `<verb> <activity>`; no IRI holds a space).
pub fn pair_value(verb_key: &str, activity_key: &str) -> String {
    key_value(&format!("{verb_key} {activity_key}"))
}

/// Adds the pairs of a statement's verb and activity keys (its own and those lent by the
/// statements it refers to), so the pair filter finds what the two filters together find.
fn with_pairs(keys: &mut BTreeSet<(i16, String)>) {
    let (verb, activity) = (Kind::Verb.code(), Kind::Activity.code());
    let pairs: Vec<String> = keys
        .iter()
        .filter(|(k, _)| *k == verb)
        .flat_map(|(_, v)| {
            keys.iter()
                .filter(|(k, _)| *k == activity)
                .map(move |(_, a)| pair_value(v, a))
        })
        .collect();
    keys.extend(pairs.into_iter().map(|p| (Kind::VerbActivity.code(), p)));
}

/// `stored` as served: UTC, milliseconds.
pub fn render(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The authority the LRS writes on a statement this credential stored: the space's account
/// named by the key.
pub fn authority(home_page: &str, credential: &Credential) -> Value {
    json!({
        "objectType": "Agent",
        "name": credential.name,
        "account": { "homePage": home_page, "name": credential.key },
    })
}

/// Stores checked, normalised statements in order; answers their ids and the enrolments whose
/// progress they moved. `authority` replaces whatever the statements claimed.
pub async fn store(
    tx: &TenantTx,
    credential: &Credential,
    authority: &Value,
    now: DateTime<Utc>,
    batch: Vec<Value>,
) -> Result<(Vec<Uuid>, Vec<super::Progressed>)> {
    if batch.len() > MAX_BATCH {
        return Err(Error::Invalid {
            field: "statements".into(),
            reason: format!("at most {MAX_BATCH} statements per request").into(),
        });
    }
    let stored_ms = now.timestamp_millis();
    let stored = render(now);
    let mut ids = Vec::with_capacity(batch.len());
    let mut statements = Vec::with_capacity(batch.len());
    // As sent (with its id), for comparing with a statement already stored under that id.
    let mut received = Vec::with_capacity(batch.len());
    for mut s in batch {
        let Some(m) = s.as_object_mut() else {
            return Err(Error::Invalid {
                field: "statement".into(),
                reason: "must be an object".into(),
            });
        };
        let id = match m.get("id").and_then(Value::as_str) {
            Some(id) => Uuid::parse_str(id).map_err(|_| Error::Invalid {
                field: "id".into(),
                reason: "must be a UUID".into(),
            })?,
            None => Uuid::now_v7(),
        };
        if ids.contains(&id) {
            return Err(Error::Invalid {
                field: "id".into(),
                reason: format!("{id} appears twice in the request").into(),
            });
        }
        m.insert("id".into(), Value::String(id.to_string()));
        received.push(Value::Object(m.clone()));
        m.insert("stored".into(), Value::String(stored.clone()));
        m.insert("authority".into(), authority.clone());
        m.entry("timestamp")
            .or_insert_with(|| Value::String(stored.clone()));
        m.entry("version")
            .or_insert_with(|| Value::String("1.0.0".into()));
        ids.push(id);
        statements.push((id, s));
    }

    // Ids already stored: the same statement again is a no-op, another one a conflict.
    let existing = tx
        .select::<statement::Entity>()
        .filter(statement::Column::StatementId.is_in(ids.clone()))
        .all()
        .await?;
    let mut skip = HashSet::new();
    for row in &existing {
        if let Some(new) = received
            .iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(&row.statement_id.to_string()))
        {
            let mut old = row.statement.clone();
            // A timestamp the LRS set (the statement came without one) is not the sender's.
            if new.get("timestamp").is_none()
                && let Some(m) = old.as_object_mut()
                && m.get("timestamp") == m.get("stored")
            {
                m.remove("timestamp");
            }
            if !spaces_xapi::statement::same(&old, new) {
                return Err(Error::Conflict {
                    field: "id".into(),
                    reason: format!(
                        "statement {} is already stored with other content; statements are immutable",
                        row.statement_id
                    )
                    .into(),
                });
            }
            skip.insert(row.statement_id);
        }
    }
    statements.retain(|(id, _)| !skip.contains(id));
    if statements.is_empty() {
        return Ok((ids, Vec::new()));
    }

    // The rows, their keys, and what refers to what.
    struct New {
        row: Uuid,
        id: Uuid,
        statement: Value,
        keys: index::Keys,
        voided: bool,
    }
    let mut new: Vec<New> = statements
        .into_iter()
        .map(|(id, statement)| New {
            row: Uuid::now_v7(),
            id,
            keys: index::keys(&statement),
            statement,
            voided: false,
        })
        .collect();
    let new_ids: Vec<Uuid> = new.iter().map(|n| n.id).collect();
    let targets: Vec<Uuid> = new.iter().filter_map(|n| n.keys.object_ref).collect();
    // Stored statements these refer to, and stored voiding statements aimed at these.
    let referred = if targets.is_empty() {
        Vec::new()
    } else {
        tx.select::<statement::Entity>()
            .filter(statement::Column::StatementId.is_in(targets.clone()))
            .all()
            .await?
    };
    let voiders = tx
        .select::<statement::Entity>()
        .filter(statement::Column::ObjectRef.is_in(new_ids.clone()))
        .all()
        .await?;

    // A target's keys, stored or in this request, lent to the statement that names it.
    let mut lent: HashMap<Uuid, BTreeSet<(i16, String)>> = HashMap::new();
    if !referred.is_empty() {
        let rows: Vec<Uuid> = referred.iter().map(|r| r.id).collect();
        let keys = tx
            .select::<statement_key::Entity>()
            .filter(statement_key::Column::StatementRow.is_in(rows))
            .all()
            .await?;
        for r in &referred {
            let set = keys
                .iter()
                .filter(|k| k.statement_row == r.id)
                .map(|k| (k.kind, k.value.clone()))
                .collect();
            lent.insert(r.statement_id, set);
        }
    }
    let mut voided_now: Vec<Uuid> = Vec::new();
    for i in 0..new.len() {
        let n = &new[i];
        let own: BTreeSet<(i16, String)> = n
            .keys
            .keys
            .iter()
            .map(|(k, v)| (k.code(), key_value(v)))
            .collect();
        lent.entry(n.id).or_default().extend(own);
        // Voided by a voiding statement stored before it, or earlier in this request.
        let voided_by_stored = voiders
            .iter()
            .any(|v| v.voiding && v.object_ref == Some(n.id));
        let voided_in_batch = new[..i]
            .iter()
            .any(|v| v.keys.voiding && v.keys.object_ref == Some(n.id));
        if !n.keys.voiding && (voided_by_stored || voided_in_batch) {
            new[i].voided = true;
        }
        if let Some(t) = new[i].keys.object_ref {
            if new[i].keys.voiding {
                let stored_target = referred.iter().find(|r| r.statement_id == t);
                match stored_target {
                    Some(r) if !r.voiding => voided_now.push(r.statement_id),
                    _ => {
                        if let Some(j) = new[..i].iter().position(|m| m.id == t)
                            && !new[j].keys.voiding
                        {
                            new[j].voided = true;
                        }
                    }
                }
            }
            if let Some(keys) = lent.get(&t).cloned() {
                lent.entry(new[i].id).or_default().extend(keys);
            }
        }
    }

    let mut key_rows = Vec::new();
    let mut rows = Vec::with_capacity(new.len());
    for n in &new {
        let mut keys = lent.get(&n.id).cloned().unwrap_or_default();
        with_pairs(&mut keys);
        for (kind, value) in keys {
            key_rows.push(statement_key::ActiveModel {
                id: Set(Uuid::now_v7()),
                statement_row: Set(n.row),
                kind: Set(kind),
                value: Set(value),
                stored_ms: Set(stored_ms),
                ..Default::default()
            });
        }
        rows.push(statement::ActiveModel {
            id: Set(n.row),
            statement_id: Set(n.id),
            stored_ms: Set(stored_ms),
            statement: Set(n.statement.clone()),
            object_ref: Set(n.keys.object_ref),
            voiding: Set(n.keys.voiding),
            voided: Set(n.voided),
            credential_id: Set(credential.id.uuid()),
            ..Default::default()
        });
    }
    tx.insert_many(rows).await?;
    for chunk in chunks(key_rows) {
        tx.insert_many(chunk).await?;
    }
    if !voided_now.is_empty() {
        tx.update_many::<statement::Entity>()
            .col_expr(statement::Column::Voided, true.into())
            .filter(statement::Column::StatementId.is_in(voided_now.clone()))
            .exec()
            .await?;
    }
    lend_forward(
        tx,
        &new.iter().map(|n| (n.id, n.row)).collect::<Vec<_>>(),
        &lent,
    )
    .await?;
    // Progress: what the new statements say, and what the statements they voided had said.
    let standing: Vec<&Value> = new
        .iter()
        .filter(|n| !n.voided && !n.keys.voiding)
        .map(|n| &n.statement)
        .collect();
    let taken_back: Vec<&Value> = referred
        .iter()
        .filter(|r| voided_now.contains(&r.statement_id) && !r.voided)
        .map(|r| &r.statement)
        .collect();
    let progressed = super::derive::apply(tx, &standing, &taken_back, now).await?;
    remember(
        tx,
        &new.iter().map(|n| &n.statement).collect::<Vec<_>>(),
        stored_ms,
    )
    .await?;
    Ok((ids, progressed))
}

/// Statements stored earlier that name one of these by StatementRef get their keys, and so on
/// up the chain.
async fn lend_forward(
    tx: &TenantTx,
    new: &[(Uuid, Uuid)],
    lent: &HashMap<Uuid, BTreeSet<(i16, String)>>,
) -> Result<()> {
    // One level of the chain at a time: a query for the referrers of the whole level, one for
    // their keys, one insert (not a round of queries per statement).
    let mut level: HashMap<Uuid, BTreeSet<(i16, String)>> = new
        .iter()
        .filter_map(|(id, _)| lent.get(id).map(|k| (*id, k.clone())))
        .collect();
    let fresh: HashSet<Uuid> = new.iter().map(|(_, row)| *row).collect();
    let mut seen: HashSet<Uuid> = HashSet::new();
    while !level.is_empty() {
        let referrers: Vec<statement::Model> = tx
            .select::<statement::Entity>()
            .filter(statement::Column::ObjectRef.is_in(level.keys().copied().collect::<Vec<_>>()))
            .all()
            .await?
            .into_iter()
            // Statements of this request already hold their targets' keys.
            .filter(|r| !fresh.contains(&r.id) && seen.insert(r.id))
            .collect();
        if referrers.is_empty() {
            break;
        }
        let rows: Vec<Uuid> = referrers.iter().map(|r| r.id).collect();
        let mut have: HashMap<Uuid, BTreeSet<(i16, String)>> = HashMap::new();
        for k in tx
            .select::<statement_key::Entity>()
            .filter(statement_key::Column::StatementRow.is_in(rows))
            .all()
            .await?
        {
            have.entry(k.statement_row)
                .or_default()
                .insert((k.kind, k.value));
        }
        let mut inserts = Vec::new();
        let mut next = HashMap::new();
        for r in referrers {
            let Some(target) = r.object_ref.and_then(|t| level.get(&t)) else {
                continue;
            };
            let had = have.remove(&r.id).unwrap_or_default();
            let mut all: BTreeSet<(i16, String)> = had.union(target).cloned().collect();
            with_pairs(&mut all);
            for (kind, value) in all.difference(&had) {
                inserts.push(statement_key::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    statement_row: Set(r.id),
                    kind: Set(*kind),
                    value: Set(value.clone()),
                    stored_ms: Set(r.stored_ms),
                    ..Default::default()
                });
            }
            next.insert(r.statement_id, all);
        }
        for chunk in chunks(inserts) {
            tx.insert_many(chunk).await?;
        }
        level = next;
    }
    Ok(())
}

fn chunks<T>(mut v: Vec<T>) -> Vec<Vec<T>> {
    // Bind-parameter limits (SQLite 32766, PostgreSQL 65535) over six columns.
    const ROWS: usize = 2000;
    let mut out = Vec::new();
    while v.len() > ROWS {
        let rest = v.split_off(ROWS);
        out.push(std::mem::replace(&mut v, rest));
    }
    out.push(v);
    out
}

/// The activities and agents these statements name, merged into what `GET /activities` and
/// `GET /agents` answer.
async fn remember(tx: &TenantTx, statements: &[&Value], now_ms: i64) -> Result<()> {
    let mut activities: Vec<(String, Value)> = Vec::new();
    for s in statements {
        for a in index::activities(s) {
            let Some(id) = a.get("id").and_then(Value::as_str) else {
                continue;
            };
            match activities.iter_mut().find(|(i, _)| i == id) {
                Some((_, known)) => merge_activity(known, a),
                None => activities.push((id.to_owned(), a.clone())),
            }
        }
    }
    if !activities.is_empty() {
        let iris: Vec<String> = activities.iter().map(|(i, _)| i.clone()).collect();
        let known = tx
            .select::<activity::Entity>()
            .filter(activity::Column::ActivityIri.is_in(iris))
            .all()
            .await?;
        for (iri, a) in activities {
            match known.iter().find(|k| k.activity_iri == iri) {
                Some(k) => {
                    let mut merged = k.activity.clone();
                    merge_activity(&mut merged, &a);
                    if merged != k.activity {
                        tx.update_many::<activity::Entity>()
                            .col_expr(activity::Column::Activity, merged.into())
                            .col_expr(activity::Column::UpdatedMs, now_ms.into())
                            .filter(activity::Column::Id.eq(k.id))
                            .exec()
                            .await?;
                    }
                }
                None => {
                    // Another request may name the same new activity at once: the first
                    // insert stands, this one does nothing (no unique-violation 500).
                    tx.raw_all(
                        "INSERT INTO xapi_activities (tenant_id, id, activity_iri, activity, updated_ms) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, activity_iri) DO NOTHING",
                        vec![
                            tx.tenant_uuid().into(),
                            Uuid::now_v7().into(),
                            iri.into(),
                            sea_orm::Value::Json(Some(Box::new(a))),
                            now_ms.into(),
                        ],
                    )
                    .await?;
                }
            }
        }
    }

    let mut agents: Vec<(String, Value, BTreeSet<String>)> = Vec::new();
    for s in statements {
        for a in index::agents(s) {
            let Some(ifi) = &a.ifi else { continue };
            let key = key_value(&ifi.key());
            let (prop, value) = ifi.property();
            let entry = match agents.iter_mut().position(|(k, _, _)| *k == key) {
                Some(i) => &mut agents[i],
                None => {
                    agents.push((key, json!({ prop: value }), BTreeSet::new()));
                    let last = agents.len() - 1;
                    &mut agents[last]
                }
            };
            entry.2.extend(a.name.clone());
        }
    }
    if !agents.is_empty() {
        let keys: Vec<String> = agents.iter().map(|(k, _, _)| k.clone()).collect();
        let known = tx
            .select::<agent::Entity>()
            .filter(agent::Column::Agent.is_in(keys))
            .all()
            .await?;
        for (key, ifi, names) in agents {
            match known.iter().find(|k| k.agent == key) {
                Some(k) => {
                    let mut all: BTreeSet<String> = k
                        .names
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect();
                    let before = all.len();
                    all.extend(names);
                    if all.len() != before {
                        tx.update_many::<agent::Entity>()
                            .col_expr(agent::Column::Names, json!(all).into())
                            .col_expr(agent::Column::UpdatedMs, now_ms.into())
                            .filter(agent::Column::Id.eq(k.id))
                            .exec()
                            .await?;
                    }
                }
                None => {
                    tx.raw_all(
                        "INSERT INTO xapi_agents (tenant_id, id, agent, ifi, names, updated_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, agent) DO NOTHING",
                        vec![
                            tx.tenant_uuid().into(),
                            Uuid::now_v7().into(),
                            key.into(),
                            sea_orm::Value::Json(Some(Box::new(ifi))),
                            sea_orm::Value::Json(Some(Box::new(json!(names)))),
                            now_ms.into(),
                        ],
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Folds a newer mention of an activity into what is known: language maps gain or replace
/// languages, other fields take the newer value.
fn merge_activity(known: &mut Value, newer: &Value) {
    let (Some(k), Some(n)) = (known.as_object_mut(), newer.as_object()) else {
        return;
    };
    for (field, value) in n {
        if field == "definition"
            && let (Some(kd), Some(nd)) = (
                k.get_mut("definition").and_then(Value::as_object_mut),
                value.as_object(),
            )
        {
            for (df, dv) in nd {
                match (df.as_str(), kd.get_mut(df)) {
                    ("name" | "description", Some(Value::Object(map))) => {
                        if let Some(langs) = dv.as_object() {
                            for (lang, text) in langs {
                                map.insert(lang.clone(), text.clone());
                            }
                        }
                    }
                    _ => {
                        kd.insert(df.clone(), dv.clone());
                    }
                }
            }
            continue;
        }
        k.insert(field.clone(), value.clone());
    }
}

/// One statement by id. A voided statement is found only as voided, and the others only as
/// not voided, as `statementId` and `voidedStatementId` ask.
/// With `own`, only a statement that credential stored.
pub async fn get(
    tx: &TenantTx,
    id: Uuid,
    voided: bool,
    own: Option<LrsCredentialId>,
) -> Result<Option<Stored>> {
    let mut q = tx
        .select::<statement::Entity>()
        .filter(statement::Column::StatementId.eq(id))
        .filter(statement::Column::Voided.eq(voided));
    if let Some(c) = own {
        q = q.filter(statement::Column::CredentialId.eq(c.uuid()));
    }
    let row = q.one().await?;
    Ok(row.map(stored))
}

pub(super) fn stored(row: statement::Model) -> Stored {
    Stored {
        stored: DateTime::from_timestamp_millis(row.stored_ms).unwrap_or_default(),
        statement: row.statement,
        voided: row.voided,
    }
}

/// The Activity object as known from every statement that named it; `None` if none did.
pub async fn activity(tx: &TenantTx, iri: &str) -> Result<Option<Value>> {
    Ok(tx
        .select::<activity::Entity>()
        .filter(activity::Column::ActivityIri.eq(iri))
        .one()
        .await?
        .map(|a| a.activity))
}

/// The Person object for an agent's IFI: its IFI and every name seen with it.
pub async fn person(tx: &TenantTx, ifi: &spaces_xapi::agent::Ifi) -> Result<Value> {
    let (prop, value) = ifi.property();
    let mut person = Map::new();
    person.insert("objectType".into(), json!("Person"));
    let known = tx
        .select::<agent::Entity>()
        .filter(agent::Column::Agent.eq(key_value(&ifi.key())))
        .one()
        .await?;
    if let Some(names) = known.map(|k| k.names)
        && names.as_array().is_some_and(|a| !a.is_empty())
    {
        person.insert("name".into(), names);
    }
    person.insert(prop.into(), json!([value]));
    Ok(Value::Object(person))
}
