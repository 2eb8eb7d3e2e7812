//! `GET /statements` with filters: not voided, in `stored` order (newest first unless
//! ascending), paged by a keyset cursor on `(stored, row)` so that pages neither skip nor repeat
//! while statements keep arriving. Each non-time filter is a key row (verb, agent, activity,
//! registration); a StatementRef's keys include its target's (see [`super::statements`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use spaces_xapi::index::Kind;
use uuid::Uuid;

use crate::{LrsCredentialId, Result, TenantTx};

use super::entity::{statement, statement_key};
use super::statements::{key_value, pair_value};

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The canonical IFI key of the `agent` parameter.
    pub agent: Option<String>,
    pub related_agents: bool,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub related_activities: bool,
    pub registration: Option<Uuid>,
    /// Stored strictly after.
    pub since: Option<DateTime<Utc>>,
    /// Stored at or before.
    pub until: Option<DateTime<Utc>>,
    pub ascending: bool,
    /// Only what this credential stored (the read-own scope).
    pub own: Option<LrsCredentialId>,
}

/// Where the next page starts: after this row in the page's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub stored_ms: i64,
    pub row: Uuid,
}

/// A page of statements, each as the JSON text it is stored as (served as it is, so a page of
/// 500 is not parsed and printed again), and, when more follow, where the next page starts.
///
/// With a key filter, the page is read from the most selective key's index entries, which are
/// kept in `(stored, row)` order with their statement's `stored`: the walk starts at the cursor,
/// checks the other keys on each entry with one probe of the statement's own key rows, reads
/// statements by primary key and stops at `limit + 1`. Nothing sorts or hashes a key's whole list
/// of statements, however common the key (a verb names a third of them).
pub async fn page(
    tx: &TenantTx,
    f: &Filter,
    limit: u64,
    after: Option<Cursor>,
) -> Result<(Vec<String>, Option<Cursor>)> {
    if tx.tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        // A prepared statement's generic plan does not know which key is rare, so each page is
        // planned for its own values; and parallel workers only add their start-up to a walk
        // that stops after a page.
        tx.raw_all(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), \
             set_config('max_parallel_workers_per_gather', '0', true)",
            Vec::new(),
        )
        .await?;
    }
    let mut keys: Vec<(Kind, String)> = [
        (
            if f.related_agents {
                Kind::AgentRelated
            } else {
                Kind::Agent
            },
            f.agent.clone(),
        ),
        (Kind::Verb, f.verb.clone()),
        (
            if f.related_activities {
                Kind::ActivityRelated
            } else {
                Kind::Activity
            },
            f.activity.clone(),
        ),
        (Kind::Registration, f.registration.map(|r| r.to_string())),
    ]
    .into_iter()
    .filter_map(|(kind, value)| value.map(|v| (kind, key_value(&v))))
    .collect();
    // A verb with an activity (the object's, not a related one) is one key.
    let verb = keys.iter().position(|(k, _)| *k == Kind::Verb);
    let activity = keys.iter().position(|(k, _)| *k == Kind::Activity);
    if let (Some(v), Some(a)) = (verb, activity) {
        let pair = pair_value(&keys[v].1, &keys[a].1);
        keys.retain(|(k, _)| *k != Kind::Verb && *k != Kind::Activity);
        keys.push((Kind::VerbActivity, pair));
    }
    keys.sort_by_key(|(kind, _)| selectivity_rank(*kind));

    use statement::{Column as S, Entity as Statements};
    use statement_key::{Column as K, Entity as Keys};
    let mut q = tx
        .select::<Statements>()
        .select_only()
        .column(S::StoredMs)
        .column(S::Id)
        .expr(Expr::col((Statements, S::Statement)).cast_as(Alias::new("text")))
        .filter(S::Voided.eq(false));
    // Where the order comes from: the driving key's index entries, or the statements' own.
    let (order_ms, order_row) = match keys.split_first() {
        Some(((kind, value), others)) => {
            QuerySelect::query(&mut q).inner_join(
                Keys,
                Expr::col((Keys, K::TenantId))
                    .equals((Statements, S::TenantId))
                    .and(Expr::col((Keys, K::StatementRow)).equals((Statements, S::Id))),
            );
            q = q
                .filter(Expr::col((Keys, K::Kind)).eq(kind.code()))
                .filter(Expr::col((Keys, K::Value)).eq(value.clone()));
            if !others.is_empty() {
                q = q.filter(has_all(others));
            }
            (
                Expr::col((Keys, K::StoredMs)),
                Expr::col((Keys, K::StatementRow)),
            )
        }
        None => (
            Expr::col((Statements, S::StoredMs)),
            Expr::col((Statements, S::Id)),
        ),
    };
    if let Some(t) = f.since {
        q = q.filter(order_ms.clone().gt(t.timestamp_millis()));
    }
    if let Some(t) = f.until {
        q = q.filter(order_ms.clone().lte(t.timestamp_millis()));
    }
    if let Some(c) = f.own {
        q = q.filter(S::CredentialId.eq(c.uuid()));
    }
    if let Some(c) = after {
        // A row comparison, which the index range serves.
        let here = Expr::tuple([order_ms.clone(), order_row.clone()]);
        let cursor = Expr::tuple([Expr::val(c.stored_ms), Expr::val(c.row)]);
        q = q.filter(if f.ascending {
            here.gt(cursor)
        } else {
            here.lt(cursor)
        });
    }
    let direction = if f.ascending { Order::Asc } else { Order::Desc };
    q = q
        .order_by(order_ms, direction.clone())
        .order_by(order_row, direction);
    let mut rows: Vec<(i64, Uuid, String)> = q.limit(limit + 1).tuples().await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(stored_ms, row, _)| Cursor {
            stored_ms: *stored_ms,
            row: *row,
        })
    } else {
        None
    };
    Ok((rows.into_iter().map(|(_, _, text)| text).collect(), next))
}

