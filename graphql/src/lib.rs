//! The GraphQL schema of Spaces: per-area query and mutation objects merged into one schema,
//! the request scope (tenant, principal, one transaction), limits, and the one mapping from
//! domain errors to `extensions.code`. Knows nothing of HTTP.

pub mod error;
pub mod limits;
pub mod live;
mod mutation;
mod query;
pub mod scope;
mod types;

use async_graphql::Schema;

pub use error::ApiError;
pub use scope::{Deps, RequestScope};

pub type SpacesSchema = Schema<query::Query, mutation::Mutation, live::Subscription>;

/// Maximum nesting of a query (checked in [`limits`], outside introspection).
pub const MAX_DEPTH: usize = 12;
/// Maximum nesting inside `__schema` and `__type`: the standard introspection queries of
/// GraphiQL 4, graphql-js 16 and graphql-core 3.3 reach 15 (their `TypeRef` fragment nests
/// `ofType` nine times). What makes introspection costly, nesting the lists of types and fields
/// in each other, has its own rule in [`limits`].
pub const MAX_INTROSPECTION_DEPTH: usize = 15;
/// Complexity budget: each field costs 1, a connection costs `first` times its node.
pub const MAX_COMPLEXITY: usize = 2_000;

pub fn build_schema(introspection: bool) -> SpacesSchema {
    let mut b = Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        live::Subscription,
    )
    // async-graphql checks the larger bound everywhere; `limits` holds the rest to MAX_DEPTH.
    .limit_depth(MAX_INTROSPECTION_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(10)
    .extension(limits::Limits)
    .extension(scope::RootFields);
    if !introspection {
        b = b.disable_introspection();
    }
    b.extension(error::NameTheId).finish()
}

/// The SDL written to `schema.graphql`.
pub fn sdl() -> String {
    build_schema(true).sdl()
}
