//! The mocks generated from `openapi.yaml` by `build.rs` (`codegen/mocks.rs`).
#![allow(missing_docs, clippy::all, clippy::pedantic)]
include!(concat!(env!("OUT_DIR"), "/mock.rs"));
