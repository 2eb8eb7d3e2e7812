mod catalogue;
mod organisations;
mod people;
mod platform;
mod space;

#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    catalogue::CatalogueQuery,
    space::SpaceQuery,
    people::PeopleQuery,
    organisations::OrganisationQuery,
    platform::PlatformQuery,
);
