//! Node operations on an account: mkdir (with parents), rename, move, server-side copy, delete
//! to the rubbish bin (remembering where from, `rr`), restore, permanent delete, and public
//! links (file links, folder exports through an `EXP` share, removal).
//!
//! Each operation takes the tree, checks what it can locally, sends one request (related
//! commands batched together) and applies the accepted change to the tree at once. The action
//! packets the server sends for it later change nothing more.

use mega_proto::attr::Attributes;
use mega_proto::link::{Link, LinkKind};
use mega_proto::{b64, ErrorCode, Key128, NodeHandle, NodeKey};
use rand_core::RngCore;
use serde_json::{json, Value};

use crate::client::request_tag;
use crate::error::{Error, Result};
use crate::tree::{fetch_tree, handle_auth, Keyring, Node, NodeKind, RawNode, Tree};
use crate::Session;

/// Node references of a request (handles or placeholders) with their raw keys, for `cr`.
pub(crate) type NodeKeys = Vec<(String, Vec<u8>)>;

/// A fresh random 16-byte key.
pub(crate) fn random_key() -> Key128 {
    let mut k = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut k);
    let key = Key128::new(k);
    k.fill(0);
    key
}

/// A node name: non-empty, no `/`, no NUL.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
        return Err(Error::BadInput(format!("{name:?} is not a valid node name")));
    }
    Ok(())
}

/// Placeholder handles for nodes created in one `p` request.
fn placeholder(i: usize) -> String {
    let mut h = [0u8; 6];
    h[2..].copy_from_slice(&(i as u32).to_be_bytes());
    NodeHandle(h).to_b64()
}

/// The share keys of the shares (exports) at or above `h` that this client holds.
pub(crate) fn shares_above(tree: &Tree, h: NodeHandle) -> Vec<(NodeHandle, Key128)> {
    let mut out = Vec::new();
    let mut cur = tree.get(h);
    while let Some(n) = cur {
        if let Some(k) = tree.keyring.shares.get(&n.handle()) {
            out.push((n.handle(), k.clone()));
        }
        cur = n.parent().and_then(|p| tree.get(p));
    }
    out
}

/// `cr` (spec §6.7): every node key wrapped with every share key, so that share (or folder
/// link) can open nodes created or moved below it. `nodes` are references as the request names
/// them (handles or placeholders) with their raw keys.
pub(crate) fn share_keys_cr(shares: &[(NodeHandle, Key128)], nodes: &[(String, Vec<u8>)]) -> Result<Option<Value>> {
    if shares.is_empty() || nodes.is_empty() {
        return Ok(None);
    }
    let mut triples = Vec::with_capacity(shares.len() * nodes.len() * 3);
    for (si, (_, share_key)) in shares.iter().enumerate() {
        for (ni, (_, key)) in nodes.iter().enumerate() {
            triples.push(json!(si));
            triples.push(json!(ni));
            triples.push(json!(b64::encode(&share_key.wrap(key)?)));
        }
    }
    let share_refs: Vec<String> = shares.iter().map(|(h, _)| h.to_b64()).collect();
    let node_refs: Vec<&str> = nodes.iter().map(|(r, _)| r.as_str()).collect();
    Ok(Some(json!([share_refs, node_refs, triples])))
}

/// A `p` reply's nodes, added to the tree; returns their handles in order.
pub(crate) fn add_put_reply(tree: &mut Tree, reply: &Value) -> Result<Vec<NodeHandle>> {
    let nodes = reply.get("f").and_then(Value::as_array).ok_or(Error::protocol("p", "no nodes in the reply"))?;
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        let raw: RawNode = serde_json::from_value(n.clone()).map_err(|_| Error::protocol("p", "malformed node"))?;
        if let Some((h, _)) = tree.add_raw(&raw) {
            out.push(h);
        }
    }
    Ok(out)
}

