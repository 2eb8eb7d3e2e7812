mod accounts;
mod auth;
mod catalogue;
mod editions;
mod enrolments;
mod organisations;
mod people;
mod platform;

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
);
