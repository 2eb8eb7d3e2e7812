//! Voucher batches: what a batch's codes are worth, when and where they apply, and the one
//! mutation that makes them (the only moment their plaintext exists).
//!
//! CONTRACT (lead): `Value`, `Restrictions`, `Batch` (+ `from_model`), `NewBatch`, `Created`
//! and `create` are what redemption and the API call. The funders helper owns the rest of this
//! file (policy, views, revocation) and may add fields.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use spaces_tenants::editions::FunderKind;
use spaces_tenants::organisations::SizeBand;
use spaces_tenants::{CourseId, EditionId, Error, OrganisationId, PersonId, Result, TenantTx};

use super::codes::{self, Code, VoucherKey};
use super::entity::{batch, voucher};
use crate::{Currency, FunderId, Money, VoucherBatchId, VoucherId};

/// The most codes one batch holds.
pub const MAX_CODES: u32 = 100_000;

/// What one use of a code covers, of the price including VAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Up to this amount.
    Face(Money),
    /// This share of the price (basis points: 5000 = 50 %), up to the cap when there is one.
    Percent {
        basis_points: u32,
        cap: Option<Money>,
    },
}

/// Where a batch's codes apply; `None`: no restriction of that kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restrictions {
    pub courses: Option<Vec<CourseId>>,
    pub editions: Option<Vec<EditionId>>,
    /// Subtrees: the learner's organisation must be one of these or below one.
    pub organisations: Option<Vec<OrganisationId>>,
    /// The learner's company (the nearest organisation up their tree with a size band) must be
    /// in one of these bands.
    pub size_bands: Option<Vec<SizeBand>>,
}

#[derive(Clone, Debug)]
pub struct Batch {
    pub id: VoucherBatchId,
    pub funder: FunderId,
    pub funder_kind: FunderKind,
    pub name: String,
    pub code_count: u32,
    pub value: Value,
    pub currency: Currency,
    /// The learner pays at least this, whatever the vouchers cover.
    pub min_learner_share: Option<Money>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub uses_per_code: u32,
    pub restrictions: Restrictions,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn ids<T>(raw: &Option<String>, make: impl Fn(uuid::Uuid) -> T) -> Result<Option<Vec<T>>> {
    raw.as_deref()
        .map(|s| {
            serde_json::from_str::<Vec<uuid::Uuid>>(s)
                .map(|v| v.into_iter().map(&make).collect())
                .map_err(|e| Error::Internal(format!("a stored batch restriction: {e}")))
        })
        .transpose()
}

fn json_ids<T: Copy>(v: &Option<Vec<T>>, uuid: impl Fn(T) -> uuid::Uuid) -> Option<String> {
    v.as_ref().map(|v| {
        serde_json::Value::from(v.iter().map(|x| uuid(*x).to_string()).collect::<Vec<_>>())
            .to_string()
    })
}

impl Batch {
    pub(crate) fn from_model(m: batch::Model) -> Result<Self> {
        let currency = Currency::parse("currency", &m.currency)
            .map_err(|e| Error::Internal(format!("batch {}: {e}", m.id)))?;
        let value = match (m.face_value_minor, m.percent_basis_points) {
            (Some(face), None) => Value::Face(Money::new(face, currency)),
            (None, Some(bp)) => Value::Percent {
                basis_points: u32::try_from(bp)
                    .map_err(|_| Error::Internal(format!("batch {}: percentage", m.id)))?,
                cap: m.cap_minor.map(|c| Money::new(c, currency)),
            },
            _ => return Err(Error::Internal(format!("batch {}: its value", m.id))),
        };
        let size_bands = m
            .size_bands
            .as_deref()
            .map(|s| {
                serde_json::from_str::<Vec<String>>(s)
                    .ok()
                    .and_then(|v| v.iter().map(|b| SizeBand::from_db(b)).collect())
                    .ok_or_else(|| Error::Internal(format!("batch {}: size bands", m.id)))
            })
            .transpose()?;
        Ok(Self {
            id: VoucherBatchId::from_uuid(m.id),
            funder: FunderId::from_uuid(m.funder_id),
            funder_kind: FunderKind::from_db(&m.funder_kind)?,
            name: m.name,
            code_count: u32::try_from(m.code_count).unwrap_or(0),
            value,
            currency,
            min_learner_share: m.min_learner_share_minor.map(|v| Money::new(v, currency)),
            valid_from: m.valid_from,
            valid_until: m.valid_until,
            uses_per_code: u32::try_from(m.uses_per_code).unwrap_or(1),
            restrictions: Restrictions {
                courses: ids(&m.course_ids, CourseId::from_uuid)?,
                editions: ids(&m.edition_ids, EditionId::from_uuid)?,
                organisations: ids(&m.organisation_ids, OrganisationId::from_uuid)?,
                size_bands,
            },
            revoked_at: m.revoked_at,
            created_at: m.created_at,
        })
    }
}

/// A batch as a funder asks for it (already parsed: the API names the fields of its errors).
#[derive(Clone, Debug)]
pub struct NewBatch {
    pub funder: FunderId,
    pub funder_kind: FunderKind,
    pub name: String,
    pub count: u32,
    pub value: Value,
    pub min_learner_share: Option<Money>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub uses_per_code: u32,
    pub restrictions: Restrictions,
}

/// A batch just made, with its codes: the only time they exist in plaintext.
pub struct Created {
    pub batch: Batch,
    pub codes: Vec<Code>,
}

impl Created {
    /// The codes as CSV text for the funder to save: a header, then one code per line.
    pub fn csv(&self) -> String {
        let mut out = String::with_capacity(self.codes.len() * 22 + 8);
        out.push_str("code\n");
        for c in &self.codes {
            out.push_str(&c.grouped());
            out.push('\n');
        }
        out
    }
}

fn check(new: &NewBatch) -> Result<Currency> {
    if new.count == 0 || new.count > MAX_CODES {
        return Err(Error::invalid(
            "count",
            format!("must be between 1 and {MAX_CODES}"),
        ));
    }
    if new.uses_per_code == 0 || new.uses_per_code > 1_000 {
        return Err(Error::invalid("usesPerCode", "must be between 1 and 1000"));
    }
    if new.valid_until <= new.valid_from {
        return Err(Error::invalid("validUntil", "must be after validFrom"));
    }
    let currency = match new.value {
        Value::Face(m) => {
            if !m.is_positive() {
                return Err(Error::invalid("faceValue", "must be above zero"));
            }
            m.currency()
        }
        Value::Percent { basis_points, cap } => {
            if basis_points == 0 || basis_points > 10_000 {
                return Err(Error::invalid(
                    "percentBasisPoints",
                    "must be between 1 and 10000 (100 %)",
                ));
            }
            match cap {
                Some(c) if !c.is_positive() => {
                    return Err(Error::invalid("cap", "must be above zero"));
                }
                Some(c) => c.currency(),
                None => match new.min_learner_share {
                    Some(m) => m.currency(),
                    None => {
                        return Err(Error::invalid(
                            "cap",
                            "a percentage needs a cap, which also sets the batch's currency",
                        ));
                    }
                },
            }
        }
    };
    if let Some(m) = new.min_learner_share {
        if m.currency() != currency {
            return Err(Error::invalid(
                "minLearnerShare",
                "must be in the batch's currency",
            ));
        }
        if m.is_negative() {
            return Err(Error::invalid("minLearnerShare", "must not be negative"));
        }
    }
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters"));
    }
    Ok(currency)
}

