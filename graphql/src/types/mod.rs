//! GraphQL output types: their own structs over domain types, never database models, so no
//! internal column (tenant ids, hashes, paths) can reach the schema.

pub mod billing_account;
pub mod catalogue;
pub mod certificate;
pub mod edition;
pub mod enrolment;
pub mod enrolment_payment;
pub mod funder;
pub mod funding;
pub mod funding_share;
pub mod invoice;
pub mod ledger;
pub mod lrs;
pub mod money;
pub mod organisation;
pub mod payment;
pub mod person;
pub mod session;
pub mod space;
pub mod subscription;

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use spaces_tenants::kernel::page::{Page, encode_cursor};

/// A Relay connection from a page of items with ids.
pub fn connection<T: OutputType, F: Fn(&T) -> uuid::Uuid>(
    page: Page<T>,
    id: F,
    has_previous: bool,
) -> Connection<String, T, EmptyFields, EmptyFields> {
    let mut c = Connection::new(has_previous, page.has_next_page);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|n| Edge::new(encode_cursor(id(&n)), n)),
    );
    c
}
