//! Reading editions: one or a page, hydrated with their visibility and modules in a constant
//! number of statements, with the courses when asked, as each caller may see them.

use super::*;

/// Adds the visibility rows and current modules to a batch of edition rows: two statements
/// whatever the batch's size.
pub(super) async fn hydrate(tx: &TenantTx, rows: Vec<edition::Model>) -> Result<Vec<Edition>> {
    hydrate_parts(tx, rows, Parts::ALL).await
}

pub(super) async fn hydrate_parts(
    tx: &TenantTx,
    rows: Vec<edition::Model>,
    parts: Parts,
) -> Result<Vec<Edition>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<uuid::Uuid> = rows.iter().map(|m| m.id).collect();
    let mut orgs: HashMap<uuid::Uuid, Vec<OrganisationId>> = HashMap::new();
    // Only editions visible to chosen organisations have rows to read.
    let restricted: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|m| m.visibility != "whole_tenant")
        .map(|m| m.id)
        .collect();
    if parts.visibility && !restricted.is_empty() {
        for v in tx
            .scoped_select::<visible_to::Entity>()
            .filter(visible_to::Column::EditionId.is_in(restricted))
            .order_by_asc(visible_to::Column::Id)
            .all(&tx.tx)
            .await?
        {
            orgs.entry(v.edition_id)
                .or_default()
                .push(OrganisationId::from_uuid(v.organisation_id));
        }
    }
    let mut mods: HashMap<uuid::Uuid, Vec<Module>> = HashMap::new();
    if parts.modules {
        for m in tx
            .scoped_select::<module::Entity>()
            .filter(module::Column::EditionId.is_in(ids))
            .filter(module::Column::RetiredAt.is_null())
            .order_by_asc(module::Column::EditionId)
            .order_by_asc(module::Column::Position)
            .all(&tx.tx)
            .await?
        {
            mods.entry(m.edition_id).or_default().push(m.into());
        }
    }
    rows.into_iter()
        .map(|m| {
            let o = orgs.remove(&m.id).unwrap_or_default();
            let ms = mods.remove(&m.id).unwrap_or_default();
            Edition::from_parts(m, o, ms, parts)
        })
        .collect()
}

pub(super) async fn model(
    tx: &TenantTx,
    id: EditionId,
    for_update: bool,
) -> Result<edition::Model> {
    let mut q = tx
        .scoped_select::<edition::Entity>()
        .filter(edition::Column::Id.eq(id.uuid()));
    if for_update {
        // Serialises changes to one edition (and, later, enrolments that lock it too) on
        // PostgreSQL; SQLite has one writer anyway.
        q = q.lock_exclusive();
    }
    q.one(&tx.tx).await?.ok_or(Error::NotFound)
}

/// An edition of this tenant, without access checks (callers check). Unknown: NOT_FOUND.
pub async fn load(tx: &TenantTx, id: EditionId) -> Result<Edition> {
    load_with(tx, id, false).await
}

/// The edition, its row locked until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite has
/// one writer): admission counts seats only after this, so concurrent admissions take turns.
pub(crate) async fn load_locked(tx: &TenantTx, id: EditionId) -> Result<Edition> {
    load_with(tx, id, true).await
}

pub(super) async fn load_with(tx: &TenantTx, id: EditionId, for_update: bool) -> Result<Edition> {
    let m = model(tx, id, for_update).await?;
    hydrate(tx, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("edition vanished while loading".into()))
}

/// Editions of this tenant by id with their courses, without access checks, read together in
/// one statement (plus one per part and one for the courses' skills when asked); unknown ids are
/// simply absent.
pub async fn many_with_courses(
    tx: &TenantTx,
    ids: &[EditionId],
    parts: Parts,
    course_skills: bool,
) -> Result<HashMap<EditionId, (Edition, Course)>> {
    use crate::catalogue::entity::course;
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx
        .scoped_select::<edition::Entity>()
        .filter(edition::Column::Id.is_in(ids.iter().map(|i| i.uuid())))
        .join(JoinType::InnerJoin, edition::Relation::Course.def())
        .select_also(course::Entity)
        .all(&tx.tx)
        .await?;
    let mut courses: HashMap<uuid::Uuid, course::Model> = HashMap::new();
    let mut models = Vec::with_capacity(rows.len());
    for (e, c) in rows {
        if let Some(c) = c {
            courses.insert(c.id, c);
        }
        models.push(e);
    }
    let mut skills = if course_skills {
        let ids: Vec<uuid::Uuid> = courses.keys().copied().collect();
        Some(crate::catalogue::skills_of(tx, &ids).await?)
    } else {
        None
    };
    let courses: HashMap<uuid::Uuid, Course> = courses
        .into_iter()
        .map(|(id, m)| {
            let s = skills
                .as_mut()
                .map(|all| all.remove(&id).unwrap_or_default());
            (id, Course::from_model_with(m, s))
        })
        .collect();
    hydrate_parts(tx, models, parts)
        .await?
        .into_iter()
        .map(|e| {
            let c = courses
                .get(&e.course.uuid())
                .cloned()
                .ok_or_else(|| Error::Internal(format!("edition {} without its course", e.id)))?;
            Ok((e.id, (e, c)))
        })
        .collect()
}

