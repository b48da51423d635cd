//! The account's key manager attribute, `^!keys` (spec §6.10), as the tree fetch reads it: the
//! share keys of folders shared or exported by today's official apps (whose `ok`/`ha` are
//! dummies) and of incoming shares accepted there live only in it.
//!
//! Reading it never blocks the tree: an account without it (made before 2023 and never used
//! from an official app since) is fine, and one whose attribute does not decrypt or parse is
//! logged, kept as [`KeyManager::Unreadable`], and is an [`Error::KeyManager`] only for what
//! needs it (exporting a folder whose key only it could give).

use mega_proto::keymgr::{KeysContainer, ShareKey, ATTRIBUTE, SHARE_KEY_IN_USE, SHARE_KEY_TRUSTED};
use mega_proto::{ErrorCode, Key128, NodeHandle, UserHandle};
use rand_core::OsRng;
use serde_json::{json, Value};

use super::Tree;
use crate::client::request_tag;
use crate::error::{Error, Result};

/// The `uga` command that reads the attribute with its version.
pub(crate) fn read_command() -> Value {
    json!({"a": "uga", "ua": mega_proto::keymgr::ATTRIBUTE, "v": 1})
}

/// What the tree fetch learnt of the account's `^!keys`.
#[derive(Default)]
pub(crate) enum KeyManager {
    /// Not read: a folder link's tree, or a tree not fetched from a session.
    #[default]
    NotRead,
    /// The account has no `^!keys` (an older account): share keys come from `ok`/`sk` only.
    Absent,
    /// Read and decrypted, with the version `upv` must name to replace it.
    Read {
        /// The decrypted records.
        keys: KeysContainer,
        /// The attribute's version, as `uga` gave it.
        version: String,
    },
    /// Present but unusable: why (no values).
    Unreadable(&'static str),
}

impl KeyManager {
    /// Reads the `uga` reply (`{"av","v"}`, or an error code) with the master key of `user`.
    /// `None`: the reply had no answer to the command.
    pub(crate) fn from_reply(reply: Option<&Value>, master: &Key128, user: UserHandle) -> Self {
        let read = match reply {
            None => Self::Unreadable("the server did not answer the request for it"),
            Some(v) => match v.as_i64() {
                Some(code) if ErrorCode::from_code(code) == ErrorCode::NotFound => Self::Absent,
                Some(_) => Self::Unreadable("the server refused the request for it"),
                None => Self::decrypt(v, master, user),
            },
        };
        if let Self::Unreadable(why) = &read {
            tracing::warn!(
                "the account's key manager (^!keys) cannot be read: {why}; shares whose keys only it holds stay closed"
            );
        }
        read
    }

    fn decrypt(v: &Value, master: &Key128, user: UserHandle) -> Self {
        let (Some(av), version) = (v.get("av").and_then(Value::as_str), v.get("v").and_then(Value::as_str)) else {
            return Self::Unreadable("the server's answer has no value");
        };
        match KeysContainer::decrypt_b64(av, master) {
            Ok(keys) if keys.identity().is_some_and(|u| u != user) => {
                Self::Unreadable("it names another account as its owner")
            }
            Ok(keys) => Self::Read { keys, version: version.unwrap_or_default().to_string() },
            Err(e) => Self::Unreadable(match e.kind() {
                mega_proto::ErrorKind::WrongKey => "it does not decrypt with this account's master key",
                mega_proto::ErrorKind::Unsupported => "it is in a format this client does not read",
                _ => "it is corrupt",
            }),
        }
    }

    /// The container, when read.
    pub(crate) fn keys(&self) -> Option<&KeysContainer> {
        match self {
            Self::Read { keys, .. } => Some(keys),
            _ => None,
        }
    }

    /// The error for a feature that needs the attribute, when it could not be read.
    pub(crate) fn error(&self) -> Option<Error> {
        match self {
            Self::Unreadable(why) => Some(Error::KeyManager(why)),
            _ => None,
        }
    }
}

/// How many times a `upv` of `^!keys` that lost a race is re-read, merged and sent again.
const UPV_ATTEMPTS: usize = 5;

impl crate::Session {
    /// Writes a folder's share key into the account's `^!keys` as the SDK does: the share key
    /// added (trusted, in use; unknown records kept as they are), the generation bumped, a
    /// fresh IV, and `upv` naming the version read; a `-8` (another client wrote it since)
    /// re-reads it, merges and tries again. Nothing is written for an account without the
    /// attribute; one that cannot be read is an [`Error::KeyManager`].
    pub(crate) async fn remember_share_key(&self, tree: &mut Tree, h: NodeHandle, key: &Key128) -> Result<()> {
        self.write_share_key(tree, h, key, true).await
    }

    /// Clears the in-use bit of a folder's share key once the folder is shared no more (its
    /// last sharing, the folder link, removed), as the SDK does; the key itself stays, as
    /// there. Nothing is written when `^!keys` holds no such key or its bit is clear.
    pub(crate) async fn share_key_unused(&self, tree: &mut Tree, h: NodeHandle) -> Result<()> {
        let in_use = tree.key_manager.keys().and_then(|k| k.share_key(h)).filter(|s| s.in_use()).map(|s| s.key);
        match in_use {
            Some(key) => self.write_share_key(tree, h, &key, false).await,
            None => Ok(()),
        }
    }

