//! `GET /statements` with filters: not voided, in `stored` order (newest first unless
//! ascending), paged by a keyset cursor on `(stored, row)` so that pages neither skip nor repeat
//! while statements keep arriving. Each non-time filter is one indexed key lookup; a
//! StatementRef's keys include its target's (see [`super::statements`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};
use spaces_xapi::index::Kind;
use uuid::Uuid;

use crate::{LrsCredentialId, Result, TenantTx};

use super::entity::{statement, statement_key};
use super::statements::{Stored, key_value, stored};

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

/// A page of statements and, when more follow, where the next starts.
pub async fn page(
    tx: &TenantTx,
    f: &Filter,
    limit: u64,
    after: Option<Cursor>,
) -> Result<(Vec<Stored>, Option<Cursor>)> {
    // A prepared statement's generic plan assumes every key value is as common as the average
    // and hashes whole key lists; a page must be planned for its own values.
    if tx.tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.raw_all("SET LOCAL plan_cache_mode = force_custom_plan", Vec::new())
            .await?;
    }
    let mut q = tx
        .select::<statement::Entity>()
        .filter(statement::Column::Voided.eq(false));
    let keys = [
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
    ];
    for (kind, value) in keys {
        let Some(value) = value else { continue };
        use statement_key::{Column as K, Entity as Keys};
        let mut sub = Query::select();
        sub.expr(Expr::val(1))
            .from(Keys)
            .and_where(Expr::col((Keys, K::TenantId)).eq(tx.tenant_uuid()))
            .and_where(
                Expr::col((Keys, K::StatementRow))
                    .equals((statement::Entity, statement::Column::Id)),
            )
            .and_where(Expr::col((Keys, K::Kind)).eq(kind.code()))
            .and_where(Expr::col((Keys, K::Value)).eq(key_value(&value)));
        q = q.filter(Expr::exists(sub));
    }
    if let Some(t) = f.since {
        q = q.filter(statement::Column::StoredMs.gt(t.timestamp_millis()));
    }
    if let Some(t) = f.until {
        q = q.filter(statement::Column::StoredMs.lte(t.timestamp_millis()));
    }
    if let Some(c) = f.own {
        q = q.filter(statement::Column::CredentialId.eq(c.uuid()));
    }
    if let Some(c) = after {
        // A row comparison, which an index range on (stored_ms, id) can serve.
        let here = Expr::tuple([
            Expr::col((statement::Entity, statement::Column::StoredMs)),
            Expr::col((statement::Entity, statement::Column::Id)),
        ]);
        let cursor = Expr::tuple([Expr::val(c.stored_ms), Expr::val(c.row)]);
        q = q.filter(if f.ascending {
            here.gt(cursor)
        } else {
            here.lt(cursor)
        });
    }
    q = if f.ascending {
        q.order_by_asc(statement::Column::StoredMs)
            .order_by_asc(statement::Column::Id)
    } else {
        q.order_by_desc(statement::Column::StoredMs)
            .order_by_desc(statement::Column::Id)
    };
    let mut rows = q.limit(limit + 1).all().await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| Cursor {
            stored_ms: r.stored_ms,
            row: r.id,
        })
    } else {
        None
    };
    Ok((rows.into_iter().map(stored).collect(), next))
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
