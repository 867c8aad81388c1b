//! Tests of the schedule module.

mod catch_up_tests;
mod dst_tests;
mod matching_tests;
mod oracle_tests;
mod parse_tests;
mod perf_tests;
mod policy_tests;
mod properties;
mod reference_tests;
mod rejection_tests;
mod strategies;
mod support;
