//! The GraphQL schema of Spaces: per-area query and mutation objects merged into one schema,
//! the request scope (tenant, principal, one transaction), limits, and the one mapping from
//! domain errors to `extensions.code`. Knows nothing of HTTP.

pub mod error;
pub mod limits;
mod mutation;
mod query;
pub mod scope;
mod types;

use async_graphql::{EmptySubscription, Schema};

pub use error::ApiError;
pub use scope::{Deps, RequestScope};

pub type SpacesSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Maximum nesting of a query.
pub const MAX_DEPTH: usize = 12;
/// Complexity budget: each field costs 1, a connection costs `first` times its node.
pub const MAX_COMPLEXITY: usize = 2_000;

pub fn build_schema(introspection: bool) -> SpacesSchema {
    let mut b = Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(10)
    .extension(limits::Limits)
    .extension(scope::RootFields);
    if !introspection {
        b = b.disable_introspection();
    }
    b.finish()
}

/// The SDL written to `schema.graphql`.
pub fn sdl() -> String {
    build_schema(true).sdl()
}
