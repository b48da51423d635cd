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
use mega_proto::keymgr::{SHARE_KEY_IN_USE, SHARE_KEY_TRUSTED};
use mega_proto::{b64, chunks, FileKey, Key128, NodeHandle, UserHandle};
use serde_json::json;

use crate::store::{kind, now, random, random_id, Blob, Node, Share, Store, UserShare};

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
    let root = store.accounts.get(&user).ok_or_else(|| SeedError::NoAccount(user.to_b64()))?.roots[0];
    ensure_folder_in(store, user, root, path)
}

/// The key field of a new node of `user`'s under `parent`: the owner's entry, and one for each
/// shared folder above it whose share key the server can open (those it seeded), as the
/// owner's client adds with `cr`.
fn key_field(store: &Store, user: UserHandle, parent: NodeHandle, key: &[u8]) -> String {
    let master = &store.accounts[&user].master;
    let mut k = format!("{user}:{}", b64::encode(&master.wrap(key).unwrap_or_default()));
    for share in store.scope_of(parent) {
        if let Some(sk) = share_key(store, share) {
            k.push_str(&format!("/{share}:{}", b64::encode(&sk.wrap(key).unwrap_or_default())));
        }
    }
    k
}

/// A shared folder's key: from the owner's `^!keys`, else from its `ok` (unless a dummy) and
/// the owner's master key.
fn share_key(store: &Store, folder: NodeHandle) -> Option<Key128> {
    let owner = store.nodes.get(&folder)?.owner;
    if let Some(k) = crate::keys::share_key(store, owner, folder) {
        return Some(k);
    }
    let ok = store.shares.get(&folder)?.ok.as_deref().filter(|ok| *ok != crate::keys::DUMMY)?;
    let master = &store.accounts.get(&owner)?.master;
    Key128::from_slice(&master.unwrap(&b64::decode(ok)).ok()?).ok()
}

/// A new folder named `name` in `parent` (even if one of that name exists: MEGA allows it).
pub(crate) fn create_folder(store: &mut Store, user: UserHandle, parent: NodeHandle, name: &str) -> NodeHandle {
    let key = Key128::new(random());
    let h = store.new_handle();
    let node = Node {
        h,
        p: Some(parent),
        owner: user,
        t: kind::FOLDER,
        a: Attributes::with_name(name).encrypt_b64(&key),
        k: key_field(store, user, parent, key.as_bytes()),
        s: 0,
        ts: now(),
        fa: None,
        blob: None,
    };
    let packet = json!({"a": "t", "t": {"f": [node.to_json()]}, "ou": user.to_b64()});
    store.push_packet(user, packet, store.scope_of(parent));
    store.insert_node(node);
    h
}