/// `p` entries that recreate `top` and its subtree (from `src`) with the same keys:
/// folders as new folders, files by their handle (server-side copy). The top may be renamed.
pub(crate) fn copy_entries(
    src: &Tree,
    top: NodeHandle,
    rename: Option<&str>,
    master: &Key128,
) -> Result<(Vec<Value>, NodeKeys)> {
    let mut entries = Vec::new();
    let mut keys = Vec::new();
    for h in src.subtree(top) {
        let n = src.node(h)?;
        if !n.is_decrypted() || n.kind().is_root() {
            return Err(Error::BadInput(format!("node {h} cannot be copied: it is a root or not decrypted")));
        }
        let key = n.key().ok_or_else(|| Error::BadInput(format!("node {h} has no key")))?;
        let mut attrs = n.attributes();
        if let (true, Some(name)) = (h == top, rename) {
            attrs.set_name(name);
        }
        let raw_key = key.to_bytes();
        let mut e = json!({
            "h": h.to_b64(),
            "t": if n.is_file() { 0 } else { 1 },
            "a": attrs.encrypt_b64(&key.attr_key()),
            "k": b64::encode(&master.wrap(&raw_key)?),
        });
        if h != top {
            e["p"] = json!(n.parent().map(|p| p.to_b64()));
        }
        entries.push(e);
        keys.push((h.to_b64(), raw_key.to_vec()));
    }
    Ok((entries, keys))
}

impl Session {
    /// The keys of this session's trees.
    pub(crate) fn keyring(&self) -> Keyring {
        Keyring {
            user: Some(self.user()),
            master: Some(self.master().clone()),
            private_key: self.private_key().cloned(),
            ..Keyring::default()
        }
    }

    /// Fetches and decrypts the whole tree (`f`).
    pub async fn fetch_tree(&self) -> Result<Tree> {
        fetch_tree(&self.client, &self.auth(), self.keyring()).await
    }

    fn container(tree: &Tree, h: NodeHandle) -> Result<&Node> {
        let n = tree.node(h)?;
        if !n.is_container() {
            return Err(Error::BadInput(format!("{h} is not a folder")));
        }
        Ok(n)
    }

    /// Creates a folder; returns its handle.
    pub async fn mkdir(&self, tree: &mut Tree, parent: NodeHandle, name: &str) -> Result<NodeHandle> {
        let created = self.create_folders(tree, parent, &[name]).await?;
        created.last().copied().ok_or(Error::protocol("p", "no folder created"))
    }

