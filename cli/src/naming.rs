//! The rule that names an operation's command, so that a new operation in
//! the spec gets a predictable command with no edit here: the noun is the
//! operation's tag, the verb its operation id in kebab case without the
//! tag's word (`getProxyStatus` in `proxy` is `proxy get-status`).
//!
//! Tests include this file as it is, so they derive the same names the
//! binary does.

/// The noun and verb of an operation's command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandName {
    /// The group: the operation's tag, in kebab case.
    pub noun: String,
    /// The command inside the group.
    pub verb: String,
}

/// The command `dployrctl NOUN VERB` for an operation with this id and tag.
///
/// The tag's words are removed once, where they first appear in the id, in
/// the tag's own form or with its last word singular or plural
/// (`listServices`, `getService`). An id that is only the tag keeps all of
/// its words, so no command is nameless.
pub fn command_name(id: &str, tag: &str) -> CommandName {
    let tag_words = words(tag);
    let noun = if tag_words.is_empty() {
        "other".to_string()
    } else {
        tag_words.join("-")
    };
    let id_words = words(id);
    let mut verb_words = id_words.clone();
    if let Some((start, len)) = find_tag(&id_words, &tag_words) {
        verb_words.drain(start..start + len);
    }
    if verb_words.is_empty() {
        verb_words = id_words;
    }
    CommandName {
        noun,
        verb: verb_words.join("-"),
    }
}

/// The operation id in kebab case: the verb used when the rule gives two
/// operations of one tag the same verb.
pub fn kebab(id: &str) -> String {
    words(id).join("-")
}

/// Where the tag's words (in any of their forms) first appear in `id`.
fn find_tag(id: &[String], tag: &[String]) -> Option<(usize, usize)> {
    let (last, head) = tag.split_last()?;
    let forms = [last.clone(), singular(last), plural(last)];
    (0..id.len()).find_map(|start| {
        let end = start + tag.len();
        let fits = end <= id.len()
            && id[start..end - 1] == *head
            && forms.iter().any(|form| *form == id[end - 1]);
        fits.then_some((start, tag.len()))
    })
}

/// Lower-case words of a camelCase, kebab-case or snake_case name; a run of
/// capitals is one word (`getHTTPRoute` is get, http, route).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if !prev.is_uppercase() || next_lower {
                out.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if word.ends_with("ss") {
        word.to_string()
    } else if let Some(stem) = word.strip_suffix('s') {
        stem.to_string()
    } else {
        word.to_string()
    }
}

fn plural(word: &str) -> String {
    let consonant_y = word
        .strip_suffix('y')
        .and_then(|stem| stem.chars().last())
        .is_some_and(|c| !"aeiou".contains(c));
    if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "ch", "sh"].iter().any(|end| word.ends_with(end)) {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(id: &str, tag: &str) -> (String, String) {
        let n = command_name(id, tag);
        (n.noun, n.verb)
    }

    #[test]
    fn the_tag_word_leaves_the_verb_in_either_number() {
        let cases = [
            ("listServices", "services", "services", "list"),
            ("getService", "services", "services", "get"),
            ("createDeployment", "deployments", "deployments", "create"),
            ("getProxyStatus", "proxy", "proxy", "get-status"),
            ("addProxyRoute", "proxy", "proxy", "add-route"),
            ("listProxies", "proxy", "proxy", "list"),
            ("registerInstance", "system", "system", "register-instance"),
            ("runSystemDoctor", "system", "system", "run-doctor"),
            ("installSystem", "system", "system", "install"),
            ("getHTTPRoute", "httpRoutes", "http-routes", "get"),
            ("services", "services", "services", "services"),
            ("ping", "", "other", "ping"),
        ];
        for (id, tag, noun, verb) in cases {
            assert_eq!(name(id, tag), (noun.to_string(), verb.to_string()), "{id}");
        }
    }

    #[test]
    fn words_split_camel_case_and_runs_of_capitals() {
        assert_eq!(words("getHTTPRoute"), ["get", "http", "route"]);
        assert_eq!(words("list_v2-items"), ["list", "v2", "items"]);
        assert_eq!(kebab("requestDomain"), "request-domain");
    }
}
