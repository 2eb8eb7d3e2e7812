//! One integration test binary: a module per journey or area.

#![allow(clippy::unwrap_used)]

mod campus;
mod first_run;
mod limits;
mod rls;
mod schema;
mod walls;
