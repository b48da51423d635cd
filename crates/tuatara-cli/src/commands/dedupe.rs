//! `dedupe`: MEGA lets one folder hold several nodes of the same name; this sorts them out
//! the way rclone's `dedupe` does. Folders are walked from the top; duplicate folders are
//! merged first (contents moved into the first, the emptied ones removed) in the modes that
//! keep one node, then each set of duplicate files is handled by the mode.

use std::io::{BufRead, Write};

use mega_api::tree::{keeper, Keep, Numbering};
use mega_api::{Node, NodeHandle, Session, Tree};
use serde_json::{json, Value};

use crate::cli::{DedupeArgs, DedupeMode};
use crate::error::{Failure, Result};
use crate::output::{size, time};
use crate::remote::{path_of, resolve, App};

/// What to do with one set of duplicates.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Leave them.
    Skip,
    /// Keep this one, remove the others.
    Keep(NodeHandle),
    /// Rename all to distinct names.
    Rename,
}

/// The decision of a non-interactive mode for a set of nodes (in listing order).
fn decide(mode: DedupeMode, nodes: &[&Node]) -> Decision {
    let keep = match mode {
        DedupeMode::Skip | DedupeMode::Interactive => return Decision::Skip,
        DedupeMode::Rename => return Decision::Rename,
        DedupeMode::First => Keep::First,
        DedupeMode::Newest => Keep::Newest,
        DedupeMode::Oldest => Keep::Oldest,
        DedupeMode::Largest => Keep::Largest,
        DedupeMode::Smallest => Keep::Smallest,
    };
    keeper(keep, nodes).map_or(Decision::Skip, Decision::Keep)
}

/// Asks rclone's question for one set on stderr; answers come from stdin.
fn ask(tree: &Tree, name: &str, nodes: &[&Node]) -> Result<Decision> {
    eprintln!("{}: {} duplicates", crate::output::escaped(name), nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        eprintln!("  {}: {:>10}  {}  {}", i + 1, size(n.size()), time(n.modified()), n.handle());
    }
    let _ = tree;
    let stdin = std::io::stdin();
    loop {
        eprint!("s) Skip and do nothing\nk) Keep just one (choose which in next step)\nr) Rename all to be different\ns/k/r> ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Err(Failure::Usage("dedupe: no answer on stdin (use --mode to choose)".into()));
        }
        match line.trim() {
            "s" => return Ok(Decision::Skip),
            "r" => return Ok(Decision::Rename),
            "k" => loop {
                eprint!("keep which one (1-{})> ", nodes.len());
                std::io::stderr().flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 {
                    return Err(Failure::Usage("dedupe: no answer on stdin".into()));
                }
                if let Some(n) = line.trim().parse::<usize>().ok().filter(|n| (1..=nodes.len()).contains(n)) {
                    return Ok(Decision::Keep(nodes[n - 1].handle()));
                }
            },
            _ => {}
        }
    }
}

/// Counts of what was done, for the summary and `--json`.
#[derive(Default)]
struct Report {
    actions: Vec<Value>,
}

struct Run<'a> {
    app: &'a App,
    session: &'a Session,
    args: &'a DedupeArgs,
    report: Report,
}

