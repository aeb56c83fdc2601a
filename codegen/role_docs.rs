//! The pass over progenitor's output that writes, on each operation's
//! method of `Client` and on its builder's `send`, the role a token needs
//! to call it (from `x-dployr-role`, through the facts), so a reader of the
//! docs learns it before an instance answers 403.

use std::collections::BTreeSet;

use syn::{parse_quote, Attribute, ImplItem, Item, Type};

use crate::facts::Facts;
use crate::role::Role;

/// Adds the role paragraph to every operation's method; fails when an
/// operation of the facts has no method, so no method goes without it.
pub(crate) fn document_roles(file: &mut syn::File, facts: &Facts) -> Result<(), String> {
    let mut documented = BTreeSet::new();
    for item in &mut file.items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || !names_type(&block.self_ty, "Client") {
            continue;
        }
        for item in &mut block.items {
            let ImplItem::Fn(method) = item else { continue };
            let name = method.sig.ident.to_string();
            if let Some(f) = facts.get(&name) {
                append_paragraph(&mut method.attrs, paragraph(f.role));
                documented.insert(name);
            }
        }
    }
    let missing: Vec<&String> = facts.keys().filter(|n| !documented.contains(*n)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "no method of `Client` is named {missing:?}, so their docs cannot say the role they need"
        ));
    }
    Ok(())
}

/// The docs paragraph saying what token an operation needs.
pub(crate) fn paragraph(role: Option<Role>) -> String {
    match role {
        Some(role) => {
            let variant = format!("{role:?}");
            format!(
                "Needs a token with at least the `{role}` role ([`Role::{variant}`](crate::Role::{variant})); \
                 an instance answers a token below it with 403 ([`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden))."
            )
        }
        None => "Needs no access token.".to_string(),
    }
}

/// Adds `text` as the last paragraph of the docs `attrs` hold (progenitor
/// writes them as one block: summary, description, the request, an example).
pub(crate) fn append_paragraph(attrs: &mut Vec<Attribute>, text: String) {
    attrs.push(parse_quote!(#[doc = ""]));
    attrs.push(parse_quote!(#[doc = #text]));
}

fn names_type(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == name))
}
