//! `dedupe`: MEGA lets one folder hold several nodes of the same name; this sorts them out
//! the way rclone's `dedupe` does (`tuatara_core::dedupe`). Folders are walked from the top;
//! duplicate folders are merged first (contents moved into the first, the emptied ones
//! removed) in the modes that keep one node, then each set of duplicate files is handled by the
//! mode. Here: the mode from the arguments, the questions of `interactive`, and the report.

use std::io::{BufRead, Write};

use mega_api::tree::{Keep, Numbering};
use mega_api::{Node, Tree};
use serde_json::{json, Value};
use tuatara_core::dedupe::{Action, Decision, Mode, Options};

use crate::cli::{DedupeArgs, DedupeMode};
use crate::error::{Failure, Result};
use crate::output::{size, time};
use crate::remote::{resolve, App};

fn mode(m: DedupeMode) -> Mode {
    match m {
        DedupeMode::Interactive => Mode::Ask,
        DedupeMode::Skip => Mode::Skip,
        DedupeMode::Rename => Mode::Rename,
        DedupeMode::First => Mode::Keep(Keep::First),
        DedupeMode::Newest => Mode::Keep(Keep::Newest),
        DedupeMode::Oldest => Mode::Keep(Keep::Oldest),
        DedupeMode::Largest => Mode::Keep(Keep::Largest),
        DedupeMode::Smallest => Mode::Keep(Keep::Smallest),
    }
}

/// Asks on the terminal what to do with one set.
fn ask(name: &str, nodes: &[&Node]) -> std::result::Result<Decision, tuatara_core::Error> {
    let no_answer = |what: &str| tuatara_core::Error::Invalid(format!("dedupe: no answer on stdin{what}"));
    let io = |e: std::io::Error| tuatara_core::Error::Internal(format!("I/O error: {e}"));
    eprintln!("{}: {} duplicates", crate::output::escaped(name), nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        eprintln!("  {}: {:>10}  {}  {}", i + 1, size(n.size()), time(n.modified()), n.handle());
    }
    let stdin = std::io::stdin();
    let read = || -> std::result::Result<Option<String>, tuatara_core::Error> {
        std::io::stderr().flush().map_err(io)?;
        let mut line = String::new();
        Ok((stdin.lock().read_line(&mut line).map_err(io)? > 0).then_some(line))
    };
    loop {
        eprint!("s) Skip and do nothing\nk) Keep just one (choose which in next step)\nr) Rename all to be different\ns/k/r> ");
        let line = read()?.ok_or_else(|| no_answer(" (use --mode to choose)"))?;
        match line.trim() {
            "s" => return Ok(Decision::Skip),
            "r" => return Ok(Decision::Rename),
            "k" => loop {
                eprint!("keep which one (1-{})> ", nodes.len());
                let line = read()?.ok_or_else(|| no_answer(""))?;
                if let Some(n) = line.trim().parse::<usize>().ok().filter(|n| (1..=nodes.len()).contains(n)) {
                    return Ok(Decision::Keep(nodes[n - 1].handle()));
                }
            },
            _ => {}
        }
    }
}

/// An action as a note and a JSON row (`action`, `path`, `detail`).
fn row(action: &Action, dry_run: bool) -> (String, Value) {
    let (what, path, detail) = match action {
        Action::Skip { path, count } => {
            return (
                format!("{path}: {count} nodes share this name (skipped)"),
                json!({"action": "skip", "path": path, "detail": count}),
            )
        }
        Action::Remove { path, handle, permanent } => {
            (if *permanent { "delete" } else { "move to the rubbish bin" }, path, json!(handle.to_string()))
        }
        Action::Merge { path, into } => ("merge", path, json!(into)),
        Action::Rename { path, to } => ("rename", path, json!(to)),
    };
    let verb = if dry_run { format!("would {what}") } else { what.to_string() };
    (format!("{verb}: {path}"), json!({"action": what, "path": path, "detail": detail}))
}

/// `dedupe [PATH] --mode MODE`.
pub(crate) async fn dedupe(app: &App, args: DedupeArgs) -> Result<()> {
    let (session, mut tree): (_, Tree) = app.drive().await?;
    let top = resolve(&tree, args.path.as_deref().unwrap_or("/"))?;
    if !tree.node(top)?.is_container() {
        return Err(Failure::Other("dedupe works on a folder".into()));
    }
    let options = Options {
        mode: mode(args.mode),
        recursive: true,
        dry_run: args.dry_run,
        permanent: args.permanent,
        numbering: Numbering::Dash,
        rename_first: true,
    };
    let report = |a: &Action| app.out.note(row(a, args.dry_run).0);
    let actions = tuatara_core::dedupe::dedupe(&session, &mut tree, top, options, ask, report).await.map_err(|h| {
        match h.path {
            Some(p) => Failure::from(h.source).context(format!("{p}: {} changes were made before this failed", h.done)),
            None => Failure::from(h.source),
        }
    })?;
    if actions.is_empty() {
        app.out.note("no duplicate names");
    }
    app.out.emit(&[], &Value::Array(actions.iter().map(|a| row(a, args.dry_run).1).collect()));
    Ok(())
}
