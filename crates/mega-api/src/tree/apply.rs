//! Action packets (spec §6.6) and how they change the tree. A `d` followed by a `t` carrying
//! the same handles is a move, reported as one [`Change::Moved`].

use std::collections::HashMap;

use mega_proto::attr::Attributes;
use mega_proto::NodeHandle;
use serde::Deserialize;
use serde_json::Value;

use super::{RawNode, Tree};

/// One action packet, as far as the tree cares.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ActionPacket {
    /// `t`: new nodes (upload, mkdir, copy, import, or the second half of a move).
    Nodes(Vec<RawNode>),
    /// `u`: new attributes of a node.
    Attributes {
        /// The node.
        handle: NodeHandle,
        /// The encrypted attributes.
        at: String,
    },
    /// `d`: a node and its subtree removed (`moving`: the first half of a move).
    Removed {
        /// The node.
        handle: NodeHandle,
        /// `m:1`: a `t` re-adding it follows.
        moving: bool,
    },
    /// `fa`: the file-attribute string of a node changed.
    FileAttributes {
        /// The node.
        handle: NodeHandle,
        /// The new string.
        fa: String,
    },
    /// `ph`: a public link was created (`public` set) or removed.
    Link {
        /// The exported node.
        handle: NodeHandle,
        /// The public handle, `None` when the link was removed.
        public: Option<NodeHandle>,
    },
    /// `s2` (or `s`): a share of a folder was made or changed (`shared`), or one of its
    /// sharings (with a user, or `EXP`) was removed.
    Share {
        /// The shared folder.
        handle: NodeHandle,
        /// Whether the packet made or changed a share (it carries an access level `r`).
        shared: bool,
        /// `ok` and `ha`, when the packet carries them (dummies from today's official apps).
        key: Option<(String, String)>,
        /// The sharee the packet is about (a user handle, or `EXP`), when it names one.
        user: Option<String>,
    },
    /// `ua` naming `^!keys`: the account's key manager was written (by another client, or by
    /// this one), possibly with new share keys; see [`Tree::key_manager_stale`].
    KeyManager {
        /// The attribute's new version, when the packet gives it.
        version: Option<String>,
    },
    /// Any other packet (contacts, shares, account events): not applied to the tree.
    Other(String),
}

impl ActionPacket {
    /// Reads a packet from its JSON.
    pub fn parse(v: &Value) -> Self {
        let name = v.get("a").and_then(Value::as_str).unwrap_or("");
        let handle = |k: &str| v.get(k).and_then(Value::as_str).and_then(|h| NodeHandle::from_b64(h).ok());
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let parsed = match name {
            "t" => v
                .get("t")
                .and_then(|t| t.get("f"))
                // Each node is read leniently: one malformed node is left out when the packet
                // is applied, the others land.
                .and_then(|f| Vec::<RawNode>::deserialize(f).ok())
                .map(ActionPacket::Nodes),
            "u" => handle("n").zip(text("at")).map(|(handle, at)| ActionPacket::Attributes { handle, at }),
            "d" => handle("n")
                .map(|handle| ActionPacket::Removed { handle, moving: v.get("m").and_then(Value::as_i64) == Some(1) }),
            "fa" => handle("n").zip(text("fa")).map(|(handle, fa)| ActionPacket::FileAttributes { handle, fa }),
            "ph" => handle("h").map(|h| {
                let removed = v.get("d").and_then(Value::as_i64) == Some(1);
                ActionPacket::Link { handle: h, public: if removed { None } else { handle("ph") } }
            }),
            "s2" | "s" => handle("n").map(|h| ActionPacket::Share {
                handle: h,
                shared: v.get("r").is_some_and(|r| !r.is_null() && r.as_str() != Some("")),
                key: text("ok").zip(text("ha")),
                user: text("u"),
            }),
            "ua" => {
                let names = v.get("ua").and_then(Value::as_array);
                let at = names.and_then(|n| n.iter().position(|n| n.as_str() == Some(mega_proto::keymgr::ATTRIBUTE)));
                at.map(|i| ActionPacket::KeyManager {
                    version: v.get("v").and_then(|v| v.get(i)).and_then(Value::as_str).map(str::to_string),
                })
            }
            _ => None,
        };
        parsed.unwrap_or_else(|| ActionPacket::Other(name.to_string()))
    }
}

/// What applying packets changed, for a UI to refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new node (and, for a folder, what came with it).
    Added(NodeHandle),
    /// A node's attributes, file attributes or link changed.
    Updated(NodeHandle),
    /// A node moved to another folder.
    Moved {
        /// The node.
        handle: NodeHandle,
        /// The folder it left.
        from: Option<NodeHandle>,
        /// The folder it is in now.
        to: Option<NodeHandle>,
    },
    /// A node and everything below it is gone.
    Removed(NodeHandle),
}

