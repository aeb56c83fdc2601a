//! The client generated from `openapi.yaml` by `build.rs`.
#![allow(missing_docs, unused_imports, clippy::all, clippy::pedantic)]
include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
