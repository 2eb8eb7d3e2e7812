//! The platform's course catalogue: providers (universities) and courses carrying the facts the
//! Common Microcredential Framework asks for. Draft -> published -> retired. Platform data: only
//! operators write it; tenants read published courses.

pub(crate) mod entity;
mod values;

use values::parse_skill;
pub use values::{
    parse_ects, parse_eqf, parse_language, parse_pla_registry_code, parse_study_hours,
};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::kernel::page::{Page, PageRequest};
use crate::kernel::reads::{Reads, on};
use crate::values::{HttpsUrl, name};
use crate::{CourseId, Db, Error, ProviderId, Result, SkillId};

use entity::{course, provider, skill};

#[derive(Clone, Debug)]
pub struct Provider {
    pub id: ProviderId,
    pub name: String,
    pub country: Option<String>,
    pub website: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<provider::Model> for Provider {
    fn from(m: provider::Model) -> Self {
        Self {
            id: ProviderId::from_uuid(m.id),
            name: m.name,
            country: m.country,
            website: m.website,
            created_at: m.created_at,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assessment {
    None,
    OnlineUnverified,
    /// An ID-verified summative assessment: what a CMF microcredential ends in.
    IdVerifiedSummative,
}

impl Assessment {
    fn as_str(self) -> &'static str {
        match self {
            Assessment::None => "none",
            Assessment::OnlineUnverified => "online_unverified",
            Assessment::IdVerifiedSummative => "id_verified_summative",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "online_unverified" => Assessment::OnlineUnverified,
            "id_verified_summative" => Assessment::IdVerifiedSummative,
            _ => Assessment::None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CourseStatus {
    Draft,
    Published,
    Retired,
}

impl CourseStatus {
    fn as_str(self) -> &'static str {
        match self {
            CourseStatus::Draft => "draft",
            CourseStatus::Published => "published",
            CourseStatus::Retired => "retired",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "published" => CourseStatus::Published,
            "retired" => CourseStatus::Retired,
            _ => CourseStatus::Draft,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skill {
    pub esco_uri: String,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Course {
    pub id: CourseId,
    pub provider: ProviderId,
    pub title: String,
    pub summary: String,
    pub language: String,
    pub study_minutes: i32,
    /// ECTS credits times two (halves are exact).
    pub ects_halves: i32,
    pub eqf_level: i32,
    pub learning_outcomes: Vec<String>,
    pub skills: Vec<Skill>,
    pub assessment: Assessment,
    /// The registry code of the certification it prepares (RNCP, RS); set, the course is
    /// eligible to personal-learning-account vouchers.
    pub pla_registry_code: Option<String>,
    pub status: CourseStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether `skills` was read (see `many`); every other function reads it.
    pub skills_loaded: bool,
}

impl Course {
    fn from_model(m: course::Model, skills: Vec<Skill>) -> Self {
        Self::from_model_with(m, Some(skills))
    }

    pub(crate) fn from_model_with(m: course::Model, skills: Option<Vec<Skill>>) -> Self {
        let skills_loaded = skills.is_some();
        Self {
            id: CourseId::from_uuid(m.id),
            provider: ProviderId::from_uuid(m.provider_id),
            title: m.title,
            summary: m.summary,
            language: m.language,
            study_minutes: m.study_minutes,
            ects_halves: m.ects_halves,
            eqf_level: m.eqf_level,
            learning_outcomes: serde_json::from_str(&m.learning_outcomes).unwrap_or_default(),
            skills: skills.unwrap_or_default(),
            assessment: Assessment::from_db(&m.assessment),
            pla_registry_code: m.pla_registry_code,
            status: CourseStatus::from_db(&m.status),
            published_at: m.published_at,
            retired_at: m.retired_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            skills_loaded,
        }
    }
}

pub struct NewProvider {
    pub name: String,
    pub country: Option<String>,
    pub website: Option<String>,
}

pub async fn create_provider(db: &Db, new: NewProvider) -> Result<Provider> {
    let name = name("name", &new.name, 200)?;
    let country = match new.country.as_deref().map(str::trim) {
        Some(c) if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some("") | None => None,
        Some(_) => {
            return Err(Error::invalid(
                "country",
                "must be an ISO 3166 two-letter code",
            ));
        }
    };
    let website = new
        .website
        .as_deref()
        .filter(|w| !w.trim().is_empty())
        .map(|w| HttpsUrl::parse("website", w))
        .transpose()?;
    let m = provider::ActiveModel {
        id: Set(ProviderId::new().uuid()),
        name: Set(name),
        country: Set(country),
        website: Set(website.map(|w| w.as_str().to_owned())),
        created_at: Set(Utc::now()),
    }
    .insert(&db.conn)
    .await
    .map_err(|e| Error::on_unique(e, "name", "a provider with this name exists"))?;
    Ok(m.into())
}

pub async fn providers(r: &impl Reads, page: PageRequest) -> Result<Page<Provider>> {
    let mut q = provider::Entity::find();
    if let Some(after) = page.after {
        q = q.filter(provider::Column::Id.gt(after));
    }
    let q = q.order_by_asc(provider::Column::Id).limit(page.first + 1);
    let rows = on!(r, q, all)?;
    Ok(Page::from_overfetch(
        rows.into_iter().map(Provider::from).collect(),
        page,
    ))
}

pub async fn provider(r: &impl Reads, id: ProviderId) -> Result<Provider> {
    let q = provider::Entity::find_by_id(id.uuid());
    Ok(on!(r, q, one)?.ok_or(Error::NotFound)?.into())
}

/// A course as an operator types it.
pub struct CourseInput {
    pub provider: ProviderId,
    pub title: String,
    pub summary: String,
    pub language: String,
    pub study_hours: f64,
    pub ects: f64,
    pub eqf_level: i32,
    pub learning_outcomes: Vec<String>,
    pub skills: Vec<(String, String)>,
    pub assessment: Assessment,
}

struct ParsedCourse {
    title: String,
    summary: String,
    language: String,
    study_minutes: i32,
    ects_halves: i32,
    eqf_level: i32,
    outcomes: String,
    skills: Vec<Skill>,
}

fn parse_course(input: &CourseInput) -> Result<ParsedCourse> {
    if input.learning_outcomes.len() > 50 {
        return Err(Error::invalid("learningOutcomes", "at most 50 outcomes"));
    }
    let mut outcomes = Vec::with_capacity(input.learning_outcomes.len());
    for (i, o) in input.learning_outcomes.iter().enumerate() {
        outcomes.push(name("learningOutcomes", o, 500).map_err(|e| match e {
            Error::Invalid { reason, .. } => {
                Error::invalid(format!("learningOutcomes[{i}]"), reason)
            }
            e => e,
        })?);
    }
    if input.skills.len() > 50 {
        return Err(Error::invalid("skills", "at most 50 skills"));
    }
    let skills = input
        .skills
        .iter()
        .enumerate()
        .map(|(i, (u, l))| parse_skill(i, u, l))
        .collect::<Result<Vec<_>>>()?;
    let summary = input.summary.trim().to_owned();
    if summary.chars().count() > 5000 {
        return Err(Error::invalid("summary", "must be at most 5000 characters"));
    }
    Ok(ParsedCourse {
        title: name("title", &input.title, 300)?,
        summary,
        language: parse_language("language", &input.language)?,
        study_minutes: parse_study_hours("studyHours", input.study_hours)?,
        ects_halves: parse_ects("ects", input.ects)?,
        eqf_level: parse_eqf("eqfLevel", input.eqf_level)?,
        outcomes: serde_json::to_string(&outcomes).map_err(|e| Error::Internal(e.to_string()))?,
        skills,
    })
}

async fn replace_skills(
    tx: &sea_orm::DatabaseTransaction,
    course: CourseId,
    skills: &[Skill],
) -> Result<()> {
    skill::Entity::delete_many()
        .filter(skill::Column::CourseId.eq(course.uuid()))
        .exec(tx)
        .await?;
    for (i, s) in skills.iter().enumerate() {
        skill::ActiveModel {
            id: Set(SkillId::new().uuid()),
            course_id: Set(course.uuid()),
            position: Set(i as i32),
            esco_uri: Set(s.esco_uri.clone()),
            label: Set(s.label.clone()),
        }
        .insert(tx)
        .await?;
    }
    Ok(())
}

/// A new course, in draft.
pub async fn create_course(db: &Db, input: CourseInput) -> Result<Course> {
    let p = parse_course(&input)?;
    provider(db, input.provider)
        .await
        .map_err(|e| e.not_found_as("providerId", "no such provider"))?;
    let tx = crate::PlatformTx::begin(db).await?;
    let id = CourseId::new();
    let now = Utc::now();
    course::ActiveModel {
        id: Set(id.uuid()),
        provider_id: Set(input.provider.uuid()),
        title: Set(p.title),
        summary: Set(p.summary),
        language: Set(p.language),
        study_minutes: Set(p.study_minutes),
        ects_halves: Set(p.ects_halves),
        eqf_level: Set(p.eqf_level),
        learning_outcomes: Set(p.outcomes),
        assessment: Set(input.assessment.as_str().to_owned()),
        pla_registry_code: Set(None),
        status: Set(CourseStatus::Draft.as_str().to_owned()),
        published_at: Set(None),
        retired_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx.tx)
    .await?;
    replace_skills(&tx.tx, id, &p.skills).await?;
    let c = get(&tx, id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Replaces a course's facts. A retired course is frozen.
pub async fn update_course(db: &Db, id: CourseId, input: CourseInput) -> Result<Course> {
    let p = parse_course(&input)?;
    provider(db, input.provider)
        .await
        .map_err(|e| e.not_found_as("providerId", "no such provider"))?;
    let tx = crate::PlatformTx::begin(db).await?;
    let m = course::Entity::find_by_id(id.uuid())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    if CourseStatus::from_db(&m.status) == CourseStatus::Retired {
        return Err(Error::conflict("id", "a retired course cannot change"));
    }
    let mut am: course::ActiveModel = m.into();
    am.provider_id = Set(input.provider.uuid());
    am.title = Set(p.title);
    am.summary = Set(p.summary);
    am.language = Set(p.language);
    am.study_minutes = Set(p.study_minutes);
    am.ects_halves = Set(p.ects_halves);
    am.eqf_level = Set(p.eqf_level);
    am.learning_outcomes = Set(p.outcomes);
    am.assessment = Set(input.assessment.as_str().to_owned());
    am.updated_at = Set(Utc::now());
    am.update(&tx.tx).await?;
    replace_skills(&tx.tx, id, &p.skills).await?;
    let c = get(&tx, id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Moves a course along draft -> published -> retired (no way back).
pub async fn set_status(db: &Db, id: CourseId, to: CourseStatus) -> Result<Course> {
    let tx = crate::PlatformTx::begin(db).await?;
    let m = course::Entity::find_by_id(id.uuid())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    let from = CourseStatus::from_db(&m.status);
    let allowed = matches!(
        (from, to),
        (CourseStatus::Draft, CourseStatus::Published)
            | (CourseStatus::Published, CourseStatus::Retired)
    );
    if !allowed {
        return Err(Error::conflict(
            "status",
            format!("a {} course cannot become {}", from.as_str(), to.as_str()),
        ));
    }
    let now = Utc::now();
    let mut am: course::ActiveModel = m.into();
    am.status = Set(to.as_str().to_owned());
    match to {
        CourseStatus::Published => am.published_at = Set(Some(now)),
        CourseStatus::Retired => am.retired_at = Set(Some(now)),
        CourseStatus::Draft => {}
    }
    am.updated_at = Set(now);
    am.update(&tx.tx).await?;
    let c = get(&tx, id).await?;
    tx.commit().await?;
    Ok(c)
}

/// Sets (or, with `None`, clears) the registry code of the certification a course prepares:
/// personal-learning-account vouchers apply only to courses that have one.
pub async fn set_pla_registry_code(db: &Db, id: CourseId, raw: Option<&str>) -> Result<Course> {
    let code = raw.map(parse_pla_registry_code).transpose()?;
    let tx = crate::PlatformTx::begin(db).await?;
    let m = course::Entity::find_by_id(id.uuid())
        .one(&tx.tx)
        .await?
        .ok_or(Error::NotFound)?;
    let mut am: course::ActiveModel = m.into();
    am.pla_registry_code = Set(code);
    am.updated_at = Set(Utc::now());
    am.update(&tx.tx).await?;
    let c = get(&tx, id).await?;
    tx.commit().await?;
    Ok(c)
}

pub(crate) async fn skills_of(
    r: &impl Reads,
    ids: &[uuid::Uuid],
) -> Result<HashMap<uuid::Uuid, Vec<Skill>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let q = skill::Entity::find()
        .filter(skill::Column::CourseId.is_in(ids.iter().copied()))
        .order_by_asc(skill::Column::CourseId)
        .order_by_asc(skill::Column::Position);
    let mut out: HashMap<uuid::Uuid, Vec<Skill>> = HashMap::new();
    for s in on!(r, q, all)? {
        out.entry(s.course_id).or_default().push(Skill {
            esco_uri: s.esco_uri,
            label: s.label,
        });
    }
    Ok(out)
}

/// Any course, whatever its status (operators; editions of a retired course still show it).
pub async fn get(r: &impl Reads, id: CourseId) -> Result<Course> {
    let q = course::Entity::find_by_id(id.uuid());
    let m = on!(r, q, one)?.ok_or(Error::NotFound)?;
    let mut skills = skills_of(r, &[m.id]).await?;
    let s = skills.remove(&m.id).unwrap_or_default();
    Ok(Course::from_model(m, s))
}

/// Courses by id, in one statement (and one for their skills), for a page of editions; unknown
/// ids are simply absent.
pub async fn many(r: &impl Reads, ids: &[CourseId]) -> Result<HashMap<CourseId, Course>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let uuids: Vec<uuid::Uuid> = ids.iter().map(|i| i.uuid()).collect();
    let q = course::Entity::find().filter(course::Column::Id.is_in(uuids.clone()));
    let rows = on!(r, q, all)?;
    let mut skills = skills_of(r, &uuids).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let s = skills.remove(&m.id).unwrap_or_default();
            (CourseId::from_uuid(m.id), Course::from_model(m, s))
        })
        .collect())
}

#[derive(Default, Clone)]
pub struct CourseFilter {
    /// Words that must appear in the title or summary, any case.
    pub text: Option<String>,
    pub language: Option<String>,
    pub eqf_level: Option<i32>,
    pub skill: Option<String>,
    pub provider: Option<ProviderId>,
    /// Operators only; tenants always see published courses.
    pub status: Option<CourseStatus>,
}

/// Published courses (or, for operators, any status), filtered, in creation order.
pub async fn browse(
    r: &impl Reads,
    filter: CourseFilter,
    page: PageRequest,
) -> Result<Page<Course>> {
    let mut q = course::Entity::find();
    if let Some(s) = filter.status {
        q = q.filter(course::Column::Status.eq(s.as_str()));
    }
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if text.chars().count() > 200 {
            return Err(Error::invalid(
                "filter.text",
                "must be at most 200 characters",
            ));
        }
        for word in text.split_whitespace() {
            let pattern = format!(
                "%{}%",
                word.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q = q.filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col(course::Column::Title)))
                            .like(LikeExpr::new(pattern.clone()).escape('\\')),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(course::Column::Summary)))
                            .like(LikeExpr::new(pattern).escape('\\')),
                    ),
            );
        }
    }
    if let Some(lang) = filter.language.as_deref() {
        let lang = parse_language("filter.language", lang)?;
        // "fr" finds fr and fr-FR; "fr-FR" finds only fr-FR.
        q = q.filter(
            Condition::any()
                .add(course::Column::Language.eq(lang.clone()))
                .add(course::Column::Language.starts_with(format!("{lang}-"))),
        );
    }
    if let Some(level) = filter.eqf_level {
        q = q.filter(course::Column::EqfLevel.eq(parse_eqf("filter.eqfLevel", level)?));
    }
    if let Some(p) = filter.provider {
        q = q.filter(course::Column::ProviderId.eq(p.uuid()));
    }
    if let Some(uri) = filter.skill.as_deref() {
        q = q.filter(
            course::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(skill::Column::CourseId)
                    .from(skill::Entity)
                    .and_where(skill::Column::EscoUri.eq(uri.trim()))
                    .to_owned(),
            ),
        );
    }
    if let Some(after) = page.after {
        q = q.filter(course::Column::Id.gt(after));
    }
    let q = q.order_by_asc(course::Column::Id).limit(page.first + 1);
    let rows = on!(r, q, all)?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|m| m.id).collect();
    let mut skills = skills_of(r, &ids).await?;
    let courses = rows
        .into_iter()
        .map(|m| {
            let s = skills.remove(&m.id).unwrap_or_default();
            Course::from_model(m, s)
        })
        .collect();
    Ok(Page::from_overfetch(courses, page))
}