impl Tree {
    /// Applies action packets in order and says what changed. Applying a packet twice, or a
    /// packet for a change already applied locally, leaves the tree the same.
    pub fn apply(&mut self, packets: &[ActionPacket]) -> Vec<Change> {
        let mut changes = Vec::new();
        // Removed subtrees by handle with their old parent, until the end of the batch: a `t`
        // that brings them back turns the removal into a move.
        let mut removed: HashMap<NodeHandle, Option<NodeHandle>> = HashMap::new();
        let mut removed_tops: Vec<NodeHandle> = Vec::new();
        for packet in packets {
            match packet {
                ActionPacket::Nodes(nodes) => {
                    let mut learnt_share = false;
                    for raw in nodes {
                        learnt_share |= raw.sk.is_some();
                        let Some((h, previous)) = self.add_raw(raw) else { continue };
                        let parent = self.get(h).and_then(|n| n.parent());
                        if let Some(old_parent) = removed.remove(&h) {
                            if removed_tops.contains(&h) {
                                removed_tops.retain(|&t| t != h);
                                if old_parent != parent {
                                    changes.push(Change::Moved { handle: h, from: old_parent, to: parent });
                                }
                            }
                            continue;
                        }
                        changes.push(match previous {
                            None => Change::Added(h),
                            Some(old) if old != parent => Change::Moved { handle: h, from: old, to: parent },
                            Some(_) => Change::Updated(h),
                        });
                    }
                    if learnt_share {
                        changes.extend(self.unseal().into_iter().map(Change::Updated));
                    }
                }
                ActionPacket::Attributes { handle, at } => {
                    let attrs =
                        self.get(*handle).and_then(|n| n.attr_key()).and_then(|k| Attributes::decrypt_b64(at, &k).ok());
                    if let Some(attrs) = attrs {
                        self.set_attributes(*handle, attrs);
                        changes.push(Change::Updated(*handle));
                    }
                }
                ActionPacket::Removed { handle, .. } => {
                    let gone = self.remove_subtree(*handle);
                    if let Some(top) = gone.first() {
                        removed_tops.push(*handle);
                        removed.insert(*handle, top.parent());
                        for n in &gone[1..] {
                            removed.insert(n.handle(), n.parent());
                        }
                    }
                }
                ActionPacket::FileAttributes { handle, fa } => {
                    if self.get(*handle).is_some() {
                        self.set_file_attributes(*handle, fa);
                        changes.push(Change::Updated(*handle));
                    }
                }
                ActionPacket::Link { handle, public } => {
                    self.set_public_handle(*handle, *public);
                    if self.get(*handle).is_some() {
                        changes.push(Change::Updated(*handle));
                    }
                }
                ActionPacket::Share { handle, shared, key, user } => {
                    // Only this account's own folders are its outgoing shares. A removal names
                    // its sharee, which is forgotten; other sharings of the folder keep it
                    // marked (with no sharee named, it stays marked: a later export asks the
                    // server, which answers with the key it keeps).
                    let own = self.get(*handle).is_some_and(|n| Some(n.owner()) == self.keyring.user);
                    if let (false, true, Some(user)) = (*shared, own, user) {
                        self.remove_sharee(*handle, user);
                    }
                    if *shared && own {
                        self.set_shared_out(*handle, true);
                        if let Some(user) = user {
                            self.add_sharee(*handle, user);
                        }
                        let (ok, ha) = key.as_ref().map(|(k, ha)| (k.as_str(), ha.as_str())).unwrap_or_default();
                        if self.keyring.learn_outgoing(&handle.to_b64(), ha, ok) {
                            changes.extend(self.unseal().into_iter().map(Change::Updated));
                        }
                    }
                }
                ActionPacket::KeyManager { version } => self.key_manager_written(version.as_deref()),
                ActionPacket::Other(_) => {}
            }
        }
        changes.extend(removed_tops.into_iter().map(Change::Removed));
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_packets() {
        let h = "AAAAAAAB";
        match ActionPacket::parse(&json!({"a": "d", "n": h, "m": 1})) {
            ActionPacket::Removed { moving: true, .. } => {}
            p => panic!("{p:?}"),
        }
        match ActionPacket::parse(&json!({"a": "ph", "h": h, "ph": "AAAAAAAC", "d": 1})) {
            ActionPacket::Link { public: None, .. } => {}
            p => panic!("{p:?}"),
        }
        match ActionPacket::parse(&json!({"a": "t", "t": {"f": [{"h": h, "t": 1}]}})) {
            ActionPacket::Nodes(n) => assert_eq!(n[0].h, h),
            p => panic!("{p:?}"),
        }
        assert!(matches!(ActionPacket::parse(&json!({"a": "ua"})), ActionPacket::Other(n) if n == "ua"));
        assert!(matches!(ActionPacket::parse(&json!({"a": "u"})), ActionPacket::Other(_)));
        let ua = json!({"a": "ua", "u": "AAAAAAAAAAA", "ua": ["+puEd255", "^!keys"], "v": ["v1", "v2"]});
        assert!(matches!(ActionPacket::parse(&ua), ActionPacket::KeyManager { version: Some(v) } if v == "v2"));
        let s2 = json!({"a": "s2", "n": h, "o": "AAAAAAAAAAA", "u": "EXP", "r": 0, "ok": "b", "ha": "c"});
        assert!(
            matches!(ActionPacket::parse(&s2), ActionPacket::Share { shared: true, key: Some((k, ha)), .. } if k == "b" && ha == "c")
        );
        let gone = json!({"a": "s2", "n": h, "o": "AAAAAAAAAAA", "u": "EXP"});
        assert!(matches!(ActionPacket::parse(&gone), ActionPacket::Share { shared: false, key: None, .. }));
        let other = json!({"a": "ua", "ua": ["*keyring"], "v": ["v1"]});
        assert!(matches!(ActionPacket::parse(&other), ActionPacket::Other(n) if n == "ua"));
    }
}
