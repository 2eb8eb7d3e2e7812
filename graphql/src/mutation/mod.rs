mod accounts;
mod auth;
mod billing_accounts;
mod catalogue;
mod certificates;
pub(crate) mod editions;
mod enrolments;
mod funders;
mod invoices;
mod lrs;
mod organisations;
mod payments;
mod people;
mod plans;
mod platform;
pub(crate) mod registration;
pub(crate) mod subscriptions;
mod voucher_attempts;

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
    billing_accounts::BillingAccountMutation,
    invoices::InvoiceMutation,
    payments::PaymentMutation,
    plans::PlansMutation,
    funders::FunderMutation,
    subscriptions::SubscriptionsMutation,
    registration::RegistrationMutation,
    lrs::LrsMutation,
    certificates::CertificateMutation,
);
