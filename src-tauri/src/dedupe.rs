//! Duplicate names in one folder, resolved: every copy renamed apart (`a (1).txt`), or one
//! kept (the newest, the oldest or the largest) and the others moved to the rubbish bin, never
//! deleted for good.

use mega_api::{Node, NodeHandle, Session, Tree};

use crate::dto::DuplicateMode;
use crate::error::IpcResult;

/// `name (n).ext`.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

fn mtime(n: &Node) -> i64 {
    n.mtime().unwrap_or_else(|| n.created())
}

/// The node to keep among duplicates, for the keeping modes.
fn keeper(mode: DuplicateMode, nodes: &[&Node]) -> Option<NodeHandle> {
    let best = match mode {
        DuplicateMode::Rename => return None,
        DuplicateMode::Newest => nodes.iter().max_by_key(|n| (mtime(n), n.handle())),
        DuplicateMode::Oldest => nodes.iter().min_by_key(|n| (mtime(n), n.handle())),
        DuplicateMode::Largest => nodes.iter().max_by_key(|n| (n.size(), mtime(n))),
    };
    best.map(|n| n.handle())
}

/// Resolves every duplicate name directly in `folder`.
pub async fn resolve(session: &Session, tree: &mut Tree, folder: NodeHandle, mode: DuplicateMode) -> IpcResult<()> {
    tree.node(folder)?;
    for (name, handles) in tree.duplicates(folder) {
        let nodes: Vec<&Node> = handles.iter().filter_map(|h| tree.get(*h)).collect();
        match keeper(mode, &nodes) {
            Some(keep) => {
                for h in handles.into_iter().filter(|h| *h != keep) {
                    session.trash(tree, h).await?;
                }
            }
            None => {
                let mut n = 0;
                for h in handles.into_iter().skip(1) {
                    let new_name = loop {
                        n += 1;
                        let candidate = numbered(&name, n);
                        if tree.children_named(folder, &candidate).next().is_none() {
                            break candidate;
                        }
                    };
                    session.rename(tree, h, &new_name).await?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("a.txt", 1), "a (1).txt");
        assert_eq!(numbered("archive.tar.gz", 2), "archive.tar (2).gz");
        assert_eq!(numbered(".bashrc", 1), ".bashrc (1)");
        assert_eq!(numbered("notes", 3), "notes (3)");
    }
}
