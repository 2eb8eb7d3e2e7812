//! GraphiQL 4 (UMD build, with React 18), served from files embedded in the binary so it works
//! without a network. The files are the npm packages' own minified builds, with their licences,
//! in `gateway/assets/graphiql/`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The versioned prefix of the assets: a new GraphiQL gets new URLs, so the files can be cached
/// for good.
pub const PREFIX: &str = "/graphiql/4.1.2";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spaces GraphiQL</title>
<link rel="stylesheet" href="/graphiql/4.1.2/graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100dvh; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/4.1.2/react.production.min.js"></script>
<script src="/graphiql/4.1.2/react-dom.production.min.js"></script>
<script src="/graphiql/4.1.2/graphiql.min.js"></script>
<script src="/graphiql/4.1.2/init.js"></script>
</body>
</html>
"#;

/// The files under [`PREFIX`]: name, content type, bytes.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/init.js"),
    ),
];

pub fn page() -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(PAGE),
    )
        .into_response()
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
