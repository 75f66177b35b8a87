//! Shared helpers for the integration tests.
//!
//! - [`pg`]: a real PostgreSQL server (a throwaway cluster, or `DATABASE_URL`) and an
//!   isolated database per test;
//! - [`sqlite`]: a temporary SQLite database file per test;
//! - [`fault`]: the table of fault classes every store and lease is tested against;
//! - [`workers`]: the worker processes the fault cells start, signal and tally.
pub mod fault;
pub mod hygiene;
pub mod pg;
pub mod sqlite;
pub mod workers;
