//! Limits that async-graphql does not have built in (aliases), and codes for those it has.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, Response, ServerError, ServerResult, Variables};

pub const MAX_ALIASES: usize = 30;
pub const MAX_BATCH: usize = 10;
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension)
    }
}

struct LimitsExtension;

fn count_aliases(
    set: &SelectionSet,
    doc: &ExecutableDocument,
    seen_fragments: &mut Vec<String>,
) -> usize {
    let mut n = 0;
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                if f.node.alias.is_some() {
                    n += 1;
                }
                n += count_aliases(&f.node.selection_set.node, doc, seen_fragments);
            }
            Selection::InlineFragment(fr) => {
                n += count_aliases(&fr.node.selection_set.node, doc, seen_fragments)
            }
            Selection::FragmentSpread(sp) => {
                let name = sp.node.fragment_name.node.to_string();
                // A fragment spread many times counts each time it is spread.
                if let Some(def) = doc.fragments.get(&sp.node.fragment_name.node)
                    && seen_fragments.len() < 64
                {
                    seen_fragments.push(name);
                    n += count_aliases(&def.node.selection_set.node, doc, seen_fragments);
                    seen_fragments.pop();
                }
            }
        }
    }
    n
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let Some(scope) = ctx.data_opt::<Arc<crate::RequestScope>>()
            && let Some((Some(name), _)) = doc.operations.iter().next()
            && let Ok(mut slot) = scope.operation.lock()
        {
            *slot = Some(name.to_string());
        }
        let mut total = 0;
        for (_, op) in doc.operations.iter() {
            total += count_aliases(&op.node.selection_set.node, &doc, &mut Vec::new());
        }
        if total > MAX_ALIASES {
            let err = async_graphql::Error::new(format!(
                "too many aliases: {total}, at most {MAX_ALIASES}"
            ))
            .extend_with(|_, e| e.set("code", "TOO_MANY_ALIASES"));
            return Err(err.into_server_error(async_graphql::Pos::default()));
        }
        Ok(doc)
    }
}

/// Gives every error without a code one, from what async-graphql says: depth and complexity
/// limits, parse and validation failures. Anything else unexpected is `INTERNAL`.
pub fn classify(resp: &mut Response) {
    for e in resp.errors.iter_mut() {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if has_code {
            continue;
        }
        let m = e.message.as_str();
        let code = if m.contains("nested too deep") {
            "QUERY_TOO_DEEP"
        } else if m.contains("too complex") {
            "QUERY_TOO_COMPLEX"
        } else if m.contains("recursion") || m.contains("too many directives") {
            "GRAPHQL_VALIDATION_FAILED"
        } else if e.locations.is_empty() && m.starts_with(" --> ")
            || m.contains("expected") && m.contains("-->")
        {
            "GRAPHQL_PARSE_FAILED"
        } else if !e.locations.is_empty()
            || m.contains("Unknown")
            || m.contains("Invalid value")
            || m.contains("not defined")
        {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "BAD_REQUEST"
        };
        set_code(e, code);
    }
}

pub fn set_code(e: &mut ServerError, code: &str) {
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

/// An error response built outside execution (body too large, batch too large, no tenant).
pub fn error_response(code: &str, message: &str) -> Response {
    let mut e = ServerError::new(message, None);
    set_code(&mut e, code);
    Response::from_errors(vec![e])
}
