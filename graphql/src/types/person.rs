use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use spaces_tenants::enrolments;
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::kernel::principal::Grant;
use spaces_tenants::people::{self, Person, PersonStatus};
use spaces_tenants::{Role, organisations};

use super::enrolment::{EnrolmentGql, EnrolmentStatusGql, Wants, enrolment_connection};
use super::organisation::OrganisationGql;
use crate::error::ApiResult;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Role")]
pub enum RoleGql {
    /// Runs the whole space.
    TenantAdmin,
    /// HR of an organisation and everything below it.
    OrgAdmin,
    /// Follows the people of an organisation and everything below it.
    Manager,
    Learner,
    /// Staff of the funder whose organisation this is: its voucher batches, nothing else.
    Funder,
}

impl From<Role> for RoleGql {
    fn from(r: Role) -> Self {
        match r {
            Role::TenantAdmin => Self::TenantAdmin,
            Role::OrgAdmin => Self::OrgAdmin,
            Role::Manager => Self::Manager,
            Role::Learner => Self::Learner,
            Role::Funder => Self::Funder,
        }
    }
}

impl From<RoleGql> for Role {
    fn from(r: RoleGql) -> Self {
        match r {
            RoleGql::TenantAdmin => Self::TenantAdmin,
            RoleGql::OrgAdmin => Self::OrgAdmin,
            RoleGql::Manager => Self::Manager,
            RoleGql::Learner => Self::Learner,
            RoleGql::Funder => Self::Funder,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "PersonStatus")]
pub enum PersonStatusGql {
    /// Invited; has not chosen a password yet.
    Invited,
    Active,
    Disabled,
}

impl From<PersonStatus> for PersonStatusGql {
    fn from(s: PersonStatus) -> Self {
        match s {
            PersonStatus::Invited => Self::Invited,
            PersonStatus::Active => Self::Active,
            PersonStatus::Disabled => Self::Disabled,
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "RoleGrant")]
pub struct RoleGrantGql {
    pub id: ID,
    pub role: RoleGql,
    pub organisation_id: ID,
}

impl From<&Grant> for RoleGrantGql {
    fn from(g: &Grant) -> Self {
        Self {
            id: ID(g.id.to_string()),
            role: g.role.into(),
            organisation_id: ID(g.organisation.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct PersonGql(pub Person);

/// An xAPI account: the LMS's home page and the person's name (id) there.
#[derive(async_graphql::SimpleObject, async_graphql::InputObject, Clone)]
#[graphql(name = "ExternalRef", input_name = "ExternalRefInput")]
pub struct ExternalRefGql {
    pub home_page: String,
    pub name: String,
}

#[Object(name = "Person")]
impl PersonGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn given_name(&self) -> &str {
        &self.0.given_name
    }
    async fn family_name(&self) -> &str {
        &self.0.family_name
    }
    async fn status(&self) -> PersonStatusGql {
        self.0.status.into()
    }
    /// The xAPI account an LMS names this person by (with the email): statements whose actor is
    /// this account count for them.
    async fn external_ref(&self) -> Option<ExternalRefGql> {
        self.0.external_ref.as_ref().map(|x| ExternalRefGql {
            home_page: x.home_page.clone(),
            name: x.name.clone(),
        })
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    /// The organisation the person belongs to.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<OrganisationGql>> {
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        match organisations::get(&tx, &scope.principal, self.0.organisation).await {
            Ok(org) => Ok(Some(OrganisationGql {
                org,
                head_count: None,
            })),
            Err(spaces_tenants::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// Enrolments with their editions and progress: the learner's dashboard on `viewer`, HR's
    /// view of a person elsewhere.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn enrolments(
        &self,
        ctx: &Context<'_>,
        status: Option<EnrolmentStatusGql>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, EnrolmentGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let wants = Wants::of_connection(ctx);
        let p = enrolments::of_person(
            &tx,
            who,
            self.0.id,
            status.map(Into::into),
            page,
            wants.progress,
        )
        .await?;
        enrolment_connection(&tx, p, wants, page).await
    }

    /// Signed certificates (Open Badges 3.0), newest first: the learner's own on `viewer`,
    /// HR's view of a person elsewhere.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn certificates(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<
        Connection<String, crate::types::certificate::CertificateGql, EmptyFields, EmptyFields>,
    > {
        use spaces_tenants::credentials::records;
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = if who.person().map(|(_, p)| p) == Some(self.0.id) {
            records::mine(&tx, who, page).await?
        } else {
            records::list(&tx, who, Some(self.0.id), page).await?
        };
        crate::types::certificate::certificate_connection(ctx, &tx, p, page.after.is_some()).await
    }

    /// Roles held, each on an organisation.
    async fn roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<RoleGrantGql>> {
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        Ok(people::grants_of(&tx, self.0.id)
            .await?
            .iter()
            .map(RoleGrantGql::from)
            .collect())
    }
}