/// The modules an enrolment must complete, in order (current ones only).
pub async fn required_modules(tx: &TenantTx, id: EditionId) -> Result<Vec<Module>> {
    model(tx, id, false).await?;
    Ok(tx
        .scoped_select::<module::Entity>()
        .filter(module::Column::EditionId.eq(id.uuid()))
        .filter(module::Column::RetiredAt.is_null())
        .filter(module::Column::Required.eq(true))
        .order_by_asc(module::Column::Position)
        .all(&tx.tx)
        .await?
        .into_iter()
        .map(Module::from)
        .collect())
}

/// Ids from the root down to the person's organisation; empty for an unknown person.
pub(super) async fn ancestry_of(tx: &TenantTx, person: PersonId) -> Result<Vec<OrganisationId>> {
    match crate::people::home_organisation(tx, person).await? {
        Some(org) => Ok(crate::organisations::load(tx, org).await?.ancestry()),
        None => Ok(vec![]),
    }
}

/// One edition as the caller may see it: tenant admins see every edition; other people see
/// open editions visible to their organisation. Anything else is NOT_FOUND, like an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: EditionId) -> Result<Edition> {
    let e = load(tx, id).await?;
    if who.is_tenant_admin() {
        return Ok(e);
    }
    let Some((_, person)) = who.person() else {
        return Err(Error::NotFound);
    };
    if e.status == EditionStatus::Open && e.visibility.reaches(&ancestry_of(tx, person).await?) {
        Ok(e)
    } else {
        Err(Error::NotFound)
    }
}

/// Editions in creation order: all of them (optionally by status) for tenant admins; open ones
/// visible to their organisation for everyone else. (What a person may join by themselves is
/// `enrolments::joinable`, which narrows `open_and_visible`.)
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    status: Option<EditionStatus>,
    page: PageRequest,
) -> Result<Page<Edition>> {
    let q = if who.is_tenant_admin() {
        let q = tx.scoped_select::<edition::Entity>();
        match status {
            Some(s) => q.filter(edition::Column::Status.eq(s.as_str())),
            None => q,
        }
    } else {
        if status.is_some_and(|s| s != EditionStatus::Open) {
            return Err(Error::invalid(
                "status",
                "only open editions are visible here",
            ));
        }
        let Some((_, person)) = who.person() else {
            return Err(Error::Unauthenticated("sign in to this space first"));
        };
        open_and_visible(tx, person).await?
    };
    page_of(tx, q, page).await
}

/// Open editions visible to the person's organisation (whole tenant, or listing an organisation
/// at or above theirs), as a query that callers may narrow further.
pub(crate) async fn open_and_visible(
    tx: &TenantTx,
    person: PersonId,
) -> Result<sea_orm::Select<edition::Entity>> {
    let ancestry = ancestry_of(tx, person).await?;
    // Editions listing an organisation at or above the person's, through the same tenant
    // filter as everything else.
    let listing = tx
        .scoped_select::<visible_to::Entity>()
        .select_only()
        .column(visible_to::Column::EditionId)
        .filter(visible_to::Column::OrganisationId.is_in(ancestry.iter().map(|o| o.uuid())))
        .into_query();
    Ok(tx
        .scoped_select::<edition::Entity>()
        .filter(edition::Column::Status.eq(EditionStatus::Open.as_str()))
        .filter(
            Condition::any()
                .add(edition::Column::Visibility.eq("whole_tenant"))
                .add(edition::Column::Id.in_subquery(listing)),
        ))
}

/// One page of `q` in creation order, hydrated.
pub(crate) async fn page_of(
    tx: &TenantTx,
    q: sea_orm::Select<edition::Entity>,
    page: PageRequest,
) -> Result<Page<Edition>> {
    let p = fetch(q, edition::Column::Id, page, &tx.tx).await?;
    Ok(Page {
        items: hydrate(tx, p.items).await?,
        has_next_page: p.has_next_page,
    })
}

/// Enrolments of the edition, whatever their status. Counted in SQL by hand so that editions
/// does not import enrolments, which imports editions.
pub(super) async fn enrolment_count(tx: &TenantTx, id: EditionId) -> Result<u64> {
    let rows = tx
        .raw_all(
            "SELECT COUNT(*) AS n FROM enrolments WHERE tenant_id = $1 AND edition_id = $2",
            vec![tx.tenant_uuid().into(), id.uuid().into()],
        )
        .await?;
    let n: i64 = match rows.first() {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}
