//! Pathways: ordered sets of a tenant's editions, and whether they make a CMF microcredential
//! (see [`cmf`]). Tenant admins curate and read them.

pub mod cmf;
pub(crate) mod entity;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, QueryOrder, Set};

use crate::editions::{EditionStatus, entity::edition};
use crate::kernel::page::{Page, PageRequest, fetch};
use crate::values::{long_text, name};
use crate::{EditionId, Error, PathwayId, Principal, Result, TenantTx};

use entity::{pathway, step};

/// At most this many editions in one pathway.
pub const MAX_EDITIONS: usize = 50;
const MAX_DESCRIPTION: usize = 10_000;

#[derive(Clone, Debug)]
pub struct Pathway {
    pub id: PathwayId,
    pub title: String,
    pub description: Option<String>,
    /// The editions, in order.
    pub editions: Vec<EditionId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewPathway {
    pub title: String,
    pub description: Option<String>,
    pub editions: Vec<EditionId>,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears the description.
#[derive(Default)]
pub struct PathwayPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
}

fn require_admin(who: &Principal) -> Result<()> {
    if who.is_tenant_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden("pathways need the tenant admin role"))
    }
}

/// Free text over several lines; empty means none.
fn description(raw: Option<String>) -> Result<Option<String>> {
    long_text("description", raw, MAX_DESCRIPTION)
}

/// Adds the ordered edition ids to a batch of pathway rows, in one statement.
async fn hydrate(tx: &TenantTx, rows: Vec<pathway::Model>) -> Result<Vec<Pathway>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut steps: HashMap<uuid::Uuid, Vec<EditionId>> = HashMap::new();
    for s in tx
        .scoped_select::<step::Entity>()
        .filter(step::Column::PathwayId.is_in(rows.iter().map(|m| m.id)))
        .order_by_asc(step::Column::PathwayId)
        .order_by_asc(step::Column::Position)
        .all(&tx.tx)
        .await?
    {
        steps
            .entry(s.pathway_id)
            .or_default()
            .push(EditionId::from_uuid(s.edition_id));
    }
    Ok(rows
        .into_iter()
        .map(|m| Pathway {
            id: PathwayId::from_uuid(m.id),
            editions: steps.remove(&m.id).unwrap_or_default(),
            title: m.title,
            description: m.description,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
        .collect())
}

pub(crate) async fn load(tx: &TenantTx, id: PathwayId) -> Result<Pathway> {
    let m = tx
        .scoped_select::<pathway::Entity>()
        .filter(pathway::Column::Id.eq(id.uuid()))
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    hydrate(tx, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("pathway vanished while loading".into()))
}

/// One pathway of this tenant (tenant admins). Unknown or another tenant's: NOT_FOUND.
pub async fn get(tx: &TenantTx, who: &Principal, id: PathwayId) -> Result<Pathway> {
    require_admin(who)?;
    load(tx, id).await
}

/// The tenant's pathways in creation order (tenant admins).
pub async fn list(tx: &TenantTx, who: &Principal, page: PageRequest) -> Result<Page<Pathway>> {
    require_admin(who)?;
    let p = fetch(
        tx.scoped_select::<pathway::Entity>(),
        pathway::Column::Id,
        page,
        &tx.tx,
    )
    .await?;
    Ok(Page {
        items: hydrate(tx, p.items).await?,
        has_next_page: p.has_next_page,
    })
}

/// Every edition must be this tenant's, not archived, and listed once; the error names the
/// index (another tenant's edition reads exactly like an unknown one).
async fn check_editions(tx: &TenantTx, ids: &[EditionId]) -> Result<()> {
    if ids.len() > MAX_EDITIONS {
        return Err(Error::invalid(
            "editionIds",
            format!("at most {MAX_EDITIONS} editions"),
        ));
    }
    let mut first_at: HashMap<EditionId, usize> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(j) = first_at.insert(*id, i) {
            return Err(Error::invalid(
                format!("editionIds[{i}]"),
                format!("is already editionIds[{j}]; an edition appears once in a pathway"),
            ));
        }
    }
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashMap<uuid::Uuid, String> = tx
        .scoped_select::<edition::Entity>()
        .filter(edition::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(|m| (m.id, m.status))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        match found.get(&id.uuid()) {
            None => {
                return Err(Error::not_found_field(
                    format!("editionIds[{i}]"),
                    "no such edition",
                ));
            }
            Some(s) if s == EditionStatus::Archived.as_str() => {
                return Err(Error::invalid(format!("editionIds[{i}]"), "is archived"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

async fn write_steps(tx: &TenantTx, id: PathwayId, editions: &[EditionId]) -> Result<()> {
    tx.scoped_delete::<step::Entity>()
        .filter(step::Column::PathwayId.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    for (pos, e) in editions.iter().enumerate() {
        step::ActiveModel {
            tenant_id: Set(tx.tenant_uuid()),
            id: Set(uuid::Uuid::now_v7()),
            pathway_id: Set(id.uuid()),
            edition_id: Set(e.uuid()),
            position: Set(pos as i32),
        }
        .insert(&tx.tx)
        .await?;
    }
    Ok(())
}

pub async fn create(tx: &TenantTx, who: &Principal, new: NewPathway) -> Result<Pathway> {
    require_admin(who)?;
    let title = name("title", &new.title, 300)?;
    let description = description(new.description)?;
    check_editions(tx, &new.editions).await?;
    let id = PathwayId::new();
    let now = Utc::now();
    pathway::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id.uuid()),
        title: Set(title),
        description: Set(description),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx.tx)
    .await?;
    write_steps(tx, id, &new.editions).await?;
    load(tx, id).await
}

pub async fn update(
    tx: &TenantTx,
    who: &Principal,
    id: PathwayId,
    patch: PathwayPatch,
) -> Result<Pathway> {
    require_admin(who)?;
    let mut am = pathway::ActiveModel {
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(t) = patch.title {
        am.title = Set(name("title", &t, 300)?);
    }
    if let Some(d) = patch.description {
        am.description = Set(description(d)?);
    }
    load(tx, id).await?;
    tx.scoped_update::<pathway::Entity>()
        .set(am)
        .filter(pathway::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// Replaces the pathway's ordered editions.
pub async fn set_editions(
    tx: &TenantTx,
    who: &Principal,
    id: PathwayId,
    editions: &[EditionId],
) -> Result<Pathway> {
    require_admin(who)?;
    // Two kinds of ids in one call: say which one names nothing.
    load(tx, id)
        .await
        .map_err(|e| e.not_found_as("id", "no such pathway"))?;
    check_editions(tx, editions).await?;
    write_steps(tx, id, editions).await?;
    tx.scoped_update::<pathway::Entity>()
        .set(pathway::ActiveModel {
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .filter(pathway::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// The distinct editions of a batch of pathways, in first-seen order (to load them at once).
pub fn editions_of(pathways: &[Pathway]) -> Vec<EditionId> {
    let mut seen = HashSet::new();
    pathways
        .iter()
        .flat_map(|p| p.editions.iter().copied())
        .filter(|e| seen.insert(*e))
        .collect()
}
