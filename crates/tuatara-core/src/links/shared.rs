//! "Shared by me": every link this account has exported, read from the tree (a node with a
//! public handle), with the link and its key where the tree holds the key, and its status asked
//! of the service by public handle as the ledger's re-checks do ([`super::rot`]): alive,
//! removed or taken down.

use mega_api::{Client, Link, LinkKind, NodeHandle, Tree};

use super::check::Progress;
use super::rot::{probe_ids, Health};

/// One exported node.
#[derive(Clone)]
pub struct SharedLink {
    /// The node.
    pub node: NodeHandle,
    /// File or folder.
    pub kind: LinkKind,
    /// Its name.
    pub name: String,
    /// Its path in the account ([`Tree::path`]).
    pub path: String,
    /// Bytes (a folder: every file below it).
    pub size: u64,
    /// The link with its key, or without one where the tree does not hold the key (a folder
    /// exported by another client whose share key is not known here).
    pub link: Link,
}

impl std::fmt::Debug for SharedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The link carries its key: left out.
        f.debug_struct("SharedLink")
            .field("node", &self.node)
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("size", &self.size)
            .field("has_key", &self.link.key.is_some())
            .finish_non_exhaustive()
    }
}

impl SharedLink {
    /// Its ledger-style id (`file:PH`, `folder:PH`): what the status is asked by.
    pub fn id(&self) -> String {
        mega_transfer::watch::link_id(&Link { key: None, ..self.link.clone() })
    }
}

/// Every node of the account that has a public link, by path. Nodes in the rubbish bin are
/// listed too (their links still open).
pub fn shared_links(tree: &Tree) -> Vec<SharedLink> {
    let mut out: Vec<SharedLink> = tree
        .exported()
        .filter_map(|(h, _)| {
            let n = tree.get(h)?;
            let link = tree.public_link(h)?;
            let size = match link.kind {
                LinkKind::File => n.size(),
                LinkKind::Folder => {
                    tree.subtree(h).iter().filter_map(|d| tree.get(*d)).filter(|d| d.is_file()).map(|d| d.size()).sum()
                }
            };
            Some(SharedLink {
                node: h,
                kind: link.kind,
                name: n.name().to_string(),
                path: tree.path(h).unwrap_or_else(|| h.to_b64()),
                size,
                link,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path).then(a.node.to_b64().cmp(&b.node.to_b64())));
    out
}

/// What the service says of each link now (file links many to a request, folders by their
/// listing), in their order: the status and why it is not alive.
pub async fn check_shared(
    client: &Client,
    links: &[SharedLink],
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<(Health, Option<String>)> {
    let ids: Vec<String> = links.iter().map(SharedLink::id).collect();
    progress(Progress::Checking(ids.len()));
    probe_ids(client, &ids, progress).await.into_iter().map(|(status, reason, _)| (status, reason)).collect()
}
