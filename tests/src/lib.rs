//! The test harness: the real server on port 0, on SQLite or on throwaway PostgreSQL and Redis
//! servers, with typed helpers to talk to it as a client does.

#![allow(clippy::unwrap_used)]

pub mod app;
pub mod bench;
pub mod fixtures;
pub mod logs;
pub mod pg;
pub mod redis_server;
pub mod stripe;
pub mod xapi;

pub use app::{Backend, TestApp};