impl Run<'_> {
    fn log(&mut self, action: &str, path: &str, detail: Value) {
        let verb = if self.args.dry_run { format!("would {action}") } else { action.to_string() };
        self.app.out.note(format!("{verb}: {path}"));
        self.report.actions.push(json!({"action": action, "path": path, "detail": detail}));
    }

    async fn remove(&mut self, tree: &mut Tree, h: NodeHandle) -> Result<()> {
        let path = path_of(tree, h);
        if !self.args.dry_run {
            let r = if self.args.permanent {
                self.session.remove(tree, h).await
            } else {
                self.session.trash(tree, h).await
            };
            r.map_err(|e| self.half_done(e, &path))?;
        }
        self.log(if self.args.permanent { "delete" } else { "move to the rubbish bin" }, &path, json!(h.to_string()));
        Ok(())
    }

    fn half_done(&self, e: mega_api::Error, path: &str) -> Failure {
        Failure::from(e).context(format!("{path}: {} changes were made before this failed", self.report.actions.len()))
    }

    /// Merges duplicate folders into the first of each name.
    async fn merge_folders(&mut self, tree: &mut Tree, folder: NodeHandle) -> Result<()> {
        for (_, nodes) in tree.duplicates(folder) {
            let folders: Vec<NodeHandle> =
                nodes.iter().copied().filter(|h| tree.get(*h).is_some_and(|n| n.is_container())).collect();
            let Some((&keep, others)) = folders.split_first() else { continue };
            for &other in others {
                let kids: Vec<NodeHandle> = tree.children(other).map(|n| n.handle()).collect();
                for kid in kids {
                    let path = path_of(tree, kid);
                    if !self.args.dry_run {
                        self.session.move_node(tree, kid, keep).await.map_err(|e| self.half_done(e, &path))?;
                    }
                    self.log("merge", &path, json!(path_of(tree, keep)));
                }
                self.remove(tree, other).await?;
            }
        }
        Ok(())
    }

    /// Handles one folder, then its subfolders.
    async fn folder(&mut self, tree: &mut Tree, top: NodeHandle) -> Result<()> {
        let mut queue = vec![top];
        while let Some(folder) = queue.pop() {
            let keeps_one = !matches!(self.args.mode, DedupeMode::Skip | DedupeMode::Interactive | DedupeMode::Rename);
            if keeps_one && !self.args.dry_run {
                self.merge_folders(tree, folder).await?;
            }
            for (name, handles) in tree.duplicates(folder) {
                let decision = {
                    let nodes: Vec<&Node> = handles.iter().filter_map(|h| tree.get(*h)).collect();
                    let files_only = nodes.iter().all(|n| n.is_file());
                    match self.args.mode {
                        DedupeMode::Interactive => ask(tree, &path_of(tree, handles[0]), &nodes)?,
                        // Folders were merged; in a dry run, say they would be.
                        _ if !files_only && keeps_one => Decision::Keep(handles[0]),
                        m => decide(m, &nodes),
                    }
                };
                self.apply(tree, folder, &name, &handles, decision).await?;
            }
            let mut sub: Vec<NodeHandle> =
                tree.children(folder).filter(|n| n.is_container()).map(|n| n.handle()).collect();
            sub.reverse();
            queue.extend(sub);
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
    ) -> Result<()> {
        match decision {
            Decision::Skip => {
                let path = path_of(tree, handles[0]);
                self.app.out.note(format!("{path}: {} nodes share this name (skipped)", handles.len()));
                self.report.actions.push(json!({"action": "skip", "path": path, "detail": handles.len()}));
            }
            Decision::Keep(keep) => {
                for &h in handles.iter().filter(|h| **h != keep) {
                    self.remove(tree, h).await?;
                }
            }
            Decision::Rename => {
                let mut n = 0;
                for &h in handles {
                    let new = tree.free_numbered_name(folder, name, Numbering::Dash, &mut n);
                    let path = path_of(tree, h);
                    if !self.args.dry_run {
                        self.session.rename(tree, h, &new).await.map_err(|e| self.half_done(e, &path))?;
                    }
                    self.log("rename", &path, json!(new));
                }
            }
        }
        Ok(())
    }
}

/// `dedupe [PATH] --mode MODE`.
pub(crate) async fn dedupe(app: &App, args: DedupeArgs) -> Result<()> {
    let (session, mut tree) = app.drive().await?;
    let top = resolve(&tree, args.path.as_deref().unwrap_or("/"))?;
    if !tree.node(top)?.is_container() {
        return Err(Failure::Other("dedupe works on a folder".into()));
    }
    let mut run = Run { app, session: &session, args: &args, report: Report::default() };
    run.folder(&mut tree, top).await?;
    let actions = run.report.actions;
    if actions.is_empty() {
        app.out.note("no duplicate names");
    }
    app.out.emit(&[], &Value::Array(actions));
    Ok(())
}
