//! Following the account's event channel: each batch is applied to the shared tree, and the
//! folders whose listings changed are named (parents before and after a move, the parent of a
//! node removed), so a face refreshes just those. A `Reload` fetches the tree again.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use mega_api::{ActionPacket, Change, ErrorKind, EventBatch, NodeHandle, Session, Tree};

/// How long to wait after the channel failed for another reason than an ended session (the
/// client has already retried by its policy).
const AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Follows the event channel until the session ends: after each batch, `changed` gets the
/// folders whose listings changed (every folder after a reload), and the node cache (when
/// given) is written. Returns the error that ended
/// the session (the face signs out).
pub async fn follow(
    session: Session,
    tree: Arc<tokio::sync::Mutex<Tree>>,
    mut cache: Option<crate::cache::Writer>,
    mut changed: impl FnMut(Vec<NodeHandle>) + Send,
) -> mega_api::Error {
    let mut events = session.events(&*tree.lock().await);
    loop {
        let batch = match events.next().await {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::SessionExpired => return e,
            Err(e) => {
                tracing::warn!("event channel: {e}");
                tokio::time::sleep(AFTER_FAILURE).await;
                continue;
            }
        };
        let folders = match &batch {
            EventBatch::Reload => match session.fetch_tree().await {
                Ok(fresh) => {
                    let mut t = tree.lock().await;
                    *t = fresh;
                    events = session.events(&t);
                    if let Some(Err(e)) = cache.as_mut().map(|c| c.rewrite(&mut t)) {
                        tracing::warn!("the node cache could not be written; it is no longer kept: {e}");
                        cache = None;
                    }
                    t.nodes().filter(|n| n.is_container()).map(|n| n.handle()).collect()
                }
                Err(e) => {
                    tracing::warn!("reloading the tree: {e}");
                    continue;
                }
            },
            EventBatch::Packets { .. } => {
                let mut t = tree.lock().await;
                let folders = apply(&session, &mut t, &batch).await;
                // Written after each batch: the next start catches up from here.
                if let Some(Err(e)) = cache.as_mut().map(|c| c.write(&mut t)) {
                    tracing::warn!("the node cache could not be written; it is no longer kept: {e}");
                    cache = None;
                }
                folders
            }
        };
        if !folders.is_empty() {
            changed(folders);
        }
    }
}

/// Applies a batch and names the folders whose listings changed (parents before and after),
/// in handle order, each once. Where the batch says the account's `^!keys` changed, it is read
/// again ([`Session::apply_batch`]) and the nodes its new share keys open count as changed; if
/// that read fails, the batch is applied all the same and every folder is named.
pub async fn apply(session: &Session, tree: &mut Tree, batch: &EventBatch) -> Vec<NodeHandle> {
    // A node removed is gone from the tree after the batch: its parent is read before.
    let mut parent_before = HashMap::new();
    if let EventBatch::Packets { packets, .. } = batch {
        for p in packets {
            if let ActionPacket::Removed { handle, .. } = p {
                if let Some(parent) = tree.get(*handle).and_then(|n| n.parent()) {
                    parent_before.insert(*handle, parent);
                }
            }
        }
    }
    let changes = match session.apply_batch(tree, batch).await {
        Ok(changes) => changes,
        Err(e) => {
            tracing::warn!("the key manager could not be read again after a change: {e}");
            return tree.nodes().filter(|n| n.is_container()).map(|n| n.handle()).collect();
        }
    };
    let mut out = BTreeSet::new();
    for c in changes {
        match c {
            Change::Added(h) | Change::Updated(h) => out.extend(tree.get(h).and_then(|n| n.parent())),
            Change::Moved { from, to, .. } => out.extend(from.into_iter().chain(to)),
            Change::Removed(h) => {
                out.extend(parent_before.get(&h).copied());
                out.insert(h);
            }
        }
    }
    out.into_iter().collect()
}
