//! The HTTP face of Spaces: configuration, telemetry, tenant resolution, tokens, rate-limit
//! stores, `/graphql`, health, metrics and the outbox worker. `App::build` then `router()`, so
//! tests start exactly the server that ships.

// async-graphql's resolver futures for the whole Mutation nest deeper than the default 128.
#![recursion_limit = "256"]

pub mod app;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod graphiql;
pub mod graphql_http;
pub mod idempotency;
pub mod invoice_files;
pub mod jobs;
pub mod limiter;
pub mod live;
pub mod live_ws;
pub mod mailer;
pub mod metrics;
pub mod pages;
pub mod resolve;
pub mod routes;
pub mod server;
pub mod telemetry;
pub mod upload;
pub mod webhooks;
pub mod xapi;

pub use app::App;
pub use config::Config;
