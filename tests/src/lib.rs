//! Shared support for the end-to-end tests.
//!
//! - [`pg`]: throwaway PostgreSQL servers (one shared per test binary, or one's own).

pub mod pg;
