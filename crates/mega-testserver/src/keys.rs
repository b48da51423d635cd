//! The key manager's `^!keys` on the server's side (spec §6.10): what the server writes into it
//! when it makes a share the way today's official apps do ([`crate::store::Store::official_apps`]),
//! and reads back to seed content into such a share. The service itself never reads the
//! attribute (it cannot: it has no master key); the test server keeps master keys only to seed
//! as a client would.

use mega_proto::keymgr::{KeysContainer, ShareKey, ATTRIBUTE};
use mega_proto::{b64, Key128, NodeHandle, UserHandle};
use rand_core::OsRng;

use crate::store::Store;

/// The `ok` and `ha` an official app sends with `s2` today: 16 zero bytes each.
pub(crate) const DUMMY: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// A user's `^!keys`, decrypted.
pub(crate) fn read(store: &Store, user: UserHandle) -> Option<KeysContainer> {
    let av = store.user_attrs.get(&user)?.get(ATTRIBUTE)?["av"].as_str()?;
    KeysContainer::decrypt_b64(av, &store.accounts.get(&user)?.master).ok()
}

/// The key of `folder` in a user's `^!keys`.
pub(crate) fn share_key(store: &Store, user: UserHandle, folder: NodeHandle) -> Option<Key128> {
    read(store, user)?.share_key(folder).map(|s| s.key)
}

/// Puts a share key into a user's `^!keys` as their client would: the generation bumped, a
/// fresh IV, a new version, and a `ua` packet for their sessions.
pub(crate) fn put_share_key(store: &mut Store, user: UserHandle, folder: NodeHandle, key: &Key128, flags: u8) {
    let Some(mut keys) = read(store, user) else { return };
    keys.put_share_key(ShareKey { handle: folder, key: key.clone(), flags });
    keys.bump_generation();
    let av = b64::encode(&keys.encrypt(&store.accounts[&user].master, &mut OsRng));
    store.put_user_attr(user, ATTRIBUTE, av);
}