/// Makes the batch and its codes in the caller's transaction; the codes are stored only as
/// their hashes. The caller has checked who may (the funder's staff or the space's admins)
/// and that the funder and the restrictions name rows of this space.
pub async fn create(
    tx: &TenantTx,
    key: &VoucherKey,
    now: DateTime<Utc>,
    by: Option<PersonId>,
    new: NewBatch,
) -> Result<Created> {
    let currency = check(&new)?;
    let id = VoucherBatchId::new();
    let (face, percent, cap) = match new.value {
        Value::Face(m) => (Some(m.amount_minor()), None, None),
        Value::Percent { basis_points, cap } => (
            None,
            Some(basis_points as i32),
            cap.map(|c| c.amount_minor()),
        ),
    };
    let row = batch::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        funder_id: Set(new.funder.uuid()),
        name: Set(new.name.trim().to_owned()),
        funder_kind: Set(new.funder_kind.as_str().to_owned()),
        code_count: Set(new.count as i32),
        face_value_minor: Set(face),
        percent_basis_points: Set(percent),
        cap_minor: Set(cap),
        currency: Set(currency.code().to_owned()),
        min_learner_share_minor: Set(new.min_learner_share.map(|m| m.amount_minor())),
        valid_from: Set(new.valid_from),
        valid_until: Set(new.valid_until),
        uses_per_code: Set(new.uses_per_code as i32),
        course_ids: Set(json_ids(&new.restrictions.courses, CourseId::uuid)),
        edition_ids: Set(json_ids(&new.restrictions.editions, EditionId::uuid)),
        organisation_ids: Set(json_ids(
            &new.restrictions.organisations,
            OrganisationId::uuid,
        )),
        size_bands: Set(new.restrictions.size_bands.as_ref().map(|v| {
            serde_json::Value::from(v.iter().map(|b| b.as_str()).collect::<Vec<_>>()).to_string()
        })),
        revoked_at: Set(None),
        created_by: Set(by.map(PersonId::uuid)),
        created_at: Set(now),
    };
    let m = tx.insert(row).await?;
    let codes = codes::generate(new.count as usize)
        .map_err(|e| Error::Internal(format!("drawing voucher codes: {e}")))?;
    let space = tx.tenant();
    let rows: Vec<voucher::ActiveModel> = codes
        .iter()
        .map(|c| voucher::ActiveModel {
            tenant_id: Set(space.uuid()),
            id: Set(VoucherId::new().uuid()),
            batch_id: Set(id.uuid()),
            code_hash: Set(key.hash(space, c)),
            uses: Set(0),
            max_uses: Set(new.uses_per_code as i32),
            revoked_at: Set(None),
        })
        .collect();
    // Bounded statements: 7 columns × 1,000 rows stays under every driver's bind limit.
    for chunk in rows.chunks(1_000) {
        tx.insert_many(chunk.to_vec()).await?;
    }
    Ok(Created {
        batch: Batch::from_model(m)?,
        codes,
    })
}

