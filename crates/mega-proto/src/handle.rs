//! Node, public and user handles (spec §3.5): fixed-size byte strings shown as b64.

use std::fmt;
use std::str::FromStr;

use crate::{b64, Error};

/// A node handle or a public (link) handle: 6 bytes, 8 b64 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeHandle(pub [u8; 6]);

/// A user handle (also a file-attribute handle or an `sn`): 8 bytes, 11 b64 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserHandle(pub [u8; 8]);

macro_rules! handle_impl {
    ($t:ident, $n:literal, $what:literal) => {
        impl $t {
            /// Length of the b64 form.
            pub const B64_LEN: usize = b64::encoded_len($n);

            /// Parses the b64 form, which must be exactly the right length.
            pub fn from_b64(s: &str) -> Result<Self, Error> {
                b64::decode_exact::<$n>(s, $what).map(Self)
            }

            /// The b64 form.
            pub fn to_b64(&self) -> String {
                b64::encode(&self.0)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_b64())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self.to_b64())
            }
        }

        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::from_b64(s)
            }
        }
    };
}

handle_impl!(NodeHandle, 6, "node handle");
handle_impl!(UserHandle, 8, "user handle");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_show() {
        let h: NodeHandle = "V_R4zAAH".parse().unwrap();
        assert_eq!(h.0, [0x57, 0xf4, 0x78, 0xcc, 0x00, 0x07]);
        assert_eq!(h.to_string(), "V_R4zAAH");
        assert!("V_R4zAA".parse::<NodeHandle>().is_err());
        let u: UserHandle = "AXaiaeUEKgk".parse().unwrap();
        assert_eq!(format!("{u:?}"), "UserHandle(AXaiaeUEKgk)");
    }
}
