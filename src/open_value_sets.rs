//! Conveniences for the spec's open value sets (runtime, source, deployment
//! status, system health, doctor status): each is a known enum or, from a
//! newer instance, any other string. These make both cases read as one value.
//!
//! The list of sets comes from the spec (`codegen/inventory.rs`), so a set
//! added to `openapi.yaml` gets these without an edit here.

use std::fmt;

// Every type an `open_value!` line names.
use crate::types::*;

macro_rules! open_value {
    ($open:ident, $known:ident, $variant:ident, $other:ident, $example:literal) => {
        impl $open {
            /// The known value, or `None` for one this version does not know.
            pub fn known(&self) -> Option<$known> {
                match self {
                    $open::$variant(known) => Some(*known),
                    $open::Other(_) => None,
                }
            }
        }

        impl fmt::Display for $open {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $open::$variant(known) => known.fmt(f),
                    $open::Other(other) => f.write_str(other),
                }
            }
        }

        #[doc = concat!("Parses any string: a known value becomes `", stringify!($variant), "`, anything else `Other`.")]
        ///
        /// ```
        #[doc = concat!("let value = dployr::types::", stringify!($open), "::from(", stringify!($example), ");")]
        #[doc = concat!("assert_eq!(value.to_string(), ", stringify!($example), ");")]
        #[doc = concat!("let newer = dployr::types::", stringify!($open), "::from(\"from-the-future\");")]
        /// assert!(newer.known().is_none());
        /// assert_eq!(newer.to_string(), "from-the-future");
        /// ```
        impl From<&str> for $open {
            fn from(value: &str) -> Self {
                match value.parse::<$known>() {
                    Ok(known) => $open::$variant(known),
                    Err(_) => $open::Other(
                        $other::try_from(value.to_string())
                            .expect("a value that is not known is a valid other value"),
                    ),
                }
            }
        }

        impl PartialEq<$known> for $open {
            fn eq(&self, other: &$known) -> bool {
                self.known() == Some(*other)
            }
        }
    };
}

// One `open_value!(...)` per open value set of the spec, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/open_value_sets.rs"));
