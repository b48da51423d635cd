//! Duplicate names in a folder (MEGA allows several nodes of one name side by side), resolved:
//! every copy renamed apart, or one kept and the others moved to the rubbish bin (or deleted,
//! when asked). Where one is kept, folders of the same name are merged first, so nothing inside
//! them is lost. Which one to keep and the free names come from `mega_api::tree`; the faces
//! choose the options, ask the user where the mode says so, and show the actions.

use mega_api::tree::{keeper, Keep, Numbering};
use mega_api::{Node, NodeHandle, Session, Tree};

use crate::error::Error;
use crate::path_of;

/// How duplicates are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report them, change nothing.
    Skip,
    /// Ask (the `ask` callback) for each group.
    Ask,
    /// Give each a distinct name.
    Rename,
    /// Keep one, remove the others.
    Keep(Keep),
}

/// What to do with one group of duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing.
    Skip,
    /// Keep this one, remove the others.
    Keep(NodeHandle),
    /// Rename them apart.
    Rename,
}

/// The options of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// How.
    pub mode: Mode,
    /// Folders below too.
    pub recursive: bool,
    /// Report what would be done, change nothing.
    pub dry_run: bool,
    /// Delete for good instead of moving to the rubbish bin.
    pub permanent: bool,
    /// How new names are numbered.
    pub numbering: Numbering,
    /// Rename the first of a group as well (rclone's way) instead of leaving it its name.
    pub rename_first: bool,
}

/// One thing done (or, in a dry run, that would be done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A group left alone.
    Skip {
        /// The path they share.
        path: String,
        /// How many share it.
        count: usize,
    },
    /// A node removed.
    Remove {
        /// Its path.
        path: String,
        /// Its handle.
        handle: NodeHandle,
        /// Deleted for good (else moved to the rubbish bin).
        permanent: bool,
    },
    /// A node moved into the folder of the same name that is kept.
    Merge {
        /// Its path before.
        path: String,
        /// The kept folder's path.
        into: String,
    },
    /// A node renamed.
    Rename {
        /// Its path before.
        path: String,
        /// Its new name.
        to: String,
    },
}

/// A run that stopped part-way.
#[derive(Debug, thiserror::Error)]
#[error("{}{source}", .path.as_ref().map(|p| format!("{p}: {} changes were made before this failed: ", .done)).unwrap_or_default())]
pub struct Halted {
    /// Why.
    #[source]
    pub source: Error,
    /// The node it stopped at (`None`: the `ask` callback failed).
    pub path: Option<String>,
    /// The actions done before.
    pub done: usize,
}

struct Run<'a, A, R> {
    session: &'a Session,
    options: Options,
    ask: A,
    report: R,
    actions: Vec<Action>,
}

/// Resolves the duplicate names in `top` (and below, if recursive). `ask` decides a group
/// when the mode is [`Mode::Ask`] (given the shared path and the nodes); `report` sees each
/// action as it happens. Returns every action.
pub async fn dedupe<A, R>(
    session: &Session,
    tree: &mut Tree,
    top: NodeHandle,
    options: Options,
    ask: A,
    report: R,
) -> Result<Vec<Action>, Halted>
where
    A: FnMut(&str, &[&Node]) -> Result<Decision, Error>,
    R: FnMut(&Action),
{
    let halted = |source: Error| Halted { source, path: None, done: 0 };
    if !tree.node(top).map_err(|e| halted(e.into()))?.is_container() {
        return Err(halted(Error::Invalid("dedupe works on a folder".into())));
    }
    let mut run = Run { session, options, ask, report, actions: Vec::new() };
    run.folders(tree, top).await?;
    Ok(run.actions)
}

