//! Nodes of a tree as the UI sees them ([`NodeDto`]). Handles from the UI arrive parsed, as
//! [`Handle`](crate::dto::Handle).

use std::collections::HashSet;

use mega_api::{Node, NodeHandle, NodeKind, Tree};

use crate::dto::{NodeDto, NodeKindDto};
use crate::error::{IpcError, IpcResult};

/// Turns nodes of one tree into DTOs; knows which names repeat in a folder.
pub struct Dtos<'a> {
    tree: &'a Tree,
    rubbish: Option<NodeHandle>,
    shares: HashSet<NodeHandle>,
}

impl<'a> Dtos<'a> {
    /// For a tree.
    pub fn new(tree: &'a Tree) -> Self {
        Dtos { tree, rubbish: tree.rubbish(), shares: tree.incoming_shares().iter().copied().collect() }
    }

    /// One node.
    pub fn node(&self, n: &Node) -> NodeDto {
        let h = n.handle();
        let parent = n.parent();
        let folder = n.kind() != NodeKind::File;
        let top = self.tree.top(h);
        let duplicate =
            !n.kind().is_root() && parent.is_some_and(|p| self.tree.children_named(p, n.name()).nth(1).is_some());
        NodeDto {
            handle: h.to_b64(),
            parent: parent.map(|p| p.to_b64()),
            name: self.name(n),
            kind: if folder { NodeKindDto::Folder } else { NodeKindDto::File },
            size: n.size(),
            mtime: n.modified(),
            has_thumbnail: n.file_attributes().is_some_and(|fa| fa.contains(":0*") || fa.starts_with("0*")),
            duplicate,
            exported: self.tree.public_handle(h).is_some(),
            shared: top.is_some_and(|t| self.shares.contains(&t)),
            in_rubbish: self.rubbish.is_some_and(|r| r != h && self.tree.is_within(h, r)),
            has_subfolders: folder && self.tree.children(h).any(|c| c.kind() != NodeKind::File),
        }
    }

    fn name(&self, n: &Node) -> String {
        match n.kind() {
            NodeKind::Root => "Cloud drive".into(),
            NodeKind::Rubbish => "Rubbish bin".into(),
            NodeKind::Inbox => "Vault".into(),
            _ if !n.is_decrypted() => format!("[undecryptable {}]", n.handle()),
            _ => n.name().to_string(),
        }
    }

    /// A node by handle.
    pub fn by_handle(&self, h: NodeHandle) -> IpcResult<NodeDto> {
        self.tree.get(h).map(|n| self.node(n)).ok_or_else(|| IpcError::not_found(format!("no node {h}")))
    }

    /// From the root down to `h` itself.
    pub fn path(&self, h: NodeHandle) -> Vec<NodeDto> {
        let mut out = Vec::new();
        let mut at = Some(h);
        while let Some(x) = at {
            let Some(n) = self.tree.get(x) else { break };
            out.push(self.node(n));
            at = n.parent();
        }
        out.reverse();
        out
    }
}
