mod auth;
mod organisations;
mod people;
mod platform;

#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    organisations::OrganisationMutation,
    people::PeopleMutation,
    platform::PlatformMutation,
);