/// The folder at `path` below `start`, created where missing.
pub(crate) fn ensure_folder_in(
    store: &mut Store,
    user: UserHandle,
    start: NodeHandle,
    path: &[&str],
) -> Result<NodeHandle, SeedError> {
    if !store.accounts.contains_key(&user) {
        return Err(SeedError::NoAccount(user.to_b64()));
    }
    let mut cur = start;
    for name in path.iter().filter(|c| !c.is_empty()) {
        let existing = store.children.get(&cur).and_then(|kids| {
            kids.iter()
                .copied()
                .find(|&k| store.nodes[&k].t == kind::FOLDER && node_name(store, k).as_deref() == Some(name))
        });
        cur = match existing {
            Some(h) => h,
            None => create_folder(store, user, cur, name),
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
    /// File attributes (thumbnail, preview): type and plaintext JPEG.
    pub(crate) file_attrs: Vec<(u32, Vec<u8>)>,
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
    Ok(Prepared { blob, key, fingerprint: Fingerprint { crc, mtime }, file_attrs: Vec::new() })
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
    Ok(insert_file_under(store, user, parent, name, file))
}

/// Puts a prepared file named `name` in folder `parent`, with its file attributes.
pub(crate) fn insert_file_under(
    store: &mut Store,
    user: UserHandle,
    parent: NodeHandle,
    name: &str,
    file: Prepared,
) -> NodeHandle {
    let mut attrs = Attributes::with_name(name);
    attrs.set_fingerprint(&file.fingerprint.to_attr());
    let attr_key = file.key.attr_key();
    let mut fa = Vec::new();
    for (t, plain) in &file.file_attrs {
        let handle: [u8; 8] = random();
        store.file_attrs.insert(handle, mega_proto::attr::encrypt_file_attribute(plain, &attr_key));
        fa.push(format!("{}:{t}*{}", crate::files::CLUSTER, b64::encode(&handle)));
    }
    let h = store.new_handle();
    let node = Node {
        h,
        p: Some(parent),
        owner: user,
        t: kind::FILE,
        a: attrs.encrypt_b64(&attr_key),
        k: key_field(store, user, parent, &file.key.to_node_key()),
        s: file.blob.size,
        ts: now(),
        fa: (!fa.is_empty()).then(|| fa.join("/")),
        blob: Some(Arc::new(file.blob)),
    };
    let packet = json!({"a": "t", "t": {"f": [node.to_json()]}, "ou": user.to_b64()});
    store.push_packet(user, packet, store.scope_of(parent));
    store.insert_node(node);
    h
}

/// The node at `path` below the cloud drive root of `user` (first match by name).
pub(crate) fn find_path(store: &Store, user: UserHandle, path: &str) -> Option<NodeHandle> {
    let mut cur = store.accounts.get(&user)?.roots[0];
    for name in path.split('/').filter(|c| !c.is_empty()) {
        cur = store.children.get(&cur)?.iter().copied().find(|&k| node_name(store, k).as_deref() == Some(name))?;
    }
    Some(cur)
}

/// Moves one of `user`'s nodes to the rubbish bin as the web client does: the original parent
/// goes into the `rr` attribute, so it can be restored.
pub(crate) fn move_to_rubbish(store: &mut Store, user: UserHandle, h: NodeHandle) -> Option<()> {
    let rubbish = store.accounts.get(&user)?.roots[2];
    let key = store.owner_key(h)?;
    let node = store.nodes.get(&h)?;
    let parent = node.p?;
    let mut attrs = Attributes::decrypt_b64(&node.a, &key.attr_key()).ok()?;
    attrs.0.insert("rr".into(), json!(parent.to_b64()));
    let scope = store.scope_of(h);
    store.detach(h);
    let node = store.nodes.get_mut(&h)?;
    node.a = attrs.encrypt_b64(&key.attr_key());
    node.p = Some(rubbish);
    store.children.entry(rubbish).or_default().push(h);
    let moved: Vec<_> = store.subtree(h).iter().map(|n| store.nodes[n].to_json()).collect();
    store.push_packet(user, json!({"a": "d", "n": h.to_b64(), "ou": user.to_b64(), "m": 1}), scope);
    store.push_packet(user, json!({"a": "t", "t": {"f": moved}, "ou": user.to_b64()}), Vec::new());
    Some(())
}

/// Makes `folder` a shared folder if it is not one yet, as the owner's client does: a new
/// share key, `ok` (wrapped with the master key) and `ha`, and the share's entry added to the
/// key field of every node below it (`cr`). Returns the share key.
fn ensure_share(store: &mut Store, folder: NodeHandle) -> Option<Key128> {
    if let Some(k) = share_key(store, folder) {
        return Some(k);
    }
    let owner = store.nodes.get(&folder)?.owner;
    let master = store.accounts.get(&owner)?.master.clone();
    let sk = Key128::new(random());
    let mut ha = [0u8; 16];
    let h8 = folder.to_b64();
    ha[..8].copy_from_slice(h8.as_bytes());
    ha[8..].copy_from_slice(h8.as_bytes());
    master.ecb_encrypt(&mut ha).ok()?;
    let official = store.official_apps;
    let share = store.shares.entry(folder).or_insert_with(|| Share { ts: now(), ..Share::default() });
    if official {
        // Today's official apps: dummy `ok`/`ha`, the key in the owner's `^!keys` only.
        share.ok = Some(crate::keys::DUMMY.to_string());
        share.ha = Some(crate::keys::DUMMY.to_string());
        crate::keys::put_share_key(store, owner, folder, &sk, SHARE_KEY_TRUSTED | SHARE_KEY_IN_USE);
    } else {
        share.ok = Some(b64::encode(&master.wrap(sk.as_bytes()).ok()?));
        share.ha = Some(b64::encode(&ha));
    }
    for h in store.subtree(folder) {
        let Some(key) = store.owner_key(h) else { continue };
        let entry = format!("{folder}:{}", b64::encode(&sk.wrap(&key.to_bytes()).ok()?));
        if let Some(n) = store.nodes.get_mut(&h) {
            if !n.k.split('/').any(|e| e.starts_with(&format!("{folder}:"))) {
                n.k = format!("{}/{entry}", n.k);
            }
        }
    }
    Some(sk)
}

/// Exports a folder as a folder link (`s2` with `EXP`, then `l`); returns the link with its key
/// (the share key).
pub(crate) fn folder_link(store: &mut Store, user: UserHandle, folder: NodeHandle) -> Option<String> {
    if store.nodes.get(&folder).is_none_or(|n| n.owner != user || n.t != kind::FOLDER) {
        return None;
    }
    // The link carries the share key, which opens the key entries the share added below it.
    let key = ensure_share(store, folder)?;
    store.shares.get_mut(&folder)?.exported = true;
    let (ph, _) = store.export(folder);
    Some(format!("https://mega.nz/folder/{ph}#{}", key.to_b64()))
}

/// Shares one of `owner`'s folders with another user (`r`: 0 read-only, 1 read/write, 2 full).
/// The share key reaches them wrapped with their master key, as after their client has
/// re-wrapped an RSA-encrypted one; or, with [`Store::official_apps`], in their `^!keys`.
pub(crate) fn share_with(
    store: &mut Store,
    owner: UserHandle,
    folder: NodeHandle,
    to: UserHandle,
    r: u8,
) -> Option<()> {
    if store.nodes.get(&folder).is_none_or(|n| n.owner != owner || n.t != kind::FOLDER) || to == owner {
        return None;
    }
    let sk = ensure_share(store, folder)?;
    let wrapped = if store.official_apps {
        // The key reached the recipient's client through the key manager (not `sk`), which
        // keeps it in their `^!keys`.
        crate::keys::put_share_key(store, to, folder, &sk, SHARE_KEY_TRUSTED);
        String::new()
    } else {
        b64::encode(&store.accounts.get(&to)?.master.wrap(sk.as_bytes()).ok()?)
    };
    let share = store.shares.get_mut(&folder)?;
    share.users.retain(|u| u.user != to);
    share.users.push(UserShare { user: to, r, sk: wrapped, ts: now() });
    Some(())
}

/// A file link (with its key) to one of `user`'s files, exporting it.
pub(crate) fn file_link(store: &mut Store, user: UserHandle, h: NodeHandle) -> Option<String> {
    if store.nodes.get(&h)?.owner != user {
        return None;
    }
    let key = store.owner_key(h)?.to_bytes();
    let (ph, _) = store.export(h);
    Some(format!("https://mega.nz/file/{ph}#{}", b64::encode(&key)))
}
