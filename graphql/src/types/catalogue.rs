use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use spaces_tenants::catalogue::{self, Assessment, Course, CourseStatus, Provider};

use crate::error::ApiResult;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Assessment")]
pub enum AssessmentGql {
    None,
    OnlineUnverified,
    /// ID-verified summative assessment, as a CMF microcredential requires.
    IdVerifiedSummative,
}

impl From<Assessment> for AssessmentGql {
    fn from(a: Assessment) -> Self {
        match a {
            Assessment::None => Self::None,
            Assessment::OnlineUnverified => Self::OnlineUnverified,
            Assessment::IdVerifiedSummative => Self::IdVerifiedSummative,
        }
    }
}

impl From<AssessmentGql> for Assessment {
    fn from(a: AssessmentGql) -> Self {
        match a {
            AssessmentGql::None => Self::None,
            AssessmentGql::OnlineUnverified => Self::OnlineUnverified,
            AssessmentGql::IdVerifiedSummative => Self::IdVerifiedSummative,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "CourseStatus")]
pub enum CourseStatusGql {
    Draft,
    Published,
    Retired,
}

impl From<CourseStatus> for CourseStatusGql {
    fn from(s: CourseStatus) -> Self {
        match s {
            CourseStatus::Draft => Self::Draft,
            CourseStatus::Published => Self::Published,
            CourseStatus::Retired => Self::Retired,
        }
    }
}

impl From<CourseStatusGql> for CourseStatus {
    fn from(s: CourseStatusGql) -> Self {
        match s {
            CourseStatusGql::Draft => Self::Draft,
            CourseStatusGql::Published => Self::Published,
            CourseStatusGql::Retired => Self::Retired,
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Skill")]
pub struct SkillGql {
    /// ESCO concept URI.
    pub esco_uri: String,
    pub label: String,
}

#[derive(Clone)]
pub struct ProviderGql(pub Provider);

#[Object(name = "Provider")]
impl ProviderGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ISO 3166 two-letter code.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
}

/// A catalogue course with the facts of the Common Microcredential Framework.
#[derive(Clone)]
pub struct CourseGql(pub Course);

#[Object(name = "Course")]
impl CourseGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn provider_id(&self) -> ID {
        ID(self.0.provider.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// BCP 47 language tag.
    async fn language(&self) -> &str {
        &self.0.language
    }
    async fn study_hours(&self) -> f64 {
        f64::from(self.0.study_minutes) / 60.0
    }
    async fn study_minutes(&self) -> i32 {
        self.0.study_minutes
    }
    /// ECTS credits; halves are exact.
    async fn ects(&self) -> f64 {
        f64::from(self.0.ects_halves) / 2.0
    }
    /// European Qualifications Framework level, 1 to 8.
    async fn eqf_level(&self) -> i32 {
        self.0.eqf_level
    }
    async fn learning_outcomes(&self) -> &[String] {
        &self.0.learning_outcomes
    }
    async fn skills(&self, ctx: &Context<'_>) -> ApiResult<Vec<SkillGql>> {
        // A page that did not foresee this selection read the course without its skills.
        let read;
        let course = if self.0.skills_loaded {
            &self.0
        } else {
            let scope = crate::scope::of(ctx);
            read = if scope.tenant.is_some() {
                catalogue::get(&*scope.tx().await?, self.0.id).await?
            } else {
                catalogue::get(scope.platform_db().await?, self.0.id).await?
            };
            &read
        };
        Ok(course
            .skills
            .iter()
            .map(|s| SkillGql {
                esco_uri: s.esco_uri.clone(),
                label: s.label.clone(),
            })
            .collect())
    }
    async fn assessment(&self) -> AssessmentGql {
        self.0.assessment.into()
    }
    async fn status(&self) -> CourseStatusGql {
        self.0.status.into()
    }
    async fn published_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.published_at
    }
    /// The registry code (RNCP or RS number) of the certification it prepares: set, the
    /// course is eligible for personal-learning-account vouchers.
    async fn pla_registry_code(&self) -> Option<&str> {
        self.0.pla_registry_code.as_deref()
    }
    async fn retired_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.retired_at
    }
}
