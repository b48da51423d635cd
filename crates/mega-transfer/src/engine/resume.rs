//! Resuming is the engine's: which unfinished jobs of the journal a repeated command asks for
//! again, and what is unfinished with how far each got. Nothing outside this crate reads the
//! journal's records.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use mega_api::{Link, LinkKind, NodeHandle};

use super::Engine;
use crate::events::{Direction, JobId};
use crate::journal::{JobSpec, Journal, JournalError, Source};

/// A transfer a command asks for, to find the journal's unfinished jobs that are the same
/// transfer asked for again ([`Engine::resume_matching`]).
#[derive(Debug, Clone, Copy)]
pub enum Asked<'a> {
    /// Nodes of the account (for a folder, every node of its subtree) downloaded into `dir`.
    Nodes {
        /// The nodes.
        nodes: &'a HashSet<NodeHandle>,
        /// The local folder (jobs anywhere below it match).
        dir: &'a Path,
    },
    /// A public file or folder link downloaded into `dir`.
    Link {
        /// The link.
        link: &'a Link,
        /// The local folder (jobs anywhere below it match).
        dir: &'a Path,
    },
    /// Local files or folders (files below them match) uploaded into remote folders.
    Uploads {
        /// The local paths.
        locals: &'a [PathBuf],
        /// The remote folders (for a folder, every folder of its subtree).
        folders: &'a HashSet<NodeHandle>,
    },
}

impl Asked<'_> {
    fn matches(&self, spec: &JobSpec) -> bool {
        let handle_in = |b: &str, set: &HashSet<NodeHandle>| NodeHandle::from_b64(b).is_ok_and(|h| set.contains(&h));
        match (self, spec) {
            (Asked::Nodes { nodes, dir }, JobSpec::Download { source: Source::Own { node }, path, .. }) => {
                path.starts_with(dir) && handle_in(node, nodes)
            }
            (Asked::Link { link, dir }, JobSpec::Download { source, path, .. }) => {
                path.starts_with(dir)
                    && match source {
                        Source::Public { handle } => link.kind == LinkKind::File && *handle == link.handle.to_b64(),
                        Source::InFolderLink { link: url, .. } => {
                            link.kind == LinkKind::Folder && *url == link.to_url()
                        }
                        Source::Own { .. } => false,
                    }
            }
            (Asked::Uploads { locals, folders }, JobSpec::Upload { local, parent, .. }) => {
                handle_in(parent, folders) && locals.iter().any(|l| local.starts_with(l))
            }
            _ => false,
        }
    }
}

/// An unfinished job of the journal, as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The job.
    pub id: JobId,
    /// Which way.
    pub direction: Direction,
    /// Downloads: the local path; uploads: `LOCAL -> NAME`.
    pub name: String,
    /// The file's size.
    pub size: u64,
    /// Bytes already verified (downloads) or sent (uploads) in journaled chunks.
    pub done: u64,
    /// Paused by the user.
    pub paused: bool,
    /// Continuing it needs the account's session (an upload, or a download of an own node);
    /// downloads from public links do not.
    pub needs_account: bool,
}

/// The unfinished jobs in the journal at `dir`, in queue order, with the entries that could
/// not be read. A journal folder that does not exist holds nothing.
pub fn unfinished(dir: &Path) -> (Vec<Unfinished>, Vec<JournalError>) {
    if !dir.exists() {
        return (Vec::new(), Vec::new());
    }
    match Journal::open(dir) {
        Ok(journal) => unfinished_in(&journal),
        Err(e) => (Vec::new(), vec![e]),
    }
}

fn unfinished_in(journal: &Journal) -> (Vec<Unfinished>, Vec<JournalError>) {
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for r in journal.load_all() {
        let rec = match r {
            Ok((rec, _)) => rec,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (direction, name, size, needs_account) = match &rec.spec {
            JobSpec::Download { path, size, source, .. } => {
                (Direction::Download, path.display().to_string(), *size, matches!(source, Source::Own { .. }))
            }
            JobSpec::Upload { local, name, size, .. } => {
                (Direction::Upload, format!("{} -> {name}", local.display()), *size, true)
            }
        };
        let done = journal
            .chunks(&rec.id)
            .unwrap_or_default()
            .keys()
            .map(|&i| {
                let r = mega_api::chunk_span(i..i + 1, size);
                r.end - r.start
            })
            .sum();
        out.push((
            rec.priority,
            Unfinished { id: rec.id, direction, name, size, done, paused: rec.paused, needs_account },
        ));
    }
    out.sort_by_key(|(p, _)| *p);
    (out.into_iter().map(|(_, u)| u).collect(), errors)
}

impl Engine {
    /// The journal's unfinished jobs, in queue order, with how far each got (see [`unfinished`]).
    pub fn unfinished(&self) -> (Vec<Unfinished>, Vec<JournalError>) {
        unfinished_in(&self.inner.journal)
    }

    /// Continues the journal's unfinished jobs that any of `asked` matches (the same source and
    /// destination asked for again), and returns their ids, with the entries that could not be
    /// read or started. A command that does so before it queues anew finds those files
    /// identical afterwards and skips them.
    pub fn resume_matching(&self, asked: &[Asked<'_>]) -> (Vec<JobId>, Vec<JournalError>) {
        let (mut ids, mut errors) = (Vec::new(), Vec::new());
        let mut recs = Vec::new();
        for r in self.inner.journal.load_all() {
            match r {
                Ok((rec, _)) if asked.iter().any(|a| a.matches(&rec.spec)) => recs.push(rec),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        recs.sort_by_key(|r| r.priority);
        for rec in recs {
            match self.resume_job(&rec.id) {
                Ok(()) => ids.push(rec.id),
                Err(e) => errors.push(e),
            }
        }
        (ids, errors)
    }
}
