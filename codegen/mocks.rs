//! `OUT_DIR/mock.rs` (feature `mock`): progenitor's typed extension of
//! `httpmock::MockServer`, generated with the client's own settings so its
//! matchers and answers take the client's types (secrets included), and
//! completed in one pass over its syntax tree with what progenitor does not
//! write but every operation of this API needs:
//! - every `When` matches the bearer token sent, or its absence;
//! - a path parameter is matched as the client sends it (percent-encoded),
//!   not as a regular expression;
//! - every `Then` answers a bare status (a proxy's 503, say) and can be
//!   limited to its first hits, so a test can script `503, 503, 200`;
//! - a streaming operation's `success` answers `text/event-stream` events,
//!   framed as an instance frames them, instead of a JSON value;
//! - the trait methods and wrapper types are documented from the spec and
//!   have a `Debug` that shows nothing of what they match.
//!
//! Nothing here names an operation: a new operation in the spec gets its
//! mock from the spec alone.

use std::collections::BTreeMap;

use heck::ToUpperCamelCase;
use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator};
use quote::format_ident;
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, TraitItem, Type};

use crate::document::Document;
use crate::inventory::identifier;

/// The module progenitor's `use <crate_path>::*` brings the types from.
const CRATE_PATH: &str = "crate::generated";
/// The media type of the log stream, and of any other streaming operation.
const EVENT_STREAM: &str = "text/event-stream";

/// What the pass needs to know of one operation, keyed by the name
/// progenitor gives it (the operationId in snake case).
struct MockFacts {
    id: String,
    method: String,
    path: String,
    summary: String,
    public: bool,
    streams: bool,
    /// `(matcher method, regex format string)` per path parameter.
    path_parameters: Vec<(String, String)>,
    /// The matcher method of every parameter.
    parameters: Vec<String>,
}

pub(crate) fn mock_code(
    spec: &OpenAPI,
    document: &Document,
    settings: &GenerationSettings,
) -> Result<String, String> {
    let mut generator = Generator::new(settings);
    // As for the client: progenitor panics on shapes it cannot express.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generator.httpmock(spec, CRATE_PATH)
    }));
    std::panic::set_hook(previous_hook);
    let tokens = match generated {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor cannot generate the mocks: {e}")),
        Err(_) => return Err("progenitor failed generating the mocks".to_string()),
    };
    let mut file = syn::parse2::<syn::File>(tokens)
        .map_err(|e| format!("progenitor produced mocks that do not parse: {e}"))?;
    complete(&mut file, &mock_facts(document))?;
    Ok(prettyplease::unparse(&file))
}

fn mock_facts(document: &Document) -> BTreeMap<String, MockFacts> {
    let global_security = &document.root["security"];
    document
        .operations()
        .iter()
        .map(|op| {
            let security = op.value.get("security").unwrap_or(global_security);
            let public = security.as_array().is_none_or(|s| s.is_empty());
            let success = document.resolve(&op.value["responses"]["2XX"]);
            let streams = success.is_some_and(|r| r["content"].get(EVENT_STREAM).is_some());
            let declared: Vec<&serde_json::Value> =
                op.parameters(document).into_iter().flatten().collect();
            let path_parameters = declared
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .map(|name| (identifier(name), path_format(op.path, name)))
                .collect();
            let parameters = declared
                .iter()
                .filter_map(|p| p["name"].as_str())
                .map(identifier)
                .collect();
            let facts = MockFacts {
                id: op.id.clone(),
                method: op.method.to_uppercase(),
                path: op.path.to_string(),
                summary: op.value["summary"].as_str().unwrap_or_default().to_string(),
                public,
                streams,
                path_parameters,
                parameters,
            };
            (identifier(&op.id), facts)
        })
        .collect()
}

