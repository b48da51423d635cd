//! Seeding content the way a client would create it: folders with random keys, files encrypted
//! with random keys and nonces, chunk MACs folded into the node key, names and fingerprints in
//! encrypted attributes, keys wrapped with the owner's master key. Used by `--file`, the demo
//! drive and tests.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use mega_proto::attr::Attributes;
use mega_proto::content::{ChunkBatch, ContentCipher, Direction};
use mega_proto::fingerprint::{self, Fingerprint};
use mega_proto::{b64, chunks, FileKey, Key128, NodeHandle, UserHandle};
use serde_json::json;

use crate::store::{kind, now, random, random_id, Blob, Node, Store};

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// No such account.
    #[error("no account {0}")]
    NoAccount(String),
    /// A path component names a file, or the path is empty.
    #[error("bad remote path {0:?}")]
    BadPath(String),
    /// Reading the source or writing the blob failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn node_name(store: &Store, h: NodeHandle) -> Option<String> {
    let key = store.owner_key(h)?;
    Attributes::decrypt_b64(&store.nodes.get(&h)?.a, &key.attr_key()).ok()?.name().map(str::to_string)
}

/// The folder at `path` (components below the cloud drive root), created where missing.
pub(crate) fn ensure_folder(store: &mut Store, user: UserHandle, path: &[&str]) -> Result<NodeHandle, SeedError> {
    let account = store.accounts.get(&user).ok_or_else(|| SeedError::NoAccount(user.to_b64()))?;
    let master = account.master.clone();
    let mut cur = account.roots[0];
    for name in path.iter().filter(|c| !c.is_empty()) {
        let existing = store.children.get(&cur).and_then(|kids| {
            kids.iter()
                .copied()
                .find(|&k| store.nodes[&k].t == kind::FOLDER && node_name(store, k).as_deref() == Some(name))
        });
        cur = match existing {
            Some(h) => h,
            None => {
                let key = Key128::new(random());
                let h = store.new_handle();
                let k = b64::encode(&master.wrap(key.as_bytes()).unwrap_or_default());
                let node = Node {
                    h,
                    p: Some(cur),
                    owner: user,
                    t: kind::FOLDER,
                    a: Attributes::with_name(name).encrypt_b64(&key),
                    k: format!("{user}:{k}"),
                    s: 0,
                    ts: now(),
                    fa: None,
                    blob: None,
                };
                store.push_packet(user, json!({"a": "t", "t": {"f": [node.to_json()]}, "ou": user.to_b64()}));
                store.insert_node(node);
                h
            }
        };
    }
    Ok(cur)
}

/// Encrypts `source` (`size` bytes) into a new blob in `dir`; returns the blob and the file key.
pub(crate) fn encrypt_to_blob(
    dir: &Path,
    source: &mut (impl Read + Seek),
    size: u64,
) -> Result<(Blob, FileKey), SeedError> {
    let aes_key: [u8; 16] = random();
    let nonce: [u8; 8] = random();
    let cipher = ContentCipher::from_parts(&aes_key, &nonce);
    let path = dir.join(format!("seed-{}", random_id()));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut macs = Vec::new();
    let ranges: Vec<_> = chunks::chunks(size).collect();
    // Eight chunks at a time: the interleaved MAC's width.
    for group in ranges.chunks(ChunkBatch::WIDTH) {
        let start = group[0].start;
        let end = group[group.len() - 1].end;
        let mut buf = vec![0u8; (end - start) as usize];
        source.seek(SeekFrom::Start(start))?;
        source.read_exact(&mut buf)?;
        let mut batch = ChunkBatch::new(&cipher, Direction::Encrypt);
        let mut rest: &mut [u8] = &mut buf;
        for r in group {
            let (chunk, tail) = rest.split_at_mut((r.end - r.start) as usize);
            rest = tail;
            // Chunk starts are 16-aligned.
            let _ = batch.push(r.start, chunk);
        }
        macs.extend(batch.run());
        out.write_all(&buf)?;
    }
    out.flush()?;
    let key = FileKey { aes_key, nonce, meta_mac: cipher.meta_mac(&macs) };
    Ok((Blob { path, size }, key))
}

/// A file encrypted and stored, not yet in the tree.
pub(crate) struct Prepared {
    blob: Blob,
    key: FileKey,
    fingerprint: Fingerprint,
}

/// Encrypts `source` into the blob directory: the slow part, done without the store's lock.
pub(crate) fn prepare_file(
    dir: &Path,
    source: &mut (impl Read + Seek),
    size: u64,
    mtime: i64,
) -> Result<Prepared, SeedError> {
    let crc = fingerprint::crc_with(size, |off, buf| {
        source.seek(SeekFrom::Start(off))?;
        source.read_exact(buf)
    })?;
    let (blob, key) = encrypt_to_blob(dir, source, size)?;
    Ok(Prepared { blob, key, fingerprint: Fingerprint { crc, mtime } })
}

/// Puts a prepared file at `remote_path` (e.g. `/Photos/a.jpg`) in `user`'s drive.
pub(crate) fn insert_file(
    store: &mut Store,
    user: UserHandle,
    remote_path: &str,
    file: Prepared,
) -> Result<NodeHandle, SeedError> {
    let parts: Vec<&str> = remote_path.split('/').filter(|c| !c.is_empty()).collect();
    let Some((name, dirs)) = parts.split_last() else { return Err(SeedError::BadPath(remote_path.into())) };
    let parent = ensure_folder(store, user, dirs)?;
    let master = store.accounts[&user].master.clone();
    let mut attrs = Attributes::with_name(name);
    attrs.set_fingerprint(&file.fingerprint.to_attr());
    let h = store.new_handle();
    let k = b64::encode(&master.wrap(&file.key.to_node_key()).unwrap_or_default());
    let node = Node {
        h,
        p: Some(parent),
        owner: user,
        t: kind::FILE,
        a: attrs.encrypt_b64(&file.key.attr_key()),
        k: format!("{user}:{k}"),
        s: file.blob.size,
        ts: now(),
        fa: None,
        blob: Some(Arc::new(file.blob)),
    };
    store.push_packet(user, json!({"a": "t", "t": {"f": [node.to_json()]}, "ou": user.to_b64()}));
    store.insert_node(node);
    Ok(h)
}

/// A file link (with its key) to one of `user`'s files, exporting it.
pub(crate) fn file_link(store: &mut Store, user: UserHandle, h: NodeHandle) -> Option<String> {
    if store.nodes.get(&h)?.owner != user {
        return None;
    }
    let key = store.owner_key(h)?.to_bytes();
    let ph = match store.exported.get(&h) {
        Some(ph) => *ph,
        None => {
            let ph = store.new_handle();
            store.links.insert(ph, h);
            store.exported.insert(h, ph);
            ph
        }
    };
    Some(format!("https://mega.nz/file/{ph}#{}", b64::encode(&key)))
}