impl<A, R> Run<'_, A, R>
where
    A: FnMut(&str, &[&Node]) -> Result<Decision, Error>,
    R: FnMut(&Action),
{
    fn did(&mut self, action: Action) {
        (self.report)(&action);
        self.actions.push(action);
    }

    fn halted(&self, e: mega_api::Error, path: &str) -> Halted {
        Halted { source: e.into(), path: Some(path.to_string()), done: self.actions.len() }
    }

    fn keeps_one(&self) -> bool {
        matches!(self.options.mode, Mode::Keep(_))
    }

    async fn remove(&mut self, tree: &mut Tree, h: NodeHandle) -> Result<(), Halted> {
        let path = path_of(tree, h);
        let permanent = self.options.permanent;
        if !self.options.dry_run {
            let r = if permanent { self.session.remove(tree, h).await } else { self.session.trash(tree, h).await };
            r.map_err(|e| self.halted(e, &path))?;
        }
        self.did(Action::Remove { path, handle: h, permanent });
        Ok(())
    }

    async fn merge_folders(&mut self, tree: &mut Tree, folder: NodeHandle) -> Result<(), Halted> {
        for (_, nodes) in tree.duplicates(folder) {
            let folders: Vec<NodeHandle> =
                nodes.iter().copied().filter(|h| tree.get(*h).is_some_and(|n| n.is_container())).collect();
            let Some((&keep, others)) = folders.split_first() else { continue };
            for &other in others {
                let kids: Vec<NodeHandle> = tree.children(other).map(|n| n.handle()).collect();
                for kid in kids {
                    let path = path_of(tree, kid);
                    if !self.options.dry_run {
                        self.session.move_node(tree, kid, keep).await.map_err(|e| self.halted(e, &path))?;
                    }
                    self.did(Action::Merge { path, into: path_of(tree, keep) });
                }
                self.remove(tree, other).await?;
            }
        }
        Ok(())
    }

    fn decide(&mut self, tree: &Tree, handles: &[NodeHandle]) -> Result<Decision, Halted> {
        let nodes: Vec<&Node> = handles.iter().filter_map(|h| tree.get(*h)).collect();
        let files_only = nodes.iter().all(|n| n.is_file());
        Ok(match self.options.mode {
            Mode::Skip => Decision::Skip,
            Mode::Rename => Decision::Rename,
            Mode::Ask => (self.ask)(&path_of(tree, handles[0]), &nodes).map_err(|source| Halted {
                source,
                path: None,
                done: self.actions.len(),
            })?,
            // Folders left after merging (a dry run) and a file beside a folder: the first.
            Mode::Keep(_) if !files_only => Decision::Keep(handles[0]),
            Mode::Keep(keep) => keeper(keep, &nodes).map_or(Decision::Skip, Decision::Keep),
        })
    }

    async fn folders(&mut self, tree: &mut Tree, top: NodeHandle) -> Result<(), Halted> {
        let mut queue = vec![top];
        while let Some(folder) = queue.pop() {
            if self.keeps_one() && !self.options.dry_run {
                self.merge_folders(tree, folder).await?;
            }
            for (name, handles) in tree.duplicates(folder) {
                let decision = self.decide(tree, &handles)?;
                self.apply(tree, folder, &name, &handles, decision).await?;
            }
            if self.options.recursive {
                let mut sub: Vec<NodeHandle> =
                    tree.children(folder).filter(|n| n.is_container()).map(|n| n.handle()).collect();
                sub.reverse();
                queue.extend(sub);
            }
        }
        Ok(())
    }

    async fn apply(
        &mut self,
        tree: &mut Tree,
        folder: NodeHandle,
        name: &str,
        handles: &[NodeHandle],
        decision: Decision,
    ) -> Result<(), Halted> {
        match decision {
            Decision::Skip => self.did(Action::Skip { path: path_of(tree, handles[0]), count: handles.len() }),
            Decision::Keep(keep) => {
                for &h in handles.iter().filter(|h| **h != keep) {
                    self.remove(tree, h).await?;
                }
            }
            Decision::Rename => {
                let mut n = 0;
                let skip = usize::from(!self.options.rename_first);
                for &h in handles.iter().skip(skip) {
                    let to = tree.free_numbered_name(folder, name, self.options.numbering, &mut n);
                    let path = path_of(tree, h);
                    if !self.options.dry_run {
                        self.session.rename(tree, h, &to).await.map_err(|e| self.halted(e, &path))?;
                    }
                    self.did(Action::Rename { path, to });
                }
            }
        }
        Ok(())
    }
}
