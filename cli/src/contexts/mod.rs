//! Contexts: named instances (a URL, and a token kept apart from it) so
//! that staging and production are one `--context` away, as `gh`,
//! `kubectl` and Dployr's own command line keep theirs. The files are in
//! [`files`]; the `context` commands in [`command`].

pub mod command;
pub mod files;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::exit::Failure;

/// `contexts.toml`: every context's URL, and which one is current.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Settings {
    /// The context a command uses when nothing else names an instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// By name.
    #[serde(default)]
    pub contexts: BTreeMap<String, Entry>,
}

/// One context in `contexts.toml`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The instance's base URL.
    pub url: String,
}

/// `tokens.toml`: each context's token, by context name.
type Tokens = BTreeMap<String, TokenEntry>;

/// One context's token in `tokens.toml`.
#[derive(Serialize, Deserialize)]
pub struct TokenEntry {
    /// The access token, as given to `context add`.
    pub token: String,
}

/// A context ready to use: the token goes to `url` and nowhere else.
pub struct Context {
    /// Its name.
    pub name: String,
    /// The instance it names.
    pub url: String,
    /// Its token, when one is kept.
    pub token: Option<String>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The two files of one configuration folder.
pub struct Store {
    folder: PathBuf,
}

impl Store {
    /// The store in the user's configuration folder.
    pub fn open() -> Result<Store, Failure> {
        Ok(Store {
            folder: files::folder()?,
        })
    }

    /// The settings file's path.
    pub fn settings_path(&self) -> PathBuf {
        self.folder.join(files::SETTINGS_FILE)
    }

    /// The tokens file's path.
    pub fn tokens_path(&self) -> PathBuf {
        self.folder.join(files::TOKENS_FILE)
    }

    /// The settings; empty when there is no file yet.
    pub fn settings(&self) -> Result<Settings, Failure> {
        Ok(files::read(&self.settings_path())?.unwrap_or_default())
    }

    /// The tokens, refused when others may read the file.
    fn tokens(&self) -> Result<Tokens, Failure> {
        let path = self.tokens_path();
        files::check_private(&path)?;
        Ok(files::read(&path)?.unwrap_or_default())
    }

    /// Writes the settings whole.
    pub fn save_settings(&self, settings: &Settings) -> Result<(), Failure> {
        let text = toml::to_string(settings)
            .map_err(|e| Failure::Setup(format!("cannot write the contexts: {e}")))?;
        files::write_atomic(&self.settings_path(), &text, false)
    }

    /// Sets (or, with `None`, removes) the token of context `name`.
    pub fn set_token(&self, name: &str, token: Option<&str>) -> Result<(), Failure> {
        let mut tokens = self.tokens()?;
        match token {
            Some(token) => {
                tokens.insert(
                    name.to_string(),
                    TokenEntry {
                        token: token.to_string(),
                    },
                );
            }
            None => {
                tokens.remove(name);
            }
        }
        let text = toml::to_string(&tokens)
            .map_err(|_| Failure::Setup("cannot write the tokens file".into()))?;
        files::write_atomic(&self.tokens_path(), &text, true)
    }

    /// The context called `name`, with its token.
    pub fn context(&self, name: &str) -> Result<Context, Failure> {
        let settings = self.settings()?;
        let entry = settings.contexts.get(name).ok_or_else(|| {
            Failure::Setup(format!(
                "no context named `{name}`; `dployrctl context list` shows them, \
                 `dployrctl context add {name} --url URL` adds it"
            ))
        })?;
        let token = self.tokens()?.remove(name).map(|t| t.token);
        Ok(Context {
            name: name.to_string(),
            url: entry.url.clone(),
            token,
        })
    }

    /// Whether context `name` has a token kept.
    pub fn has_token(&self, name: &str) -> Result<bool, Failure> {
        Ok(self.tokens()?.contains_key(name))
    }
}

/// A name a context may have: letters, digits, `-`, `_` and `.`, so it is
/// one word in a shell and one key in a file.
pub fn check_name(name: &str) -> Result<(), Failure> {
    let fits = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fits {
        Ok(())
    } else {
        Err(Failure::Input(format!(
            "`{name}` is not a context name: use letters, digits, `-`, `_` or `.`"
        )))
    }
}
