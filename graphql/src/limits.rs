//! Limits that async-graphql does not have built in (aliases), and codes for those it has.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, Request, Response, ServerError, ServerResult, Variables};

pub const MAX_ALIASES: usize = 30;
pub const MAX_BATCH: usize = 10;
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest file an upload may carry (CSV imports).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension)
    }
}

struct LimitsExtension;

/// Fields and aliases a selection expands to, fragments spread in place. Each fragment is sized
/// once (memoised) and the sums saturate, so a small document whose fragments spread each other
/// many times is measured in linear time instead of being expanded.
#[derive(Clone, Copy, Default)]
struct Size {
    fields: u64,
    aliases: u64,
}

fn size_of(
    set: &SelectionSet,
    doc: &ExecutableDocument,
    memo: &mut HashMap<String, Size>,
    visiting: &mut Vec<String>,
) -> Size {
    let mut total = Size::default();
    for item in &set.items {
        let part = match &item.node {
            Selection::Field(f) => {
                let inner = size_of(&f.node.selection_set.node, doc, memo, visiting);
                Size {
                    fields: inner.fields.saturating_add(1),
                    aliases: inner
                        .aliases
                        .saturating_add(u64::from(f.node.alias.is_some())),
                }
            }
            Selection::InlineFragment(fr) => {
                size_of(&fr.node.selection_set.node, doc, memo, visiting)
            }
            Selection::FragmentSpread(sp) => {
                let name = sp.node.fragment_name.node.to_string();
                if let Some(s) = memo.get(&name) {
                    *s
                } else if visiting.contains(&name) {
                    // A cycle: validation rejects it later; count nothing here.
                    Size::default()
                } else if let Some(def) = doc.fragments.get(&sp.node.fragment_name.node) {
                    visiting.push(name.clone());
                    let s = size_of(&def.node.selection_set.node, doc, memo, visiting);
                    visiting.pop();
                    memo.insert(name, s);
                    s
                } else {
                    Size::default()
                }
            }
        };
        total.fields = total.fields.saturating_add(part.fields);
        total.aliases = total.aliases.saturating_add(part.aliases);
    }
    total
}

/// Fields a document may expand to before async-graphql's own (expanding) checks run.
pub const MAX_EXPANDED_FIELDS: u64 = 5_000;

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    /// Runs before async-graphql's own document checks, some of which expand fragments: the
    /// document is parsed once here (async-graphql keeps the parse) and measured in linear time.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let doc = request.parsed_query()?;
        let mut memo = HashMap::new();
        let mut total = Size::default();
        for (_, op) in doc.operations.iter() {
            let size = size_of(&op.node.selection_set.node, doc, &mut memo, &mut Vec::new());
            total.fields = total.fields.saturating_add(size.fields);
            total.aliases = total.aliases.saturating_add(size.aliases);
        }
        if total.fields > MAX_EXPANDED_FIELDS {
            let err = async_graphql::Error::new(format!(
                "query is too complex: it expands to {} fields, at most {MAX_EXPANDED_FIELDS}",
                total.fields
            ))
            .extend_with(|_, e| e.set("code", "QUERY_TOO_COMPLEX"));
            return Err(err.into_server_error(async_graphql::Pos::default()));
        }
        if total.aliases > MAX_ALIASES as u64 {
            let err = async_graphql::Error::new(format!(
                "too many aliases: {}, at most {MAX_ALIASES}",
                total.aliases
            ))
            .extend_with(|_, e| e.set("code", "TOO_MANY_ALIASES"));
            return Err(err.into_server_error(async_graphql::Pos::default()));
        }
        next.run(ctx, request).await
    }

    /// Names the operation for metrics and logs (request data is attached by now).
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