    /// [`Self::remember_share_key`] with the in-use bit as given (other flag bits kept).
    async fn write_share_key(&self, tree: &mut Tree, h: NodeHandle, key: &Key128, in_use: bool) -> Result<()> {
        for _ in 0..UPV_ATTEMPTS {
            if let Some(e) = tree.key_manager.error() {
                return Err(e);
            }
            let KeyManager::Read { keys, version } = &tree.key_manager else { return Ok(()) };
            let current = keys.share_key(h);
            if current.as_ref().is_some_and(|s| s.key == *key && s.in_use() == in_use) {
                return Ok(());
            }
            let kept = current.filter(|s| s.key == *key).map_or(SHARE_KEY_TRUSTED, |s| s.flags);
            let flags = if in_use { kept | SHARE_KEY_IN_USE } else { kept & !SHARE_KEY_IN_USE };
            let mut next = KeysContainer::parse(&keys.to_plaintext())?;
            next.put_share_key(ShareKey { handle: h, key: key.clone(), flags });
            next.bump_generation();
            let mut cmd = serde_json::Map::new();
            cmd.insert("a".into(), json!("upv"));
            cmd.insert(ATTRIBUTE.into(), json!([next.encrypt_b64(self.master(), &mut OsRng), version]));
            cmd.insert("i".into(), json!(request_tag()));
            match self.command(Value::Object(cmd)).await {
                Ok(reply) => {
                    let version = reply.get(ATTRIBUTE).and_then(Value::as_str).unwrap_or_default().to_string();
                    tree.key_manager = KeyManager::Read { keys: next, version };
                    return Ok(());
                }
                Err(e) if e.code() == Some(ErrorCode::Expired) => {
                    tracing::debug!("^!keys changed elsewhere: read again and merged");
                    self.reread_key_manager(tree).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::protocol("upv", "the key manager kept changing elsewhere"))
    }

    /// Reads the account's `^!keys` again (after a `ua` action packet names it, or a lost
    /// `upv` race) and learns the share keys it holds; returns the nodes they opened.
    pub async fn reread_key_manager(&self, tree: &mut Tree) -> Result<Vec<NodeHandle>> {
        let reply = match self.command(read_command()).await {
            Ok(v) => v,
            Err(e) if e.code() == Some(ErrorCode::NotFound) => json!(-9),
            Err(e) => return Err(e),
        };
        let read = KeyManager::from_reply(Some(&reply), self.master(), self.user());
        let error = read.error();
        let opened = tree.learn_key_manager(read);
        error.map_or(Ok(opened), Err)
    }
}

#[cfg(test)]
mod tests {
    use mega_proto::b64;
    use mega_proto::keymgr::NewKeys;

    use super::*;

    #[test]
    fn reads_absent_corrupt_foreign_and_good_attributes() {
        let master = Key128::new([3; 16]);
        let me = UserHandle([1; 8]);
        assert!(matches!(KeyManager::from_reply(Some(&json!(-9)), &master, me), KeyManager::Absent));
        assert!(matches!(KeyManager::from_reply(Some(&json!(-3)), &master, me), KeyManager::Unreadable(_)));
        assert!(matches!(KeyManager::from_reply(None, &master, me), KeyManager::Unreadable(_)));
        let garbage = json!({"av": b64::encode(&[20u8; 64]), "v": "x"});
        assert!(matches!(KeyManager::from_reply(Some(&garbage), &master, me), KeyManager::Unreadable(_)));

        let mut keys = KeysContainer::new(&NewKeys {
            identity: UserHandle([1; 8]),
            created: 1,
            ed25519: &[5; 32],
            cu25519: &[6; 32],
            rsa: &[7; 10],
        });
        let share = ShareKey { handle: NodeHandle([9; 6]), key: Key128::new([8; 16]), flags: SHARE_KEY_TRUSTED };
        keys.put_share_key(share.clone());
        let good = json!({"av": keys.encrypt_b64(&master, &mut OsRng), "v": "ver1"});
        let read = KeyManager::from_reply(Some(&good), &master, me);
        assert!(matches!(&read, KeyManager::Read { version, .. } if version == "ver1"));
        assert_eq!(read.keys().unwrap().share_key(share.handle).unwrap().key, share.key);
        assert!(read.error().is_none());
        // Another account's attribute does not open with this master key.
        let other = KeyManager::from_reply(Some(&good), &Key128::new([4; 16]), me);
        assert_eq!(other.error().unwrap().kind(), crate::ErrorKind::Crypto);
        // Nor is another account's container, re-encrypted with this key, taken as this one's.
        let theirs = KeyManager::from_reply(Some(&good), &master, UserHandle([2; 8]));
        assert!(matches!(theirs, KeyManager::Unreadable(_)));
    }
}