/// What `createVoucherBatch` asks for, before the funder and the restrictions are checked.
#[derive(Clone, Debug)]
pub struct BatchRequest {
    pub funder: FunderId,
    pub name: String,
    pub count: u32,
    pub value: Value,
    pub min_learner_share: Option<Money>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub uses_per_code: u32,
    pub restrictions: Restrictions,
}

/// `createVoucherBatch`: the funder's staff or the space's admins. The funder must be one the
/// caller sees (`NOT_FOUND` on `funderId` otherwise); every restriction id must name a row of
/// this space (`NOT_FOUND` on its field). The batch's kind is the funder's, so only a PLA
/// funder makes PLA vouchers.
pub async fn create_as(
    tx: &TenantTx,
    who: &spaces_tenants::Principal,
    key: &VoucherKey,
    now: DateTime<Utc>,
    req: BatchRequest,
) -> Result<Created> {
    use crate::funders::policy;
    if !policy::sees_all(who) && policy::staffed(who).is_empty() {
        return Err(Error::Forbidden(
            "voucher batches are made by funders' staff and the space's admins",
        ));
    }
    let funder = crate::funders::get(tx, who, req.funder)
        .await
        .map_err(|e| e.not_found_as("funderId", "no such funder"))?;
    check_restrictions(tx, &req.restrictions).await?;
    create(
        tx,
        key,
        now,
        who.person().map(|(_, p)| p),
        NewBatch {
            funder: funder.id,
            funder_kind: funder.kind,
            name: req.name,
            count: req.count,
            value: req.value,
            min_learner_share: req.min_learner_share,
            valid_from: req.valid_from,
            valid_until: req.valid_until,
            uses_per_code: req.uses_per_code,
            restrictions: req.restrictions,
        },
    )
    .await
}

/// Every id a restriction names is a course of the catalogue, or an edition or organisation
/// of this space; an empty list would match nothing, so it is refused.
async fn check_restrictions(tx: &TenantTx, r: &Restrictions) -> Result<()> {
    fn non_empty<T>(field: &'static str, v: &Option<Vec<T>>) -> Result<()> {
        match v {
            Some(v) if v.is_empty() => Err(Error::invalid(
                field,
                "leave it out for no restriction; an empty list would match nothing",
            )),
            Some(v) if v.len() > 1_000 => Err(Error::invalid(field, "at most 1000 entries")),
            _ => Ok(()),
        }
    }
    non_empty("courseIds", &r.courses)?;
    non_empty("editionIds", &r.editions)?;
    non_empty("organisationIds", &r.organisations)?;
    non_empty("sizeBands", &r.size_bands)?;
    if let Some(courses) = &r.courses {
        let found = spaces_tenants::catalogue::many(tx, courses).await?;
        if courses.iter().any(|c| !found.contains_key(c)) {
            return Err(Error::not_found_field("courseIds", "no such course"));
        }
    }
    if let Some(editions) = &r.editions {
        let found = spaces_tenants::editions::many_with_courses(
            tx,
            editions,
            spaces_tenants::editions::Parts {
                visibility: false,
                modules: false,
            },
            false,
        )
        .await?;
        if editions.iter().any(|e| !found.contains_key(e)) {
            return Err(Error::not_found_field("editionIds", "no such edition"));
        }
    }
    if let Some(orgs) = &r.organisations {
        for o in orgs {
            spaces_tenants::organisations::ancestry_of(tx, *o)
                .await
                .map_err(|e| e.not_found_as("organisationIds", "no such organisation"))?;
        }
    }
    Ok(())
}
