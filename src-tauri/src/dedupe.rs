//! Duplicate names in one folder, resolved: every copy renamed apart (`a (1).txt`), or one
//! kept (the newest, the oldest or the largest) and the others moved to the rubbish bin, never
//! deleted for good. Which one to keep and the free names come from `mega_api::tree`.

use mega_api::tree::{keeper, Keep, Numbering};
use mega_api::{Node, NodeHandle, Session, Tree};

use crate::dto::DuplicateMode;
use crate::error::IpcResult;

/// Resolves every duplicate name directly in `folder`.
pub async fn resolve(session: &Session, tree: &mut Tree, folder: NodeHandle, mode: DuplicateMode) -> IpcResult<()> {
    tree.node(folder)?;
    let keep = match mode {
        DuplicateMode::Rename => None,
        DuplicateMode::Newest => Some(Keep::Newest),
        DuplicateMode::Oldest => Some(Keep::Oldest),
        DuplicateMode::Largest => Some(Keep::Largest),
    };
    for (name, handles) in tree.duplicates(folder) {
        let nodes: Vec<&Node> = handles.iter().filter_map(|h| tree.get(*h)).collect();
        match keep.and_then(|keep| keeper(keep, &nodes)) {
            Some(kept) => {
                for h in handles.into_iter().filter(|h| *h != kept) {
                    session.trash(tree, h).await?;
                }
            }
            None => {
                let mut n = 0;
                for h in handles.into_iter().skip(1) {
                    let new_name = tree.free_numbered_name(folder, &name, Numbering::Parenthesised, &mut n);
                    session.rename(tree, h, &new_name).await?;
                }
            }
        }
    }
    Ok(())
}
