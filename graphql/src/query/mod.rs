mod catalogue;
mod editions;
mod enrolments;
mod organisations;
mod people;
mod plans;
mod platform;
mod space;
mod subscriptions;

#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    editions::EditionQuery,
    enrolments::EnrolmentQuery,
    catalogue::CatalogueQuery,
    space::SpaceQuery,
    people::PeopleQuery,
    organisations::OrganisationQuery,
    platform::PlatformQuery,
    plans::PlansQuery,
    subscriptions::SubscriptionsQuery,
);
