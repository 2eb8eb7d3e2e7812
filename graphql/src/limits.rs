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

/// Fields that answer introspection; below them the introspection allowance applies.
fn is_introspection_root(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

/// Introspection fields that answer lists of types or fields: nesting them multiplies the
/// answer (every type's fields' types' fields...), so they may nest only
/// [`MAX_INTROSPECTION_LISTS`] deep, the rule of graphql-js's `MaxIntrospectionDepthRule`.
fn is_introspection_list(name: &str) -> bool {
    matches!(
        name,
        "fields" | "interfaces" | "possibleTypes" | "inputFields"
    )
}

/// How deep the lists above may nest inside `__schema` or `__type`; the standard introspection
/// queries of every tool nest them once.
pub const MAX_INTROSPECTION_LISTS: usize = 2;

/// Depth of a selection, fields counted as async-graphql counts them (leaves included), with
/// introspection subtrees counted as one level: they have their own allowance
/// ([`crate::MAX_INTROSPECTION_DEPTH`], enforced by async-graphql, and the list rule above).
/// Fragments are measured once each.
fn depth_outside_introspection(
    set: &SelectionSet,
    doc: &ExecutableDocument,
    memo: &mut HashMap<String, usize>,
    visiting: &mut Vec<String>,
) -> usize {
    let mut deepest = 0;
    for item in &set.items {
        let d = match &item.node {
            Selection::Field(f) => {
                if is_introspection_root(f.node.name.node.as_str()) {
                    1
                } else {
                    1 + depth_outside_introspection(&f.node.selection_set.node, doc, memo, visiting)
                }
            }
            Selection::InlineFragment(fr) => {
                depth_outside_introspection(&fr.node.selection_set.node, doc, memo, visiting)
            }
            Selection::FragmentSpread(sp) => {
                let name = sp.node.fragment_name.node.to_string();
                if let Some(d) = memo.get(&name) {
                    *d
                } else if visiting.contains(&name) {
                    0
                } else if let Some(def) = doc.fragments.get(&sp.node.fragment_name.node) {
                    visiting.push(name.clone());
                    let d = depth_outside_introspection(
                        &def.node.selection_set.node,
                        doc,
                        memo,
                        visiting,
                    );
                    visiting.pop();
                    memo.insert(name, d);
                    d
                } else {
                    0
                }
            }
        };
        deepest = deepest.max(d);
    }
    deepest
}

/// The deepest nesting of introspection list fields under any `__schema` or `__type` of the
/// selection (fragments measured once each).
fn introspection_lists(
    set: &SelectionSet,
    doc: &ExecutableDocument,
    inside: bool,
    memo: &mut HashMap<(String, bool), usize>,
    visiting: &mut Vec<String>,
) -> usize {
    let mut deepest = 0;
    for item in &set.items {
        let d = match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                let inside_here = inside || is_introspection_root(name);
                let own = usize::from(inside && is_introspection_list(name));
                own + introspection_lists(
                    &f.node.selection_set.node,
                    doc,
                    inside_here,
                    memo,
                    visiting,
                )
            }
            Selection::InlineFragment(fr) => {
                introspection_lists(&fr.node.selection_set.node, doc, inside, memo, visiting)
            }
            Selection::FragmentSpread(sp) => {
                let key = (sp.node.fragment_name.node.to_string(), inside);
                if let Some(d) = memo.get(&key) {
                    *d
                } else if visiting.contains(&key.0) {
                    0
                } else if let Some(def) = doc.fragments.get(&sp.node.fragment_name.node) {
                    visiting.push(key.0.clone());
                    let d = introspection_lists(
                        &def.node.selection_set.node,
                        doc,
                        inside,
                        memo,
                        visiting,
                    );
                    visiting.pop();
                    memo.insert(key, d);
                    d
                } else {
                    0
                }
            }
        };
        deepest = deepest.max(d);
    }
    deepest
}

fn too_deep(message: String) -> ServerError {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", "QUERY_TOO_DEEP"))
        .into_server_error(async_graphql::Pos::default())
}

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
        let mut depth_memo = HashMap::new();
        let mut lists_memo = HashMap::new();
        let mut total = Size::default();
        let (mut depth, mut lists) = (0, 0);
        for (_, op) in doc.operations.iter() {
            let set = &op.node.selection_set.node;
            let size = size_of(set, doc, &mut memo, &mut Vec::new());
            total.fields = total.fields.saturating_add(size.fields);
            total.aliases = total.aliases.saturating_add(size.aliases);
            depth = depth.max(depth_outside_introspection(
                set,
                doc,
                &mut depth_memo,
                &mut Vec::new(),
            ));
            lists = lists.max(introspection_lists(
                set,
                doc,
                false,
                &mut lists_memo,
                &mut Vec::new(),
            ));
        }
        if depth > crate::MAX_DEPTH {
            return Err(too_deep(format!(
                "query is nested too deep: {depth} levels, at most {}",
                crate::MAX_DEPTH
            )));
        }
        if lists > MAX_INTROSPECTION_LISTS {
            return Err(too_deep(format!(
                "introspection nests fields, interfaces, possibleTypes or inputFields {lists} deep, at most {MAX_INTROSPECTION_LISTS}"
            )));
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
