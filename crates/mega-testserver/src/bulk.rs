//! Bulk seeding for scale tests and benchmarks: a folder `/bulk` holding `folders` folders of
//! `files_per_folder` files each, every node encrypted as a client would create it (random
//! folder keys, attributes under the node key, keys wrapped with the owner's master key).
//!
//! Made to be fast at a million nodes: the files share one small stored blob and its file key
//! (their names differ, so each still has its own encrypted attributes), and no action packets
//! are emitted (a client fetches the tree after seeding).

use std::sync::Arc;

use mega_proto::attr::Attributes;
use mega_proto::fingerprint::Fingerprint;
use mega_proto::{b64, Key128, NodeHandle, UserHandle};

use crate::seed::{encrypt_to_blob, SeedError};
use crate::store::{kind, now, random, Node, Store};

/// The content every bulk file shares.
const CONTENT: &[u8] = b"tuatara bulk seed file\n";

/// Creates `/bulk/dir-NNNNN/file-NNNNNNN.bin` nodes; returns the `/bulk` folder.
pub(crate) fn seed_bulk(
    store: &mut Store,
    user: UserHandle,
    folders: usize,
    files_per_folder: usize,
) -> Result<NodeHandle, SeedError> {
    let account = store.accounts.get(&user).ok_or_else(|| SeedError::NoAccount(user.to_b64()))?;
    let master = account.master.clone();
    let root = account.roots[0];
    let (blob, file_key) = encrypt_to_blob(&store.dir, &mut std::io::Cursor::new(CONTENT), CONTENT.len() as u64)?;
    let blob = Arc::new(blob);
    let file_k = format!("{user}:{}", b64::encode(&master.wrap(&file_key.to_node_key()).unwrap_or_default()));
    let attr_key = file_key.attr_key();
    let c = Fingerprint::of(CONTENT, now()).to_attr();
    let ts = now();
    let folder = |store: &mut Store, parent: NodeHandle, name: &str| {
        let key = Key128::new(random());
        let h = store.new_handle();
        let k = b64::encode(&master.wrap(key.as_bytes()).unwrap_or_default());
        let a = Attributes::with_name(name).encrypt_b64(&key);
        store.insert_node(Node {
            h,
            p: Some(parent),
            owner: user,
            t: kind::FOLDER,
            a,
            k: format!("{user}:{k}"),
            s: 0,
            ts,
            fa: None,
            blob: None,
        });
        h
    };
    store.nodes.reserve(folders * (files_per_folder + 1));
    let top = folder(store, root, "bulk");
    let mut n = 0usize;
    for d in 0..folders {
        let dir = folder(store, top, &format!("dir-{d:05}"));
        for _ in 0..files_per_folder {
            let mut attrs = Attributes::with_name(&format!("file-{n:07}.bin"));
            attrs.set_fingerprint(&c);
            n += 1;
            let h = store.new_handle();
            store.insert_node(Node {
                h,
                p: Some(dir),
                owner: user,
                t: kind::FILE,
                a: attrs.encrypt_b64(&attr_key),
                k: file_k.clone(),
                s: CONTENT.len() as u64,
                ts,
                fa: None,
                blob: Some(blob.clone()),
            });
        }
    }
    Ok(top)
}
