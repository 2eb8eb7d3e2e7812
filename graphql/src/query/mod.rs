pub(crate) mod billing_accounts;
mod catalogue;
mod certificates;
mod editions;
mod enrolments;
mod funders;
mod invoices;
mod ledger;
mod lrs;
mod organisations;
mod payments;
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
    ledger::LedgerQuery,
    billing_accounts::BillingAccountQuery,
    invoices::InvoiceQuery,
    payments::PaymentQuery,
    plans::PlansQuery,
    funders::FunderQuery,
    subscriptions::SubscriptionsQuery,
    lrs::LrsQuery,
    certificates::CertificateQuery,
);
