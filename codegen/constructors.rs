//! The pass over progenitor's output that keeps the client's internal state
//! out of its public API. progenitor writes `Client::new` and
//! `Client::new_with_client`, both public and both taking the inner state
//! (`crate::settings::ClientState`); a program makes its client through
//! `ClientBuilder` instead. So `new` (which would also panic where it
//! cannot build its own HTTP client) goes, and `new_with_client`, the one
//! the builder calls, becomes crate-private.

use syn::{parse_quote, ImplItem, Item, Type};

pub(crate) fn hide(file: &mut syn::File) -> Result<(), String> {
    let block = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Impl(block)
                if block.trait_.is_none()
                    && is_client(&block.self_ty)
                    && block.items.iter().any(|i| is_fn(i, "new_with_client")) =>
            {
                Some(block)
            }
            _ => None,
        })
        .ok_or("progenitor's output has no `impl Client` with `new_with_client`")?;
    block.items.retain(|item| !is_fn(item, "new"));
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item {
            if f.sig.ident == "new_with_client" {
                f.vis = parse_quote!(pub(crate));
            }
        }
    }
    Ok(())
}

fn is_client(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("Client"))
}

fn is_fn(item: &ImplItem, name: &str) -> bool {
    matches!(item, ImplItem::Fn(f) if f.sig.ident == name)
}
