use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::catalogue::{self, CourseInput, CourseStatus, NewProvider};
use spaces_tenants::{CourseId, ProviderId};

use crate::error::{ApiResult, parse_id};
use crate::types::catalogue::{AssessmentGql, CourseGql, ProviderGql};

#[derive(Default)]
pub struct CatalogueMutation;

#[derive(InputObject)]
pub struct ProviderInput {
    pub name: String,
    /// ISO 3166 two-letter code.
    pub country: Option<String>,
    /// An https:// URL.
    pub website: Option<String>,
}

#[derive(InputObject)]
pub struct SkillInput {
    /// An ESCO URI, such as http://data.europa.eu/esco/skill/...
    pub esco_uri: String,
    pub label: String,
}

#[derive(InputObject)]
pub struct CourseFactsInput {
    pub provider_id: ID,
    pub title: String,
    #[graphql(default)]
    pub summary: String,
    /// BCP 47, such as fr or fr-FR.
    pub language: String,
    /// Whole minutes, e.g. 2.5.
    pub study_hours: f64,
    /// In steps of 0.5.
    pub ects: f64,
    /// 1 to 8.
    pub eqf_level: i32,
    #[graphql(default)]
    pub learning_outcomes: Vec<String>,
    #[graphql(default)]
    pub skills: Vec<SkillInput>,
    pub assessment: AssessmentGql,
}

fn course_input(i: CourseFactsInput) -> ApiResult<CourseInput> {
    Ok(CourseInput {
        provider: parse_id::<ProviderId>("providerId", &i.provider_id)?,
        title: i.title,
        summary: i.summary,
        language: i.language,
        study_hours: i.study_hours,
        ects: i.ects,
        eqf_level: i.eqf_level,
        learning_outcomes: i.learning_outcomes,
        skills: i
            .skills
            .into_iter()
            .map(|s| (s.esco_uri, s.label))
            .collect(),
        assessment: i.assessment.into(),
    })
}

#[Object]
impl CatalogueMutation {
    /// Platform operators: adds a course provider (a university).
    async fn create_provider(
        &self,
        ctx: &Context<'_>,
        input: ProviderInput,
    ) -> ApiResult<ProviderGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let p = catalogue::create_provider(
            scope.platform_db().await?,
            NewProvider {
                name: input.name,
                country: input.country,
                website: input.website,
            },
        )
        .await?;
        Ok(ProviderGql(p))
    }

    /// Platform operators: a new course, in draft.
    async fn create_course(
        &self,
        ctx: &Context<'_>,
        input: CourseFactsInput,
    ) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        Ok(CourseGql(
            catalogue::create_course(scope.platform_db().await?, course_input(input)?).await?,
        ))
    }

    /// Platform operators: replaces a course's facts (not once retired).
    async fn update_course(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CourseFactsInput,
    ) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: CourseId = parse_id("id", &id)?;
        Ok(CourseGql(
            catalogue::update_course(scope.platform_db().await?, id, course_input(input)?).await?,
        ))
    }

    /// Platform operators: makes a draft course visible to every space.
    async fn publish_course(&self, ctx: &Context<'_>, id: ID) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: CourseId = parse_id("id", &id)?;
        Ok(CourseGql(
            catalogue::set_status(scope.platform_db().await?, id, CourseStatus::Published).await?,
        ))
    }

    /// Platform operators: withdraws a published course from the catalogue; existing editions
    /// keep it.
    async fn retire_course(&self, ctx: &Context<'_>, id: ID) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: CourseId = parse_id("id", &id)?;
        Ok(CourseGql(
            catalogue::set_status(scope.platform_db().await?, id, CourseStatus::Retired).await?,
        ))
    }

    /// Platform operators: the registry code (RNCP or RS number) of the certification a course
    /// prepares, which makes it eligible for personal-learning-account vouchers; null clears it.
    async fn set_course_pla_registry_code(
        &self,
        ctx: &Context<'_>,
        course_id: ID,
        registry_code: Option<String>,
    ) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let id: CourseId = parse_id("courseId", &course_id)?;
        Ok(CourseGql(
            catalogue::set_pla_registry_code(
                scope.platform_db().await?,
                id,
                registry_code.as_deref(),
            )
            .await?,
        ))
    }
}