/// The driving key entry's statement also has every one of these keys: the count of its key
/// rows among them, read from its own few key rows (one index probe), is their number. Written
/// as a scalar subquery on purpose: an `EXISTS` is turned into a join that can hash a verb's
/// whole key list first.
fn has_all(keys: &[(Kind, String)]) -> sea_orm::sea_query::SimpleExpr {
    use statement_key::{Column as K, Entity as Keys};
    let other = Alias::new("other");
    let mut any = sea_orm::sea_query::Condition::any();
    for (kind, value) in keys {
        any = any.add(
            Expr::col((other.clone(), K::Kind))
                .eq(kind.code())
                .and(Expr::col((other.clone(), K::Value)).eq(value.clone())),
        );
    }
    let mut sub = Query::select();
    sub.expr(Expr::col((other.clone(), K::Id)).count())
        .from_as(Keys, other.clone())
        .and_where(Expr::col((other.clone(), K::TenantId)).equals((Keys, K::TenantId)))
        .and_where(Expr::col((other.clone(), K::StatementRow)).equals((Keys, K::StatementRow)))
        .cond_where(any);
    sea_orm::sea_query::SimpleExpr::SubQuery(None, Box::new(sub.into())).eq(keys.len() as i64)
}

/// Which key drives a page when several are given: the one likely to name the fewest
/// statements (a registration is one learner's attempt at one course; a verb is shared by a
/// third of everything). Ties in the data go either way; any choice is correct, only its cost
/// differs.
fn selectivity_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Registration => 0,
        Kind::Agent => 1,
        Kind::VerbActivity => 2,
        Kind::Activity => 2,
        Kind::AgentRelated => 3,
        Kind::ActivityRelated => 4,
        Kind::Verb => 5,
    }
}

/// The statements still standing (not voided) about an activity by any of these agents
/// (canonical IFI keys), oldest first: what a module's progress is folded from again.
pub(crate) async fn about(
    tx: &TenantTx,
    activity: &str,
    agents: &[String],
) -> Result<Vec<serde_json::Value>> {
    use statement_key::{Column as K, Entity as Keys};
    if agents.is_empty() {
        return Ok(Vec::new());
    }
    let key = |kind: Kind, values: Vec<String>| {
        let mut sub = Query::select();
        sub.expr(Expr::val(1))
            .from(Keys)
            .and_where(Expr::col((Keys, K::TenantId)).eq(tx.tenant_uuid()))
            .and_where(
                Expr::col((Keys, K::StatementRow))
                    .equals((statement::Entity, statement::Column::Id)),
            )
            .and_where(Expr::col((Keys, K::Kind)).eq(kind.code()))
            .and_where(Expr::col((Keys, K::Value)).is_in(values));
        Expr::exists(sub)
    };
    let rows = tx
        .select::<statement::Entity>()
        .filter(statement::Column::Voided.eq(false))
        .filter(key(Kind::Activity, vec![key_value(activity)]))
        .filter(key(
            Kind::Agent,
            agents.iter().map(|a| key_value(a)).collect(),
        ))
        .order_by_asc(statement::Column::StoredMs)
        .all()
        .await?;
    Ok(rows.into_iter().map(|r| r.statement).collect())
}
