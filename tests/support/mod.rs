//! Shared test helpers. Each test binary uses a different subset.
#![allow(dead_code)]

pub mod coverage;
pub mod planted;
pub mod scripted;
pub mod spec;
pub mod switch;
pub mod traces;