    /// Creates the folders of a path below the cloud drive (`/a/b/c`), those missing; returns
    /// the last one. Missing levels are created in one request.
    pub async fn mkdir_p(&self, tree: &mut Tree, path: &str) -> Result<NodeHandle> {
        let mut cur = tree.root().ok_or(Error::NotFound("the cloud drive root".into()))?;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let existing = tree.children_named(cur, part).find(|n| n.is_container()).map(|n| n.handle());
            match existing {
                Some(h) => cur = h,
                None => {
                    let created = self.create_folders(tree, cur, &parts[i..]).await?;
                    return created.last().copied().ok_or(Error::protocol("p", "no folder created"));
                }
            }
        }
        Ok(cur)
    }

    /// Creates a chain of folders, each inside the previous one, below `parent`.
    async fn create_folders(&self, tree: &mut Tree, parent: NodeHandle, names: &[&str]) -> Result<Vec<NodeHandle>> {
        Self::container(tree, parent)?;
        let mut entries = Vec::with_capacity(names.len());
        let mut keys = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            check_name(name)?;
            let key = random_key();
            let mut e = json!({
                "h": placeholder(i),
                "t": 1,
                "a": Attributes::with_name(name).encrypt_b64(&key),
                "k": b64::encode(&self.master().wrap(key.as_bytes())?),
            });
            if i > 0 {
                e["p"] = json!(placeholder(i - 1));
            }
            entries.push(e);
            keys.push((placeholder(i), key.as_bytes().to_vec()));
        }
        self.put(tree, parent, entries, &keys).await
    }

    /// `p` into `parent`, with `cr` for the shares above it; the new nodes join the tree.
    pub(crate) async fn put(
        &self,
        tree: &mut Tree,
        parent: NodeHandle,
        entries: Vec<Value>,
        keys: &[(String, Vec<u8>)],
    ) -> Result<Vec<NodeHandle>> {
        let cmd = self.put_command(tree, parent, entries, keys)?;
        let reply = self.command(cmd).await?;
        add_put_reply(tree, &reply)
    }

    /// The `p` command that adds `entries` under `parent` (with `cr` inside shares).
    pub(crate) fn put_command(
        &self,
        tree: &Tree,
        parent: NodeHandle,
        entries: Vec<Value>,
        keys: &[(String, Vec<u8>)],
    ) -> Result<Value> {
        let mut cmd = json!({"a": "p", "t": parent.to_b64(), "n": entries, "i": request_tag()});
        if let Some(cr) = share_keys_cr(&shares_above(tree, parent), keys)? {
            cmd["cr"] = cr;
        }
        Ok(cmd)
    }

    /// Renames a node (its other attributes are kept).
    pub async fn rename(&self, tree: &mut Tree, h: NodeHandle, name: &str) -> Result<()> {
        check_name(name)?;
        let n = tree.node(h)?;
        let mut attrs = n.attributes();
        attrs.set_name(name);
        self.set_attributes(tree, h, attrs).await
    }

    /// Replaces a node's attributes (`a`), re-encrypted with the node's key.
    pub async fn set_attributes(&self, tree: &mut Tree, h: NodeHandle, attrs: Attributes) -> Result<()> {
        let cmd = self.attr_command(tree, h, &attrs)?;
        self.command(cmd).await?;
        tree.set_attributes(h, attrs);
        Ok(())
    }

    fn attr_command(&self, tree: &Tree, h: NodeHandle, attrs: &Attributes) -> Result<Value> {
        let n = tree.node(h)?;
        if n.kind().is_root() || !n.is_decrypted() {
            return Err(Error::BadInput(format!("the attributes of {h} cannot be changed")));
        }
        let key = n.attr_key().ok_or_else(|| Error::BadInput(format!("node {h} has no key")))?;
        Ok(json!({"a": "a", "n": h.to_b64(), "at": attrs.encrypt_b64(&key), "i": self.client().own_tag(h)}))
    }

    fn move_command(&self, tree: &Tree, h: NodeHandle, to: NodeHandle) -> Result<Value> {
        let n = tree.node(h)?;
        if n.kind().is_root() {
            return Err(Error::BadInput("a root cannot be moved".into()));
        }
        Self::container(tree, to)?;
        if tree.is_within(to, h) {
            return Err(Error::api("m", ErrorCode::Circular));
        }
        let mut cmd = json!({"a": "m", "n": h.to_b64(), "t": to.to_b64(), "i": request_tag()});
        let shares: Vec<_> = shares_above(tree, to).into_iter().filter(|(s, _)| !tree.is_within(h, *s)).collect();
        let keys: Vec<(String, Vec<u8>)> = tree
            .subtree(h)
            .into_iter()
            .filter_map(|d| tree.get(d)?.key().map(|k| (d.to_b64(), k.to_bytes().to_vec())))
            .collect();
        if let Some(cr) = share_keys_cr(&shares, &keys)? {
            cmd["cr"] = cr;
        }
        Ok(cmd)
    }

    /// Moves a node into another folder (`m`). Into its own subtree is
    /// [`crate::ErrorKind::Circular`].
    pub async fn move_node(&self, tree: &mut Tree, h: NodeHandle, to: NodeHandle) -> Result<()> {
        let cmd = self.move_command(tree, h, to)?;
        self.command(cmd).await?;
        tree.reparent(h, to);
        Ok(())
    }

    /// Copies a node (a file, or a folder with everything in it) into `to`, server-side: files
    /// are copied by handle with their keys re-wrapped, no data moves. Returns the new top node.
    pub async fn copy(&self, tree: &mut Tree, h: NodeHandle, to: NodeHandle, name: Option<&str>) -> Result<NodeHandle> {
        if let Some(n) = name {
            check_name(n)?;
        }
        Self::container(tree, to)?;
        let (entries, keys) = copy_entries(tree, h, name, self.master())?;
        let created = self.put(tree, to, entries, &keys).await?;
        created.first().copied().ok_or(Error::protocol("p", "nothing copied"))
    }

    /// Moves a node to the rubbish bin, recording its folder in the `rr` attribute (as the
    /// web client does) so [`Session::restore`] can put it back.
    pub async fn trash(&self, tree: &mut Tree, h: NodeHandle) -> Result<()> {
        let rubbish = tree.rubbish().ok_or(Error::NotFound("the rubbish bin".into()))?;
        let n = tree.node(h)?;
        let parent = n.parent().ok_or_else(|| Error::BadInput("a root cannot be deleted".into()))?;
        if tree.is_within(h, rubbish) {
            return Err(Error::BadInput(format!("{h} is already in the rubbish bin")));
        }
        let mut attrs = n.attributes();
        attrs.0.insert("rr".into(), json!(parent.to_b64()));
        let set = self.attr_command(tree, h, &attrs)?;
        let mv = self.move_command(tree, h, rubbish)?;
        for r in self.request(vec![set, mv]).await? {
            r?;
        }
        tree.set_attributes(h, attrs);
        tree.reparent(h, rubbish);
        Ok(())
    }

    /// Moves a node out of the rubbish bin to the folder it was deleted from (`rr`), or to the
    /// cloud drive root when that folder is gone; returns where it went.
    pub async fn restore(&self, tree: &mut Tree, h: NodeHandle) -> Result<NodeHandle> {
        let rubbish = tree.rubbish().ok_or(Error::NotFound("the rubbish bin".into()))?;
        if h == rubbish || !tree.is_within(h, rubbish) {
            return Err(Error::BadInput(format!("{h} is not in the rubbish bin")));
        }
        let n = tree.node(h)?;
        let target = n
            .restore_parent()
            .filter(|p| tree.get(*p).is_some_and(|p| p.is_container()) && !tree.is_within(*p, rubbish))
            .or(tree.root())
            .ok_or(Error::NotFound("the cloud drive root".into()))?;
        let mut attrs = n.attributes();
        attrs.0.remove("rr");
        let mv = self.move_command(tree, h, target)?;
        let set = self.attr_command(tree, h, &attrs)?;
        for r in self.request(vec![mv, set]).await? {
            r?;
        }
        tree.reparent(h, target);
        tree.set_attributes(h, attrs);
        Ok(target)
    }

    /// Deletes a node and everything below it for good (`d`).
    pub async fn remove(&self, tree: &mut Tree, h: NodeHandle) -> Result<()> {
        if tree.node(h)?.kind().is_root() {
            return Err(Error::BadInput("a root cannot be deleted".into()));
        }
        self.command(json!({"a": "d", "n": h.to_b64(), "i": request_tag()})).await?;
        tree.remove_subtree(h);
        Ok(())
    }

    /// Exports a node as a public link and returns it with its key. A file link's key is the
    /// file's node key; a folder is first shared with `EXP` under a share key (every node below
    /// gets its key wrapped with it, `cr`), and the link's key is that share key.
    pub async fn export(&self, tree: &mut Tree, h: NodeHandle) -> Result<Link> {
        let n = tree.node(h)?;
        if n.kind().is_root() || !n.is_decrypted() {
            return Err(Error::BadInput(format!("{h} cannot be exported")));
        }
        let link_cmd = json!({"a": "l", "n": h.to_b64(), "i": request_tag()});
        if n.kind() == NodeKind::File {
            let key = n.key().ok_or_else(|| Error::BadInput(format!("node {h} has no key")))?;
            let ph = self.command(link_cmd).await?;
            let ph = public_handle(&ph)?;
            tree.set_public_handle(h, Some(ph));
            return Ok(Link { kind: LinkKind::File, handle: ph, key: Some(key), sub: None });
        }
        // An existing share keeps its key: from a valid `ok`, an `sk` or the account's `^!keys`.
        // Without it nothing is sent (a new key would break the share and its links).
        let existing = tree.is_shared_out(h) || tree.public_handle(h).is_some();
        let no_key = |tree: &Tree| tree.key_manager.error().unwrap_or(Error::NoShareKey { node: h });
        let mut share_key = match tree.keyring.shares.get(&h).cloned() {
            Some(k) => k,
            None if existing => return Err(no_key(tree)),
            None => random_key(),
        };
        if tree.public_handle(h).is_none() {
            // The share first, alone: the link is only made once it stands with this key.
            let reply = self.command(self.export_share(tree, h, &share_key, existing)?).await?;
            if let Some(ok) = reply.get("ok").and_then(Value::as_str) {
                // The server keeps another `ok`: the folder was shared elsewhere since this tree
                // was read. Only that share's key will do: the one its `ok` holds when valid,
                // else one this tree learnt (from `^!keys`: such shares carry a dummy `ok`).
                let ha = reply.get("ha").and_then(Value::as_str).unwrap_or_default();
                tree.keyring.learn_outgoing(&h.to_b64(), ha, ok);
                share_key = tree.keyring.shares.get(&h).cloned().ok_or_else(|| no_key(tree))?;
                self.command(self.export_share(tree, h, &share_key, true)?).await?;
            }
        }
        let reply = self.command(link_cmd).await?;
        let ph = public_handle(&reply)?;
        tree.keyring.shares.insert(h, share_key.clone());
        tree.add_sharee(h, "EXP");
        tree.set_public_handle(h, Some(ph));
        // Today's official apps look for the key in `^!keys` (older clients in `ok`), in use
        // while the folder is shared (nothing is written when it is there and marked so). The
        // link works either way, so a failure here is only logged.
        if let Err(e) = self.remember_share_key(tree, h, &share_key).await {
            tracing::warn!(folder = %h, "the folder link's key was not written into ^!keys: {e}");
        }
        Ok(Link { kind: LinkKind::Folder, handle: ph, key: Some(NodeKey::Folder(share_key)), sub: None })
    }

    /// The `s2` that shares a folder as a folder link (`EXP`). A new share carries its key
    /// (`ok`, `ha`) and the keys of the nodes below wrapped with it (`cr`); an existing one
    /// (shared with users, keyed already) only gains `EXP`, its key never sent again.
    fn export_share(&self, tree: &Tree, h: NodeHandle, share_key: &Key128, existing: bool) -> Result<Value> {
        let mut share = json!({"a": "s2", "n": h.to_b64(), "s": [{"u": "EXP", "r": 0}], "i": request_tag()});
        if existing {
            return Ok(share);
        }
        let keys: Vec<(String, Vec<u8>)> = tree
            .subtree(h)
            .into_iter()
            .filter_map(|d| tree.get(d)?.key().map(|k| (d.to_b64(), k.to_bytes().to_vec())))
            .collect();
        let mut ok = *share_key.as_bytes();
        self.master().ecb_encrypt(&mut ok)?;
        share["ok"] = json!(b64::encode(&ok));
        share["ha"] = json!(handle_auth(self.master(), h));
        share["cr"] = json!(share_keys_cr(&[(h, share_key.clone())], &keys)?);
        Ok(share)
    }

    /// Removes a node's public link (and a folder's `EXP` share).
    pub async fn unexport(&self, tree: &mut Tree, h: NodeHandle) -> Result<()> {
        let n = tree.node(h)?;
        let unlink = json!({"a": "l", "n": h.to_b64(), "d": 1, "i": request_tag()});
        if n.kind() == NodeKind::File {
            self.command(unlink).await?;
        } else {
            let unshare = json!({"a": "s2", "n": h.to_b64(), "s": [{"u": "EXP", "r": ""}], "i": request_tag()});
            for r in self.request(vec![unshare, unlink]).await? {
                r?;
            }
            // The key stays known: the folder may still be shared with users, and its nodes
            // keep their entries for the share; exporting it again reuses it. Shared no more,
            // its key is marked unused in `^!keys` as the SDK does (a failure only logged: the
            // link is gone either way).
            tree.remove_sharee(h, "EXP");
            if !tree.is_shared_with_users(h) {
                tree.set_shared_out(h, false);
                if let Err(e) = self.share_key_unused(tree, h).await {
                    tracing::warn!(folder = %h, "the folder's key was not marked unused in ^!keys: {e}");
                }
            }
        }
        tree.set_public_handle(h, None);
        Ok(())
    }
}

