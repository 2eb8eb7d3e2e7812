//! The organisation tree inside a tenant: the root (sector body or company), member companies
//! with a size band, departments and teams. Roles granted on a node reach its subtree, so every
//! node carries its materialized path and a subtree is one prefix scan.

pub(crate) mod entity;

crate::tenant_entity!(entity);

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set, Value};
use uuid::Uuid;

use crate::kernel::page::{Page, PageRequest, fetch};
use crate::kernel::principal::Need;
use crate::values::name;
use crate::{Error, OrganisationId, Principal, Result, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgKind {
    Root,
    Company,
    Department,
    Team,
}

impl OrgKind {
    fn as_str(self) -> &'static str {
        match self {
            OrgKind::Root => "root",
            OrgKind::Company => "company",
            OrgKind::Department => "department",
            OrgKind::Team => "team",
        }
    }

    fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "root" => OrgKind::Root,
            "company" => OrgKind::Company,
            "department" => OrgKind::Department,
            "team" => OrgKind::Team,
            other => {
                return Err(Error::Internal(format!(
                    "unknown organisation kind {other}"
                )));
            }
        })
    }
}

/// Employee head count band of a member company.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeBand {
    Under11,
    From11To49,
    From50To299,
    From300,
}

impl SizeBand {
    pub fn as_str(self) -> &'static str {
        match self {
            SizeBand::Under11 => "<11",
            SizeBand::From11To49 => "11-49",
            SizeBand::From50To299 => "50-299",
            SizeBand::From300 => "300+",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "<11" => SizeBand::Under11,
            "11-49" => SizeBand::From11To49,
            "50-299" => SizeBand::From50To299,
            "300+" => SizeBand::From300,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Organisation {
    pub id: OrganisationId,
    pub parent: Option<OrganisationId>,
    pub kind: OrgKind,
    pub name: String,
    pub size_band: Option<SizeBand>,
    pub registration_number: Option<String>,
    pub external_ref: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub(crate) path: String,
}

impl Organisation {
    fn from_model(m: entity::Model) -> Result<Self> {
        Ok(Self {
            id: OrganisationId::from_uuid(m.id),
            parent: m.parent_id.map(OrganisationId::from_uuid),
            kind: OrgKind::from_db(&m.kind)?,
            name: m.name,
            size_band: m.size_band.as_deref().and_then(SizeBand::from_db),
            registration_number: m.registration_number,
            external_ref: m.external_ref,
            archived_at: m.archived_at,
            created_at: m.created_at,
            path: m.path,
        })
    }

    /// Ids from the root down to this node.
    pub fn ancestry(&self) -> Vec<OrganisationId> {
        self.path
            .split('/')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

pub struct NewOrganisation {
    pub parent: OrganisationId,
    pub kind: OrgKind,
    pub name: String,
    pub size_band: Option<SizeBand>,
    pub registration_number: Option<String>,
    pub external_ref: Option<String>,
}

fn child_path(parent_path: &str, id: Uuid) -> String {
    format!("{parent_path}{id}/")
}

/// The root of a new tenant; no access check (the tenant is being created).
pub(crate) async fn create_root(tx: &TenantTx, name_raw: &str) -> Result<Organisation> {
    let id = OrganisationId::new();
    insert(
        tx,
        id,
        None,
        &format!("/{id}/"),
        OrgKind::Root,
        name("displayName", name_raw, 200)?,
        None,
        None,
        None,
    )
    .await
}

/// A node under `parent` made by the system, with no access check (self-registration makes
/// the space's "independent learners" organisation under the root on first use).
pub(crate) async fn create_child_unchecked(
    tx: &TenantTx,
    parent: &Organisation,
    kind: OrgKind,
    name_raw: &str,
) -> Result<Organisation> {
    let id = OrganisationId::new();
    let path = child_path(&parent.path, id.uuid());
    insert(
        tx,
        id,
        Some(parent.id),
        &path,
        kind,
        name("name", name_raw, 200)?,
        None,
        None,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &TenantTx,
    id: OrganisationId,
    parent: Option<OrganisationId>,
    path: &str,
    kind: OrgKind,
    name: String,
    size_band: Option<SizeBand>,
    registration_number: Option<String>,
    external_ref: Option<String>,
) -> Result<Organisation> {
    let m = entity::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(id.uuid()),
        parent_id: Set(parent.map(OrganisationId::uuid)),
        kind: Set(kind.as_str().to_owned()),
        name: Set(name),
        size_band: Set(size_band.map(|b| b.as_str().to_owned())),
        registration_number: Set(registration_number),
        external_ref: Set(external_ref),
        path: Set(path.to_owned()),
        archived_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(&tx.tx)
    .await
    .map_err(|e| Error::on_unique(e, "externalRef", "is already used by another organisation"))?;
    Organisation::from_model(m)
}

/// Loads a node without access checks (callers check).
pub(crate) async fn load(tx: &TenantTx, id: OrganisationId) -> Result<Organisation> {
    let m = tx
        .scoped_select::<entity::Entity>()
        .filter(entity::Column::Id.eq(id.uuid()))
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    Organisation::from_model(m)
}

/// The size band of the nearest organisation up `ancestry` (root first) that has one: the
/// learner's company as voucher restrictions see it. No access check (admission calls it).
pub async fn nearest_size_band(
    tx: &TenantTx,
    ancestry: &[OrganisationId],
) -> Result<Option<SizeBand>> {
    let rows = tx
        .scoped_select::<entity::Entity>()
        .filter(entity::Column::Id.is_in(ancestry.iter().map(|o| o.uuid())))
        .all(&tx.tx)
        .await?;
    Ok(ancestry.iter().rev().find_map(|o| {
        rows.iter()
            .find(|m| m.id == o.uuid())
            .and_then(|m| m.size_band.as_deref().and_then(SizeBand::from_db))
    }))
}

/// A node's ids from the root down to it, without access checks: billing walks up the tree
/// to the nearest billing account, and checks an HR admin's reach over an account. Unknown:
/// `NotFound`.
pub async fn ancestry_of(tx: &TenantTx, id: OrganisationId) -> Result<Vec<OrganisationId>> {
    Ok(load(tx, id).await?.ancestry())
}

/// A condition: the organisation `org` (an SQL expression of the outer row, in the outer row's
/// tenant `tenant`) lies in one of the subtrees at `roots`. The one place lists filter people by
/// the parts of the tree a caller may read.
pub(crate) fn in_subtrees(
    tenant: &str,
    org: &str,
    roots: &[String],
) -> sea_orm::sea_query::SimpleExpr {
    let any: Vec<String> = roots
        .iter()
        // Paths hold only ids and slashes (they are built here), so the literals are safe.
        .filter(|r| {
            r.chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '/')
        })
        .map(|r| format!("substr(o.path, 1, {}) = '{r}'", r.len()))
        .collect();
    let any = if any.is_empty() {
        "1 = 0".to_owned()
    } else {
        any.join(" OR ")
    };
    Expr::cust(format!(
        "EXISTS (SELECT 1 FROM organisations o WHERE o.tenant_id = {tenant} AND o.id = {org} AND ({any}))"
    ))
}

/// Every organisation of the tenant, archived ones included (imports resolve names against it).
pub(crate) async fn all(tx: &TenantTx) -> Result<Vec<Organisation>> {
    tx.scoped_select::<entity::Entity>()
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(Organisation::from_model)
        .collect()
}

pub(crate) async fn root(tx: &TenantTx) -> Result<Organisation> {
    let m = tx
        .scoped_select::<entity::Entity>()
        .filter(entity::Column::ParentId.is_null())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    Organisation::from_model(m)
}

/// A node the principal may read; anything else is NOT_FOUND, exactly like an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: OrganisationId) -> Result<Organisation> {
    let org = load(tx, id).await?;
    if who.may(Need::Read, &org.path) || is_home_of(tx, who, &org).await? {
        Ok(org)
    } else {
        Err(Error::NotFound)
    }
}

/// A learner may see the organisation they belong to, nothing else of the tree.
async fn is_home_of(tx: &TenantTx, who: &Principal, org: &Organisation) -> Result<bool> {
    match who.person() {
        Some((_, person)) => {
            Ok(crate::people::home_organisation(tx, person).await? == Some(org.id))
        }
        None => Ok(false),
    }
}

/// Moving or archiving a node changes its parent's subtree, so it needs manage rights there
/// too: an HR admin of a department cannot carry it out of the company above them.
async fn parent_manageable(tx: &TenantTx, who: &Principal, org: &Organisation) -> Result<()> {
    if let Some(parent) = org.parent {
        let p = load(tx, parent).await?;
        if !who.may(Need::Manage, &p.path) {
            return Err(Error::Forbidden(
                "this needs an admin role on the organisation above it",
            ));
        }
    }
    Ok(())
}

async fn manageable(
    tx: &TenantTx,
    who: &Principal,
    id: OrganisationId,
    field: &'static str,
) -> Result<Organisation> {
    let org = get(tx, who, id)
        .await
        .map_err(|e| e.not_found_as(field, "no such organisation"))?;
    if !who.may(Need::Manage, &org.path) {
        return Err(Error::Forbidden(
            "managing this organisation needs an admin role on it",
        ));
    }
    Ok(org)
}

fn optional_text(field: &'static str, raw: Option<String>, max: usize) -> Result<Option<String>> {
    match raw {
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => name(field, &s, max).map(Some),
        None => Ok(None),
    }
}

pub async fn create(tx: &TenantTx, who: &Principal, new: NewOrganisation) -> Result<Organisation> {
    let name = name("name", &new.name, 200)?;
    let registration_number = optional_text("registrationNumber", new.registration_number, 64)?;
    let external_ref = optional_text("externalRef", new.external_ref, 128)?;
    if new.kind == OrgKind::Root {
        return Err(Error::invalid("kind", "a tenant has exactly one root"));
    }
    if new.size_band.is_some() && new.kind != OrgKind::Company {
        return Err(Error::invalid(
            "sizeBand",
            "only companies have a size band",
        ));
    }
    let parent = manageable(tx, who, new.parent, "parentId").await?;
    if parent.archived_at.is_some() {
        return Err(Error::invalid("parentId", "is archived"));
    }
    let id = OrganisationId::new();
    let path = child_path(&parent.path, id.uuid());
    insert(
        tx,
        id,
        Some(parent.id),
        &path,
        new.kind,
        name,
        new.size_band,
        registration_number,
        external_ref,
    )
    .await
}

pub async fn rename(
    tx: &TenantTx,
    who: &Principal,
    id: OrganisationId,
    new_name: &str,
) -> Result<Organisation> {
    let new_name = name("name", new_name, 200)?;
    manageable(tx, who, id, "id").await?;
    tx.scoped_update::<entity::Entity>()
        .col_expr(entity::Column::Name, Expr::value(new_name))
        .filter(entity::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// Moves a node (and its subtree) under a new parent; rewrites the subtree's paths in the same
/// transaction.
pub async fn move_to(
    tx: &TenantTx,
    who: &Principal,
    id: OrganisationId,
    new_parent: OrganisationId,
) -> Result<Organisation> {
    let org = manageable(tx, who, id, "id").await?;
    if org.kind == OrgKind::Root {
        return Err(Error::invalid("id", "the root cannot move"));
    }
    parent_manageable(tx, who, &org).await?;
    let parent = manageable(tx, who, new_parent, "newParentId").await?;
    if parent.path.starts_with(&org.path) {
        return Err(Error::invalid(
            "newParentId",
            "is inside the organisation being moved",
        ));
    }
    if parent.archived_at.is_some() {
        return Err(Error::invalid("newParentId", "is archived"));
    }
    let new_path = child_path(&parent.path, org.id.uuid());
    let old_len = org.path.chars().count() as i64;
    // path = new_path || substr(path, old_len + 1), for every node of the subtree.
    tx.scoped_update::<entity::Entity>()
        .col_expr(
            entity::Column::Path,
            // Paths hold only ids and slashes, so the literal is safe to inline.
            Expr::cust(format!("'{new_path}' || substr(path, {})", old_len + 1)),
        )
        .filter(entity::Column::Path.starts_with(&org.path))
        .exec(&tx.tx)
        .await?;
    tx.scoped_update::<entity::Entity>()
        .col_expr(entity::Column::ParentId, Expr::value(parent.id.uuid()))
        .filter(entity::Column::Id.eq(id.uuid()))
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// Archives a node and its subtree; people and history stay.
pub async fn archive(tx: &TenantTx, who: &Principal, id: OrganisationId) -> Result<Organisation> {
    let org = manageable(tx, who, id, "id").await?;
    if org.kind == OrgKind::Root {
        return Err(Error::invalid("id", "the root cannot be archived"));
    }
    parent_manageable(tx, who, &org).await?;
    tx.scoped_update::<entity::Entity>()
        .col_expr(entity::Column::ArchivedAt, Expr::value(Utc::now()))
        .filter(entity::Column::Path.starts_with(&org.path))
        .filter(entity::Column::ArchivedAt.is_null())
        .exec(&tx.tx)
        .await?;
    load(tx, id).await
}

/// The subtree under `under` (or everything the principal may read), in creation order.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    under: Option<OrganisationId>,
    include_archived: bool,
    page: PageRequest,
) -> Result<Page<Organisation>> {
    let mut q = tx.scoped_select::<entity::Entity>();
    match under {
        Some(id) => {
            let node = get(tx, who, id).await?;
            if !who.may(Need::Read, &node.path) {
                return Err(Error::NotFound);
            }
            q = q.filter(entity::Column::Path.starts_with(&node.path));
        }
        None => {
            if let Some(roots) = who.readable_roots() {
                let mut any = Condition::any();
                for r in &roots {
                    any = any.add(entity::Column::Path.starts_with(r));
                }
                if roots.is_empty() {
                    return Ok(Page {
                        items: vec![],
                        has_next_page: false,
                    });
                }
                q = q.filter(any);
            }
        }
    }
    if !include_archived {
        q = q.filter(entity::Column::ArchivedAt.is_null());
    }
    let p = fetch(q, entity::Column::Id, page, &tx.tx).await?;
    let items = p
        .items
        .into_iter()
        .map(Organisation::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        has_next_page: p.has_next_page,
    })
}

/// Active people in each node's subtree, in one statement for a whole page.
pub async fn head_counts(
    tx: &TenantTx,
    ids: &[OrganisationId],
) -> Result<Vec<(OrganisationId, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut values: Vec<Value> = vec![tx.tenant_uuid().into()];
    let mut marks = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        values.push(id.uuid().into());
        marks.push(format!("${}", i + 2));
    }
    let sql = format!(
        "SELECT o.id AS org_id, COUNT(p.id) AS n FROM organisations o \
         JOIN organisations d ON d.tenant_id = o.tenant_id AND substr(d.path, 1, length(o.path)) = o.path \
         JOIN people p ON p.tenant_id = d.tenant_id AND p.organisation_id = d.id AND p.status <> 'disabled' \
         WHERE o.tenant_id = $1 AND o.id IN ({}) GROUP BY o.id",
        marks.join(", ")
    );
    let rows = tx.raw_all(&sql, values).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push((
            OrganisationId::from_uuid(r.try_get::<Uuid>("", "org_id")?),
            r.try_get::<i64>("", "n")?,
        ));
    }
    Ok(out)
}
