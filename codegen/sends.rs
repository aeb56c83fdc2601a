//! The pass over progenitor's output that puts every call through code this
//! crate owns: each builder's generated `send` becomes the private
//! `send_generated`, and a public `send` beside it runs it inside
//! `crate::call::generated`, which returns `dployr::Error`.

use std::collections::BTreeSet;

use heck::ToShoutySnakeCase;
use syn::visit::Visit;
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Type};

use crate::facts::Facts;

pub(super) fn wrap(file: &mut syn::File, facts: &Facts) -> Result<(), String> {
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
        let ImplItem::Fn(generated) = &mut block.items[at] else {
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
            .ok_or_else(|| format!("{name}: `send` does not return Result<ResponseValue<T>, _>"))?;
        let docs: Vec<syn::Attribute> = std::mem::take(&mut generated.attrs);
        generated.sig.ident = quote::format_ident!("send_generated");
        generated.vis = syn::Visibility::Inherited;
        // The generated future is boxed: it holds the request, the
        // answer and every hook's state (16-22 kB), and a caller that
        // awaits several operations in one function would otherwise
        // carry all of them inline.
        let public: syn::ImplItemFn = parse_quote! {
            #(#docs)*
            ///
            /// Fails with a [`crate::Error`]; its [`kind`](crate::Error::kind) says what
            /// went wrong.
            pub async fn send(self) -> Result<ResponseValue<#success>, crate::Error> {
                crate::call::generated(
                    &crate::facts::#facts_name,
                    Box::pin(self.send_generated()),
                )
                .await
            }
        };
        block.items.insert(at, ImplItem::Fn(public));
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
