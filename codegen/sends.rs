//! The pass over progenitor's output that puts every call through the
//! crate's own pipeline. progenitor writes, per builder, a `send` that
//! builds the request, calls its hooks, sends it and decodes the answer.
//! This pass keeps the first part alone, as `build_request` (the builder's
//! values checked and the `reqwest::Request` built), and replaces `send`
//! with one that hands `crate::pipeline` the way to build that request (on
//! a clone of the builder, so a restart builds it anew rather than every
//! call keeping a copy of it), and the pipeline sends it and decodes the
//! answer itself. So no hook, dummy answer or second error
//! type is ever involved, and `send` returns `dployr::Error`.

use std::collections::BTreeSet;

use heck::ToShoutySnakeCase;
use syn::visit::Visit;
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Stmt, Type};

use crate::facts::Facts;
use crate::role_docs;

/// How the pipeline reads a success answer, from the type `send` returns.
enum Answer {
    Json,
    Empty,
    Stream,
}

pub(crate) fn wrap(file: &mut syn::File, facts: &Facts) -> Result<(), String> {
    let builders = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or("progenitor's output has no `builder` module")?;
    let mut wrapped = BTreeSet::new();
    for item in &mut builders.1 {
        let Item::Impl(block) = item else { continue };
        let Some(at) = block
            .items
            .iter()
            .position(|item| matches!(item, ImplItem::Fn(f) if f.sig.ident == "send"))
        else {
            continue;
        };
        let ImplItem::Fn(generated) = &block.items[at] else {
            continue;
        };
        let name = operation_name(generated)?;
        let facts_name = facts
            .contains_key(&name)
            .then(|| quote::format_ident!("{}", name.to_shouty_snake_case()))
            .ok_or_else(|| {
                format!(
                    "progenitor generated the operation `{name}`, which no operationId \
                     of the spec names in snake case; rename the operationId"
                )
            })?;
        let success = success_type(&generated.sig.output)
            .ok_or_else(|| format!("{name}: `send` does not return Result<ResponseValue<T>, _>"))?
            .clone();
        let build = build_request(generated)
            .ok_or_else(|| format!("{name}: `send` builds no request before its hooks"))?;
        let mut docs = generated.attrs.clone();
        role_docs::append_paragraph(&mut docs, role_docs::paragraph(facts[&name].role));
        let sender = match answer_of(&success) {
            Answer::Json => quote::quote!(send_json::<#success>),
            Answer::Empty => quote::quote!(send_empty),
            Answer::Stream => quote::quote!(send_stream),
        };
        let public: syn::ImplItemFn = parse_quote! {
            #(#docs)*
            ///
            /// Fails with a [`crate::Error`]; its [`kind`](crate::Error::kind) says what
            /// went wrong.
            pub fn send(
                self,
            ) -> impl ::std::future::Future<
                Output = Result<ResponseValue<#success>, crate::Error>,
            > + 'a {
                // Not an `async fn`, which would keep the builder twice in
                // the call's state (as its parameter and as the local it
                // moves into); a builder with a body is hundreds of bytes.
                async move {
                    crate::pipeline::generated::#sender(
                        &crate::facts::#facts_name,
                        &|| self.clone().build_request(),
                    )
                    .await
                }
            }
        };
        block.items[at] = ImplItem::Fn(public);
        block.items.insert(at, ImplItem::Fn(build));
        wrapped.insert(name);
    }
    let missing: Vec<&String> = facts.keys().filter(|n| !wrapped.contains(*n)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "no generated operation is named {missing:?}; progenitor names operations \
             differently from their operationIds in snake case"
        ));
    }
    Ok(())
}

/// `build_request`: the generated `send` up to the hooks, giving back the
/// client and the request it built.
fn build_request(send: &syn::ImplItemFn) -> Option<syn::ImplItemFn> {
    let statements = &send.block.stmts;
    let hooks_start = statements.iter().position(names_operation_info)?;
    let kept: Vec<Stmt> = statements[..hooks_start]
        .iter()
        .filter(|statement| !appends_api_version(statement))
        .cloned()
        .map(header_map_unreserved)
        .collect();
    Some(parse_quote! {
        /// The builder's values checked and the request built, not sent.
        pub(crate) fn build_request(
            self,
        ) -> Result<(&'a super::Client, ::reqwest::Request), Error> {
            #(#kept)*
            Ok((client, request))
        }
    })
}

/// Whether `statement` is `header_map.append(HeaderName::from_static(
/// "api-version"), ..)`. progenitor sends the spec's `info.version` in an
/// `api-version` header that the Dployr API does not define; no instance
/// reads it, and every call would pay for building, sending and dropping it.
fn appends_api_version(statement: &Stmt) -> bool {
    let Stmt::Expr(syn::Expr::MethodCall(call), _) = statement else {
        return false;
    };
    let Some(syn::Expr::Call(name)) = call.args.first() else {
        return false;
    };
    call.method == "append"
        && matches!(
            name.args.first(),
            Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if s.value() == "api-version"
        )
}

/// `let mut header_map = HeaderMap::with_capacity(n);` made with
/// `HeaderMap::new()`, which allocates nothing until a header is added: with
/// the `api-version` header gone, most operations add none.
fn header_map_unreserved(mut statement: Stmt) -> Stmt {
    if let Stmt::Local(local) = &mut statement {
        if let Some(init) = &mut local.init {
            if let syn::Expr::Call(call) = &*init.expr {
                let path = match &*call.func {
                    syn::Expr::Path(p) => &p.path,
                    _ => return statement,
                };
                let names: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                if names.ends_with(&["HeaderMap".to_string(), "with_capacity".to_string()]) {
                    *init.expr = parse_quote!(::reqwest::header::HeaderMap::new());
                    // Operations without header parameters no longer add to it.
                    local.attrs.push(parse_quote!(#[allow(unused_mut)]));
                }
            }
        }
    }
    statement
}

/// Whether `statement` is `let info = OperationInfo { .. };`, the first
/// statement of the generated hooks.
fn names_operation_info(statement: &Stmt) -> bool {
    let Stmt::Local(local) = statement else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    matches!(&*init.expr, syn::Expr::Struct(s) if s.path.is_ident("OperationInfo"))
}

fn answer_of(success: &Type) -> Answer {
    match success {
        Type::Tuple(tuple) if tuple.elems.is_empty() => Answer::Empty,
        Type::Path(path)
            if path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "ByteStream") =>
        {
            Answer::Stream
        }
        _ => Answer::Json,
    }
}

/// The name in the `OperationInfo` the generated `send` passes its hooks.
fn operation_name(send: &syn::ImplItemFn) -> Result<String, String> {
    #[derive(Default)]
    struct Find(Option<String>);
    impl Visit<'_> for Find {
        fn visit_field_value(&mut self, field: &syn::FieldValue) {
            if let (syn::Member::Named(member), syn::Expr::Lit(lit)) = (&field.member, &field.expr)
            {
                if let (true, syn::Lit::Str(s)) = (member == "operation_id", &lit.lit) {
                    self.0 = Some(s.value());
                }
            }
            syn::visit::visit_field_value(self, field);
        }
    }
    let mut find = Find::default();
    find.visit_block(&send.block);
    find.0
        .ok_or_else(|| "a generated `send` names no operation_id".to_string())
}

/// `T` of `Result<ResponseValue<T>, _>`.
fn success_type(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, result) = output else {
        return None;
    };
    first_type_argument(result, "Result")
        .and_then(|response| first_type_argument(response, "ResponseValue"))
}

/// `A` of `Outer<A, ...>`.
fn first_type_argument<'a>(ty: &'a Type, outer: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != outer {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}
