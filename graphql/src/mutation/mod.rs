mod auth;
mod catalogue;
mod organisations;
mod people;
mod platform;

#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    catalogue::CatalogueMutation,
    auth::AuthMutation,
    organisations::OrganisationMutation,
    people::PeopleMutation,
    platform::PlatformMutation,
);
