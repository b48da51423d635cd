//! Public links: parsing every form (password-protected `#P!` ones included), opening a file
//! link (`g` with `p`: name, size, and a check that the key fits), listing a folder link
//! (`f` with `&n=`), and importing either into the own drive.

use std::fmt;

use mega_proto::attr::Attributes;
use mega_proto::link::{self, Link, LinkKind, ParsedLink};
use mega_proto::{b64, FileKey, Key128, NodeHandle, NodeKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::client::{request_tag, Auth, Client};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::ops::{check_name, copy_entries, share_keys_cr, shares_above};
use crate::tree::{fetch_tree, Keyring, Tree};
use crate::Session;

/// Parses a link in any form. A `#P!` link needs its password (the PBKDF2 runs on a blocking
/// thread); a wrong one is an error of kind [`crate::ErrorKind::Crypto`].
pub async fn resolve_link(input: &str, password: Option<&str>) -> Result<Link> {
    match link::parse(input)? {
        ParsedLink::Plain(l) => Ok(l),
        ParsedLink::Protected(payload) => {
            let password = Zeroizing::new(
                password.ok_or_else(|| Error::BadInput("this link is password-protected".into()))?.to_string(),
            );
            tokio::task::spawn_blocking(move || mega_proto::protected::decrypt(&payload, &password))
                .await
                .map_err(|_| Error::Cancelled)?
                .map_err(Error::from)
        }
    }
}

/// Protects a link with a password: the `#P!` URL (PBKDF2 on a blocking thread).
pub async fn protect_link(link: &Link, password: &str) -> Result<String> {
    let link = link.clone();
    let password = Zeroizing::new(password.to_string());
    tokio::task::spawn_blocking(move || mega_proto::protected::encrypt(&link, &password, &mut rand_core::OsRng))
        .await
        .map_err(|_| Error::Cancelled)?
        .map_err(Error::from)
}

/// An opened public file link: what `g` says about it, decrypted with the link's key.
#[derive(Clone)]
pub struct PublicFile {
    /// The public handle.
    pub handle: NodeHandle,
    /// The decrypted name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// All decrypted attributes.
    pub attributes: Attributes,
    key: FileKey,
}

impl fmt::Debug for PublicFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicFile")
            .field("handle", &self.handle)
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl PublicFile {
    /// The file key (content key, nonce, meta-MAC).
    pub fn key(&self) -> &FileKey {
        &self.key
    }
}

fn link_file_key(link: &Link) -> Result<FileKey> {
    if link.kind != LinkKind::File {
        return Err(Error::BadInput("not a file link".into()));
    }
    match link.require_key()? {
        NodeKey::File(k) => Ok(k.clone()),
        NodeKey::Folder(_) => Err(Error::BadInput("a file link needs a 32-byte key".into())),
    }
}

fn link_folder_key(link: &Link) -> Result<Key128> {
    if link.kind != LinkKind::Folder {
        return Err(Error::BadInput("not a folder link".into()));
    }
    match link.require_key()? {
        NodeKey::Folder(k) => Ok(k.clone()),
        NodeKey::File(_) => Err(Error::BadInput("a folder link needs a 16-byte key".into())),
    }
}

impl Client {
    /// Opens a public file link: name and size, checked against the key (a wrong key is an
    /// error of kind [`crate::ErrorKind::Crypto`]).
    pub async fn open_file_link(&self, link: &Link) -> Result<PublicFile> {
        let key = link_file_key(link)?;
        let r = self.command(&Auth::Anonymous, json!({"a": "g", "p": link.handle.to_b64()})).await?;
        let at = r.get("at").and_then(Value::as_str).ok_or(Error::protocol("g", "no attributes"))?;
        let attributes = Attributes::decrypt_b64(at, &key.attr_key())?;
        Ok(PublicFile {
            handle: link.handle,
            name: attributes.name().unwrap_or_default().to_string(),
            size: r.get("s").and_then(Value::as_u64).unwrap_or(0),
            attributes,
            key,
        })
    }

    /// Opens a public folder link (nothing is fetched yet: see [`FolderLink::fetch_tree`]).
    pub fn open_folder_link(&self, link: &Link) -> Result<FolderLink> {
        let key = link_folder_key(link)?;
        Ok(FolderLink { client: self.clone(), handle: link.handle, key })
    }
}

/// A public folder link, to list and download from without an account.
#[derive(Clone)]
pub struct FolderLink {
    pub(crate) client: Client,
    handle: NodeHandle,
    key: Key128,
}

impl fmt::Debug for FolderLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FolderLink").field("handle", &self.handle).finish_non_exhaustive()
    }
}

impl FolderLink {
    /// The public handle.
    pub fn handle(&self) -> NodeHandle {
        self.handle
    }

    pub(crate) fn auth(&self) -> Auth {
        Auth::Folder(self.handle)
    }

    /// Lists the shared folder and everything below it, decrypted with the link key. The
    /// tree's [`Tree::root`] is the shared folder.
    pub async fn fetch_tree(&self) -> Result<Tree> {
        let keyring = Keyring { link_key: Some(self.key.clone()), ..Keyring::default() };
        fetch_tree(&self.client, &self.auth(), keyring).await
    }

    /// The folder link's event channel from a tree's position (`sc` with `&n=`, no sid).
    pub fn events(&self, tree: &Tree) -> Events {
        Events::new(self.client.clone(), self.auth(), tree.sn().to_string())
    }
}

impl Session {
    /// Imports a public file into `target` (`p` with the public handle): the new node keeps
    /// the file's key and gets the link's name, or `name`.
    pub async fn import_file(
        &self,
        tree: &mut Tree,
        file: &PublicFile,
        target: NodeHandle,
        name: Option<&str>,
    ) -> Result<NodeHandle> {
        let mut attrs = file.attributes.clone();
        if let Some(n) = name {
            check_name(n)?;
            attrs.set_name(n);
        }
        let node_key = Zeroizing::new(file.key.to_node_key());
        let entry = json!({
            "ph": file.handle.to_b64(),
            "t": 0,
            "a": attrs.encrypt_b64(&file.key.attr_key()),
            "k": b64::encode(&self.master().wrap(&node_key[..])?),
        });
        let keys = [(file.handle.to_b64(), node_key.to_vec())];
        let created = self.put(tree, target, vec![entry], &keys).await?;
        created.first().copied().ok_or(Error::protocol("p", "nothing imported"))
    }

    /// Imports a node of a folder link (a file, or a folder with everything below it) into
    /// `target`, keeping the keys. The request carries both the session and the folder link
    /// (`&sid=..&n=..`) so the server can reach the link's nodes.
    pub async fn import_from_folder(
        &self,
        tree: &mut Tree,
        folder: &FolderLink,
        folder_tree: &Tree,
        node: NodeHandle,
        target: NodeHandle,
    ) -> Result<NodeHandle> {
        tree.node(target).and_then(|t| {
            if t.is_container() {
                Ok(())
            } else {
                Err(Error::BadInput(format!("{target} is not a folder")))
            }
        })?;
        let (entries, keys) = copy_entries(folder_tree, node, None, self.master())?;
        let mut cmd = json!({"a": "p", "t": target.to_b64(), "n": entries, "i": request_tag()});
        if let Some(cr) = share_keys_cr(&shares_above(tree, target), &keys)? {
            cmd["cr"] = cr;
        }
        let auth = Auth::SessionInFolder(self.sid_param().clone(), folder.handle);
        let reply = self.client.command(&auth, cmd).await?;
        let created = crate::ops::add_put_reply(tree, &reply)?;
        created.first().copied().ok_or(Error::protocol("p", "nothing imported"))
    }
}
