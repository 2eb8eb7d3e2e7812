mod accounts;
mod auth;
mod catalogue;
pub(crate) mod editions;
mod enrolments;
mod organisations;
mod people;
mod plans;
mod platform;
pub(crate) mod subscriptions;

#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    editions::EditionMutation,
    enrolments::EnrolmentMutation,
    catalogue::CatalogueMutation,
    auth::AuthMutation,
    organisations::OrganisationMutation,
    people::PeopleMutation,
    platform::PlatformMutation,
    accounts::AccountsMutation,
    plans::PlansMutation,
    subscriptions::SubscriptionsMutation,
);