fn public_handle(v: &Value) -> Result<NodeHandle> {
    let s =
        v.as_str().or_else(|| v.get("ph").and_then(Value::as_str)).ok_or(Error::protocol("l", "no public handle"))?;
    NodeHandle::from_b64(s).map_err(|_| Error::protocol("l", "bad public handle"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert!(check_name("a b.txt").is_ok());
        for bad in ["", "a/b", ".", "..", "a\0"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_ne!(placeholder(0), placeholder(1));
        assert_eq!(placeholder(7).len(), 8);
    }

    #[test]
    fn cr_wraps_every_node_for_every_share() {
        let s = (NodeHandle([1; 6]), Key128::new([2; 16]));
        let nodes = vec![("AAAAAAAA".to_string(), vec![3u8; 16]), ("BBBBBBBB".to_string(), vec![4u8; 32])];
        let cr = share_keys_cr(std::slice::from_ref(&s), &nodes).unwrap().unwrap();
        assert_eq!(cr[0], json!([s.0.to_b64()]));
        assert_eq!(cr[1], json!(["AAAAAAAA", "BBBBBBBB"]));
        let triples = cr[2].as_array().unwrap();
        assert_eq!(triples.len(), 6);
        let wrapped = b64::decode(triples[5].as_str().unwrap());
        assert_eq!(&s.1.unwrap(&wrapped).unwrap()[..], &[4u8; 32][..]);
        assert!(share_keys_cr(&[], &nodes).unwrap().is_none());
    }
}