/// A `format!` string for the regex matching `path` with `parameter` as
/// `{}` (filled in escaped) and any other parameter as one segment.
fn path_format(path: &str, parameter: &str) -> String {
    let mut out = String::from("^");
    for (i, piece) in path.split(['{', '}']).enumerate() {
        match (i % 2, piece) {
            (1, p) if p == parameter => out.push_str("{}"),
            (1, _) => out.push_str("[^/]*"),
            _ => {
                for c in piece.chars() {
                    match c {
                        '{' | '}' => out.extend([c, c]),
                        c if "\\.+*?()|[]^$".contains(c) => out.extend(['\\', c]),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('$');
    out
}

fn complete(file: &mut syn::File, facts: &BTreeMap<String, MockFacts>) -> Result<(), String> {
    let mut completed = 0;
    for item in &mut file.items {
        match item {
            Item::Mod(module) if module.ident == "operations" => {
                let (_, items) = module
                    .content
                    .as_mut()
                    .ok_or("progenitor's `operations` module is empty")?;
                completed = complete_operations(items, facts)?;
            }
            Item::Trait(t) if t.ident == "MockServerExt" => document_trait(t, facts)?,
            _ => {}
        }
    }
    if completed != facts.len() {
        return Err(format!(
            "completed the mocks of {completed} operations, but the spec has {}; progenitor \
             names its mock types differently from `<OperationId>When`/`<OperationId>Then`",
            facts.len()
        ));
    }
    Ok(())
}

/// Adds to each operation's `When` and `Then`; returns how many operations
/// had both.
fn complete_operations(
    items: &mut Vec<Item>,
    facts: &BTreeMap<String, MockFacts>,
) -> Result<usize, String> {
    let mut debug_impls: Vec<Item> = Vec::new();
    let mut completed = 0;
    for (name, op) in facts {
        let when = format_ident!("{}", format!("{name}-when").to_upper_camel_case());
        let then = format_ident!("{}", format!("{name}-then").to_upper_camel_case());
        let what = format!("`{} {}` ({})", op.method, op.path, op.id);
        for item in items.iter_mut() {
            match item {
                Item::Struct(s) if s.ident == when => s.attrs.push(parse_quote! {
                    #[doc = concat!("What a request to ", #what, " must be to match.")]
                }),
                Item::Struct(s) if s.ident == then => s.attrs.push(parse_quote! {
                    #[doc = concat!("How the mock answers ", #what, ".")]
                }),
                Item::Impl(block) if is_impl_of(block, &when) => {
                    complete_when(&mut block.items, op)?;
                    completed += 1;
                }
                Item::Impl(block) if is_impl_of(block, &then) => complete_then(block, op)?,
                _ => {}
            }
        }
        for ty in [&when, &then] {
            debug_impls.push(parse_quote! {
                // What a mock matches may be a credential: show none of it.
                impl ::std::fmt::Debug for #ty {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.debug_struct(stringify!(#ty)).finish_non_exhaustive()
                    }
                }
            });
        }
    }
    items.extend(debug_impls);
    Ok(completed)
}

fn is_impl_of(block: &syn::ItemImpl, ident: &syn::Ident) -> bool {
    block.trait_.is_none()
        && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident(ident))
}

fn complete_when(items: &mut Vec<ImplItem>, op: &MockFacts) -> Result<(), String> {
    for (method, format) in &op.path_parameters {
        let matcher = items
            .iter_mut()
            .find_map(|item| match item {
                ImplItem::Fn(f) if f.sig.ident == method.as_str() => Some(f),
                _ => None,
            })
            .ok_or_else(|| format!("{}: no mock matcher for path parameter {method}", op.id))?;
        // The client percent-encodes a path parameter; match those bytes,
        // and never read the value as a regular expression.
        matcher.block = parse_quote! {{
            let sent = progenitor_client::encode_path(&value.to_string());
            let re = regex::Regex::new(&format!(#format, regex::escape(&sent)))
                .expect("a path pattern built from the spec is a valid regex");
            Self(self.0.path_matches(re))
        }};
    }
    // After the path matchers are rewritten: this converts their value first.
    for item in items.iter_mut() {
        match item {
            ImplItem::Fn(f) if op.parameters.iter().any(|p| f.sig.ident == p.as_str()) => {
                take_values(f)
            }
            _ => {}
        }
    }
    let absent = match op.public {
        true => "as this public operation is sent",
        false => "as when the client has no token",
    };
    let no_token_doc = format!(" Matches a request without an `Authorization` header, {absent}.");
    add_methods(
        items,
        &op.id,
        [
            parse_quote! {
                /// Matches a request carrying `token` as its bearer token
                /// (`Authorization: Bearer <token>`).
                pub fn bearer_token(self, token: &str) -> Self {
                    Self(self.0.header("authorization", format!("Bearer {token}")))
                }
            },
            parse_quote! {
                #[doc = #no_token_doc]
                pub fn no_token(self) -> Self {
                    Self(self.0.header_missing("authorization"))
                }
            },
        ],
    )
}

/// Lets a parameter matcher take what the client's builder takes: an
/// integer by value (`when.limit(Some(20))`, where progenitor asks for
/// `&i64`), and anything that converts to a constrained string type
/// (`when.service_id("svc_1")`).
fn take_values(matcher: &mut syn::ImplItemFn) {
    let i64_ref = |ty: &Type| matches!(ty, Type::Reference(r) if is_i64(&r.elem));
    let mut owned_integer = false;
    if let Some(syn::FnArg::Typed(arg)) = matcher.sig.inputs.iter_mut().nth(1) {
        if let Type::Reference(reference) = &*arg.ty {
            let target = (*reference.elem).clone();
            if is_i64(&target) {
                *arg.ty = target;
            } else if matches!(&target, Type::Path(p) if p.path.segments.len() > 1) {
                // A value that cannot reach the wire can match nothing the
                // client sends; the test is wrong, so say so at once. The
                // value itself is not shown: it may be a credential.
                *arg.ty = parse_quote!(impl TryInto<#target, Error: ::std::fmt::Debug>);
                let name = matcher.sig.ident.to_string();
                let message = format!("`{name}`: the value does not fit its type in the spec");
                matcher.block.stmts.insert(
                    0,
                    parse_quote! { let value: &#target = &value.try_into().expect(#message); },
                );
            }
        }
    }
    // The optional form: `T: Into<Option<&'a i64>>`.
    for predicate in matcher
        .sig
        .generics
        .make_where_clause()
        .predicates
        .iter_mut()
    {
        let syn::WherePredicate::Type(predicate) = predicate else {
            continue;
        };
        for bound in predicate.bounds.iter_mut() {
            let syn::TypeParamBound::Trait(bound) = bound else {
                continue;
            };
            let Some(last) = bound.path.segments.last_mut() else {
                continue;
            };
            let PathArguments::AngleBracketed(into) = &mut last.arguments else {
                continue;
            };
            let Some(GenericArgument::Type(option)) = into.args.first_mut() else {
                continue;
            };
            let Type::Path(option) = option else { continue };
            let Some(last) = option.path.segments.last_mut() else {
                continue;
            };
            let PathArguments::AngleBracketed(args) = &mut last.arguments else {
                continue;
            };
            if let Some(GenericArgument::Type(inner)) = args.args.first_mut() {
                if i64_ref(inner) {
                    *inner = parse_quote!(i64);
                    owned_integer = true;
                }
            }
        }
    }
    if owned_integer {
        let generics = &mut matcher.sig.generics;
        generics.params = std::mem::take(&mut generics.params)
            .into_iter()
            .filter(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
            .collect();
    }
}

fn is_i64(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("i64"))
}

fn complete_then(block: &mut syn::ItemImpl, op: &MockFacts) -> Result<(), String> {
    let items = &mut block.items;
    if op.streams {
        // progenitor sees a string body and would answer JSON.
        items.retain(|item| !matches!(item, ImplItem::Fn(f) if f.sig.ident == "success"));
        items.push(parse_quote! {
            /// Answers `status` (a 2xx) with `events` as `text/event-stream`,
            /// framed as an instance frames them.
            pub fn success(
                self,
                status: u16,
                events: impl IntoIterator<Item = crate::mock::ServerEvent>,
            ) -> Self {
                assert_eq!(status / 100, 2, "a success answer has a 2xx status");
                Self(
                    self.0
                        .status(status)
                        .header("content-type", "text/event-stream")
                        .body(crate::mock::ServerEvent::frame(events)),
                )
            }
        });
    }
    add_methods(
        items,
        &op.id,
        [
            parse_quote! {
                /// Answers `status` with no body: a status the spec does not
                /// declare, such as a proxy's 503 in front of the instance.
                pub fn status(self, status: u16) -> Self {
                    Self(self.0.status(status))
                }
            },
            parse_quote! {
                /// Answers only the first `hits` matching requests; later
                /// ones go to the next mock that matches, so mocks made one
                /// after another script a sequence of answers.
                pub fn up_to_n_times(self, hits: usize) -> Self {
                    Self(self.0.up_to_n_times(hits))
                }
            },
        ],
    )
}

/// Adds `methods`, failing the build if progenitor already wrote one of
/// the same name (for a status the spec declares, say).
fn add_methods<const N: usize>(
    items: &mut Vec<ImplItem>,
    id: &str,
    methods: [syn::ImplItemFn; N],
) -> Result<(), String> {
    for method in methods {
        let clash = items
            .iter()
            .any(|item| matches!(item, ImplItem::Fn(f) if f.sig.ident == method.sig.ident));
        if clash {
            return Err(format!(
                "{id}: the mock already has a method `{}`; codegen/mocks.rs must name its own differently",
                method.sig.ident
            ));
        }
        items.push(ImplItem::Fn(method));
    }
    Ok(())
}

fn document_trait(
    t: &mut syn::ItemTrait,
    facts: &BTreeMap<String, MockFacts>,
) -> Result<(), String> {
    for item in &mut t.items {
        let TraitItem::Fn(method) = item else {
            continue;
        };
        let name = method.sig.ident.to_string();
        let op = facts
            .get(&name)
            .ok_or_else(|| format!("the mock method `{name}` names no operation of the spec"))?;
        let doc = format!(
            " Mocks `{} {}` ({}): {}.\n\n `config_fn` gets the typed `When` and `Then` of the \
             operation; the mock answers only requests that match all of `When`.",
            op.method,
            op.path,
            op.id,
            op.summary.trim_end_matches('.')
        );
        method.attrs.push(parse_quote!(#[doc = #doc]));
    }
    Ok(())
}
