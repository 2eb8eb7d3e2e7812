//! Certificates as people see and manage them: the learner's own, those HR reads for the people
//! they manage, revocation by admins, the learner's choice to show their name on the public
//! verification page, and the identity-verified fact an admin records.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entity::credential;
use crate::enrolments::entity::enrolment;
use crate::kernel::page::{Page, PageRequest};
use crate::values::name;
use crate::{
    CredentialId, EditionId, EnrolmentId, Error, PathwayId, PersonId, Principal, Result, TenantTx,
};

const MAX_REASON: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateKind {
    Edition,
    Pathway,
}

#[derive(Clone, Debug)]
pub struct Certificate {
    pub id: CredentialId,
    pub kind: CertificateKind,
    pub person: PersonId,
    pub enrolment: Option<EnrolmentId>,
    pub edition: Option<EditionId>,
    pub pathway: Option<PathwayId>,
    pub achievement_name: String,
    pub microcredential: bool,
    /// The VC-JWT as signed.
    pub jwt: String,
    pub key: uuid::Uuid,
    pub status_list: i32,
    pub status_index: i32,
    pub issued_at: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    /// The learner shows their name on the verification page.
    pub public: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

impl From<credential::Model> for Certificate {
    fn from(m: credential::Model) -> Self {
        Self {
            id: CredentialId::from_uuid(m.id),
            kind: if m.kind == "pathway" {
                CertificateKind::Pathway
            } else {
                CertificateKind::Edition
            },
            person: PersonId::from_uuid(m.person_id),
            enrolment: m.enrolment_id.map(EnrolmentId::from_uuid),
            edition: m.edition_id.map(EditionId::from_uuid),
            pathway: m.pathway_id.map(PathwayId::from_uuid),
            achievement_name: m.achievement_name,
            microcredential: m.microcredential,
            jwt: m.jwt,
            key: m.key_id,
            status_list: m.status_list,
            status_index: m.status_index,
            issued_at: m.issued_at,
            valid_until: m.valid_until,
            public: m.public,
            revoked_at: m.revoked_at,
            revoked_reason: m.revoked_reason,
        }
    }
}

/// A certificate of this space by id, for the public routes (the id is the unguessable part of
/// its URL); `None` for an unknown id or another space's.
pub async fn find(tx: &TenantTx, id: CredentialId) -> Result<Option<Certificate>> {
    Ok(tx
        .select::<credential::Entity>()
        .filter(credential::Column::Id.eq(id.uuid()))
        .one()
        .await?
        .map(Certificate::from))
}

/// A certificate the caller may read: their own, or one of a person they may read (HR,
/// managers, tenant admins). Anything else is NOT_FOUND, like an unknown id.
pub async fn get(tx: &TenantTx, who: &Principal, id: CredentialId) -> Result<Certificate> {
    let not_found = || Error::not_found_field("id", "no such certificate in this space");
    let c = find(tx, id).await?.ok_or_else(not_found)?;
    if who.person().map(|(_, p)| p) != Some(c.person) {
        crate::people::get(tx, who, c.person)
            .await
            .map_err(|e| e.not_found_as("id", "no such certificate in this space"))?;
        if who.readable_roots().is_some_and(|r| r.is_empty()) {
            return Err(not_found());
        }
    }
    Ok(c)
}

/// Newest first, after the cursor's certificate.
async fn page_of(tx: &TenantTx, filter: Condition, page: PageRequest) -> Result<Page<Certificate>> {
    let mut q = tx.select::<credential::Entity>().filter(filter);
    if let Some(after) = page.after {
        let Some(at) = tx
            .select::<credential::Entity>()
            .filter(credential::Column::Id.eq(after))
            .one()
            .await?
        else {
            return Err(Error::invalid("after", "not a cursor of this list"));
        };
        q = q.filter(
            Condition::any()
                .add(credential::Column::IssuedAt.lt(at.issued_at))
                .add(
                    Condition::all()
                        .add(credential::Column::IssuedAt.eq(at.issued_at))
                        .add(credential::Column::Id.lt(after)),
                ),
        );
    }
    let rows = q
        .order_by_desc(credential::Column::IssuedAt)
        .order_by_desc(credential::Column::Id)
        .limit(page.first + 1)
        .all()
        .await?;
    Ok(Page::from_overfetch(rows, page).map(Certificate::from))
}

/// The signed-in learner's own certificates.
pub async fn mine(tx: &TenantTx, who: &Principal, page: PageRequest) -> Result<Page<Certificate>> {
    let Some((_, me)) = who.person() else {
        return Err(Error::Unauthenticated("sign in to this space first"));
    };
    page_of(
        tx,
        Condition::all().add(credential::Column::PersonId.eq(me.uuid())),
        page,
    )
    .await
}

/// HR, managers and tenant admins: the certificates of one person they may read, or of every
/// person they may read.
pub async fn list(
    tx: &TenantTx,
    who: &Principal,
    person: Option<PersonId>,
    page: PageRequest,
) -> Result<Page<Certificate>> {
    let roots = who.readable_roots();
    if roots.as_ref().is_some_and(|r| r.is_empty()) {
        return Err(Error::Forbidden("this needs an HR or manager role"));
    }
    let mut filter = Condition::all();
    if let Some(p) = person {
        crate::people::get(tx, who, p)
            .await
            .map_err(|e| e.not_found_as("personId", "no such person"))?;
        filter = filter.add(credential::Column::PersonId.eq(p.uuid()));
    }
    if let Some(roots) = roots {
        let within: SimpleExpr = crate::organisations::in_subtrees(
            "credentials.tenant_id",
            "(SELECT p.organisation_id FROM people p WHERE p.tenant_id = credentials.tenant_id AND p.id = credentials.person_id)",
            &roots,
        );
        filter = filter.add(within);
    }
    page_of(tx, filter, page).await
}

/// Tenant admins: revokes a certificate, with the reason verifiers are told. Revoking a
/// revoked one changes nothing (it keeps its first time and reason).
pub async fn revoke(
    tx: &TenantTx,
    who: &Principal,
    id: CredentialId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Certificate> {
    let Some((_, admin)) = who.person().filter(|_| who.is_tenant_admin()) else {
        return Err(Error::Forbidden(
            "revoking a certificate needs the tenant admin role",
        ));
    };
    let reason = name("reason", reason, MAX_REASON)?;
    find(tx, id)
        .await?
        .ok_or_else(|| Error::not_found_field("id", "no such certificate in this space"))?;
    tx.update_many::<credential::Entity>()
        .set(credential::ActiveModel {
            revoked_at: Set(Some(now)),
            revoked_reason: Set(Some(reason)),
            revoked_by: Set(Some(admin.uuid())),
            ..Default::default()
        })
        .filter(credential::Column::Id.eq(id.uuid()))
        .filter(credential::Column::RevokedAt.is_null())
        .exec()
        .await?;
    find(tx, id)
        .await?
        .ok_or_else(|| Error::Internal("a certificate vanished".into()))
}

/// The learner: show (or hide) their name on the certificate's public verification page.
pub async fn set_public(
    tx: &TenantTx,
    who: &Principal,
    id: CredentialId,
    public: bool,
) -> Result<Certificate> {
    let c = find(tx, id).await?;
    match (who.person(), &c) {
        (Some((_, me)), Some(c)) if c.person == me => {}
        _ => return Err(Error::not_found_field("id", "no such certificate of yours")),
    }
    tx.update_many::<credential::Entity>()
        .col_expr(credential::Column::Public, Expr::value(public))
        .filter(credential::Column::Id.eq(id.uuid()))
        .exec()
        .await?;
    find(tx, id)
        .await?
        .ok_or_else(|| Error::Internal("a certificate vanished".into()))
}

/// Indexes of the revoked certificates in one of the space's status lists.
pub async fn revoked_in(tx: &TenantTx, list: i32) -> Result<Vec<i32>> {
    Ok(tx
        .select::<credential::Entity>()
        .select_only()
        .column(credential::Column::StatusIndex)
        .filter(credential::Column::StatusList.eq(list))
        .filter(credential::Column::RevokedAt.is_not_null())
        .tuples::<(i32,)>()
        .await?
        .into_iter()
        .map(|(i,)| i)
        .collect())
}

/// Whether the space has issued into this list (an unknown list is not served).
pub async fn list_exists(tx: &TenantTx, list: i32) -> Result<bool> {
    Ok(tx
        .select::<credential::Entity>()
        .filter(credential::Column::StatusList.eq(list))
        .count()
        .await?
        > 0)
}

/// How the identity-verified fact was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// The LMS reported an ID-verified assessment.
    Lms,
    /// An admin recorded it.
    Admin,
}

/// Records that the learner's identity was verified at the enrolment's assessment (the first
/// record stays). Admins call it through [`record_identity_verified`]; the LRS directly.
pub(crate) async fn mark_identity_verified(
    tx: &TenantTx,
    enrolment_id: EnrolmentId,
    source: IdentitySource,
    now: DateTime<Utc>,
) -> Result<u64> {
    tx.update_many::<enrolment::Entity>()
        .set(enrolment::ActiveModel {
            identity_verified_at: Set(Some(now)),
            identity_verified_source: Set(Some(
                match source {
                    IdentitySource::Lms => "lms",
                    IdentitySource::Admin => "admin",
                }
                .to_owned(),
            )),
            ..Default::default()
        })
        .filter(enrolment::Column::Id.eq(enrolment_id.uuid()))
        .filter(enrolment::Column::IdentityVerifiedAt.is_null())
        .exec()
        .await
}

/// Tenant admins: the learner's identity was verified at this enrolment's assessment (an
/// invigilated exam, an ID check). Credentials issued afterwards say so.
pub async fn record_identity_verified(
    tx: &TenantTx,
    who: &Principal,
    enrolment_id: EnrolmentId,
    now: DateTime<Utc>,
) -> Result<()> {
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "recording an identity check needs the tenant admin role",
        ));
    }
    let known = tx
        .select::<enrolment::Entity>()
        .filter(enrolment::Column::Id.eq(enrolment_id.uuid()))
        .count()
        .await?;
    if known == 0 {
        return Err(Error::not_found_field("enrolmentId", "no such enrolment"));
    }
    // A signed certificate is never re-signed: the check would show nowhere.
    let signed = tx
        .select::<credential::Entity>()
        .filter(credential::Column::Source.eq(format!("enrolment:{enrolment_id}")))
        .count()
        .await?;
    if signed > 0 {
        return Err(Error::invalid(
            "enrolmentId",
            "its certificate is already signed; record identity checks before completion",
        ));
    }
    mark_identity_verified(tx, enrolment_id, IdentitySource::Admin, now).await?;
    Ok(())
}

/// Tenant admins: how long the certificates of an edition are valid, in months (1 to 600);
/// `None`: no end. Certificates issued before keep the validity they were signed with.
pub async fn set_validity(
    tx: &TenantTx,
    who: &Principal,
    edition: EditionId,
    months: Option<i32>,
) -> Result<()> {
    use crate::editions::entity::edition as e;
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "certificate validity needs the tenant admin role",
        ));
    }
    if months.is_some_and(|m| !(1..=600).contains(&m)) {
        return Err(Error::invalid(
            "months",
            "must be between 1 and 600, or null for no end",
        ));
    }
    let changed = tx
        .update_many::<e::Entity>()
        .col_expr(e::Column::CredentialValidMonths, Expr::value(months))
        .filter(e::Column::Id.eq(edition.uuid()))
        .exec()
        .await?;
    if changed == 0 {
        return Err(Error::not_found_field("editionId", "no such edition"));
    }
    Ok(())
}
