//! The roles a token carries and their order, defined here once: the
//! library, `LocalInstance` and the build script (which includes this file
//! to check `x-dployr-role` in `openapi.yaml`) all read it.
//
// Self-contained on purpose: build.rs compiles this file on its own, so it
// imports nothing of the crate.

use std::fmt;

/// A token's role on an instance. Each role may do everything the roles
/// before it may, so roles compare in that order:
/// viewer < developer < admin < owner.
///
/// Every operation that needs a token states the least role it needs in
/// `openapi.yaml` (`x-dployr-role`); [`Operation::role`](crate::Operation::role)
/// gives it.
///
/// ```
/// use dployr::Role;
/// assert!(Role::Viewer < Role::Developer && Role::Admin < Role::Owner);
/// assert_eq!(Role::Admin.to_string(), "admin");
/// assert_eq!(Role::from_name("developer"), Some(Role::Developer));
/// assert_eq!(Role::from_name("root"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads services and the instance's status.
    Viewer,
    /// Also deploys, reads deployments and logs, updates services and reads
    /// the proxy's state.
    Developer,
    /// Also deletes services, manages the proxy and installs; reads the
    /// instance's build and hardware.
    Admin,
    /// Everything.
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Developer, Role::Admin, Role::Owner];

    /// The role's name as tokens and `x-dployr-role` spell it: `viewer`,
    /// `developer`, `admin` or `owner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// The role of a name as [`as_str`](Self::as_str) spells it, in any
    /// case; `None` for any other name.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
