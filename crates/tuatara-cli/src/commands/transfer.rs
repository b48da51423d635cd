//! Moving data: `get`, `put`, `copy`, `resume`, `transfers`. Every argument is resolved before
//! anything is queued; a command repeated after an interruption continues the journal entries
//! of the same source and destination instead of starting over.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use mega_api::{Link, NodeHandle, Tree};
use mega_transfer::{Asked, Conflict, Direction};
use serde_json::{json, Value};

use crate::cli::{CopyArgs, GetArgs, PutArgs, TransferOpts};
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::{is_link, resolve, App, Scope};
use crate::transfers::absolute;

/// What `get` fetches.
enum Wanted {
    Node(NodeHandle, String),
    Link(Box<Link>, String),
}

/// Splits `A... [LAST]`: with one argument, `LAST` is `default`.
fn split_last<'a>(args: &'a [String], default: &'a str) -> (&'a [String], &'a str) {
    match args {
        [one] => (std::slice::from_ref(one), default),
        [rest @ .., last] => (rest, last.as_str()),
        [] => (args, default),
    }
}

/// A node and every node below it.
fn subtree(tree: &Tree, h: NodeHandle) -> HashSet<NodeHandle> {
    let mut s: HashSet<NodeHandle> = tree.subtree(h).into_iter().collect();
    s.insert(h);
    s
}

/// `get REMOTE|LINK... [LOCALDIR] [--password P]`.
pub(crate) async fn get(app: &App, args: GetArgs) -> Result<()> {
    let (sources, dir) = split_last(&args.args, ".");
    let dir = absolute(dir)?;
    let mut wanted = Vec::new();
    let mut drive = None;
    for s in sources {
        if is_link(s) {
            let link = app.link(s, args.password.as_deref()).await?;
            wanted.push(Wanted::Link(Box::new(link), s.clone()));
        } else {
            if drive.is_none() {
                // One path reads what is below it; several, the whole tree.
                let own: Vec<&String> = sources.iter().filter(|s| !is_link(s)).collect();
                drive = Some(match own.as_slice() {
                    [only] => app.drive_at(only, Scope::Subtree).await?,
                    _ => app.drive().await?,
                });
            }
            let (_, tree) = drive.as_ref().expect("just fetched");
            wanted.push(Wanted::Node(resolve(tree, s)?, s.clone()));
        }
    }
    std::fs::create_dir_all(&dir)?;
    let own: HashSet<NodeHandle> = match &drive {
        Some((_, tree)) => wanted
            .iter()
            .filter_map(|w| if let Wanted::Node(h, _) = w { Some(subtree(tree, *h)) } else { None })
            .flatten()
            .collect(),
        None => HashSet::new(),
    };
    let session = match &drive {
        Some((s, _)) => Some(s.clone()),
        // Links need no account, but an unfinished own job continued by the engine might.
        None => app.session().await.ok(),
    };
    let tree = drive.map(|(_, t)| Arc::new(tokio::sync::Mutex::new(t)));
    let run = app.transfers(&args.opts, session, tree)?;
    let links: Vec<&Link> =
        wanted.iter().filter_map(|w| if let Wanted::Link(l, _) = w { Some(&**l) } else { None }).collect();
    let mut asked = vec![Asked::Nodes { nodes: &own, dir: &dir }];
    asked.extend(links.iter().map(|l| Asked::Link { link: l, dir: &dir }));
    let mut ended = run.continue_matching(&asked).await?;
    let mut ids = Vec::new();
    for w in &wanted {
        let queued = match w {
            Wanted::Node(h, _) => run.engine.download_node(*h, &dir, Conflict::Rename).await,
            Wanted::Link(l, _) => run.engine.download_link(l, &dir, Conflict::Rename).await,
        };
        let what = match w {
            Wanted::Node(_, s) | Wanted::Link(_, s) => s,
        };
        match queued {
            Ok(i) => ids.extend(i),
            Err(mega_transfer::TransferError::Api(e)) if matches!(w, Wanted::Link(..)) => {
                return Err(Failure::from_link(e).context(what));
            }
            Err(e) => return Err(Failure::from(e).context(what)),
        }
    }
    ended.extend(run.wait(&ids).await?);
    run.report(&ended)
}

/// `put LOCAL... [REMOTEDIR]`.
pub(crate) async fn put(app: &App, args: PutArgs) -> Result<()> {
    let (locals, remote) = split_last(&args.args, "/");
    if is_link(remote) {
        return Err(Failure::Usage(format!("{remote}: uploads go to a folder of the drive, not a link")));
    }
    let locals = locals.iter().map(|l| local_source(l)).collect::<Result<Vec<_>>>()?;
    let (session, tree) = app.drive().await?;
    let parent = resolve(&tree, remote)?;
    if !tree.node(parent)?.is_container() {
        return Err(Failure::Other(format!("{remote}: not a folder")));
    }
    upload(app, &args.opts, session, tree, &locals, parent).await
}

fn local_source(l: &str) -> Result<PathBuf> {
    let p = absolute(l)?;
    if !p.exists() {
        return Err(Failure::NotFound(format!("{l}: no such local file or folder")));
    }
    Ok(p)
}

async fn upload(
    app: &App,
    opts: &TransferOpts,
    session: mega_api::Session,
    tree: Tree,
    locals: &[PathBuf],
    parent: NodeHandle,
) -> Result<()> {
    let folders = subtree(&tree, parent);
    let tree = Arc::new(tokio::sync::Mutex::new(tree));
    let run = app.transfers(opts, Some(session), Some(tree))?;
    let mut ended = run.continue_matching(&[Asked::Uploads { locals, folders: &folders }]).await?;
    let mut ids = Vec::new();
    for l in locals {
        let queued = run.engine.upload_path(l, parent).await;
        ids.extend(queued.map_err(|e| Failure::from(e).context(l.display()))?);
    }
    ended.extend(run.wait(&ids).await?);
    run.report(&ended)
}

/// One side of `copy`.
enum Side {
    Local(String),
    Remote(String),
}

fn side(arg: &str) -> Side {
    match arg.strip_prefix("remote:") {
        Some(p) if p.starts_with('/') => Side::Remote(p.to_string()),
        Some(p) => Side::Remote(format!("/{p}")),
        None => Side::Local(arg.to_string()),
    }
}

/// `copy SRC DST`: the contents of a folder (or one file) between a local folder and
/// `remote:PATH`, skipping files that are identical on the other side.
pub(crate) async fn copy(app: &App, args: CopyArgs) -> Result<()> {
    match (side(&args.src), side(&args.dst)) {
        (Side::Local(src), Side::Remote(dst)) => {
            let src = local_source(&src)?;
            let (session, mut tree) = app.drive().await?;
            let parent = match resolve(&tree, &dst) {
                Ok(h) if tree.node(h)?.is_container() => h,
                Ok(_) => return Err(Failure::Other(format!("{dst}: not a folder"))),
                Err(Failure::NotFound(_)) => session.mkdir_p(&mut tree, &dst).await?,
                Err(e) => return Err(e),
            };
            let locals = if src.is_dir() {
                let mut v: Vec<PathBuf> =
                    std::fs::read_dir(&src)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
                v.sort();
                v
            } else {
                vec![src]
            };
            upload(app, &args.opts, session, tree, &locals, parent).await
        }
        (Side::Remote(src), Side::Local(dst)) => {
            let dir = absolute(&dst)?;
            let (session, tree) = app.drive().await?;
            let h = resolve(&tree, &src)?;
            let items: Vec<NodeHandle> =
                if tree.node(h)?.is_container() { tree.children(h).map(|n| n.handle()).collect() } else { vec![h] };
            std::fs::create_dir_all(&dir)?;
            let own = subtree(&tree, h);
            let tree = Arc::new(tokio::sync::Mutex::new(tree));
            let run = app.transfers(&args.opts, Some(session), Some(tree))?;
            let mut ended = run.continue_matching(&[Asked::Nodes { nodes: &own, dir: &dir }]).await?;
            let mut ids = Vec::new();
            for item in items {
                let queued = run.engine.download_node(item, &dir, Conflict::Overwrite).await;
                ids.extend(queued.map_err(|e| Failure::from(e).context(&src))?);
            }
            ended.extend(run.wait(&ids).await?);
            run.report(&ended)
        }
        (Side::Remote(_), Side::Remote(_)) => {
            Err(Failure::Usage("both sides are remote: use `cp` to copy inside the drive".into()))
        }
        (Side::Local(_), Side::Local(_)) => Err(Failure::Usage(
            "neither side is remote: write the remote one as remote:PATH (e.g. remote:/Backup)".into(),
        )),
    }
}

/// `resume`: every unfinished job of the journal.
pub(crate) async fn resume(app: &App, opts: TransferOpts) -> Result<()> {
    let (pending, _) = mega_transfer::unfinished(&app.dirs.journal());
    if pending.is_empty() {
        app.out.note("nothing to resume");
        app.out.emit(&[], &json!([]));
        return Ok(());
    }
    let (session, tree) = if pending.iter().any(|u| u.needs_account) {
        let (s, t) = app.drive().await?;
        (Some(s), Some(Arc::new(tokio::sync::Mutex::new(t))))
    } else {
        (None, None)
    };
    let run = app.transfers(&opts, session, tree)?;
    let (ids, errors) = run.engine.resume_journal();
    for e in errors {
        app.out.warn(e.to_string());
    }
    let ended = run.wait(&ids).await?;
    run.report(&ended)
}

/// `transfers`: the journal's unfinished jobs with their progress (damaged entries are
/// reported as warnings).
pub(crate) async fn list(app: &App) -> Result<()> {
    let (pending, errors) = mega_transfer::unfinished(&app.dirs.journal());
    for e in errors {
        app.out.warn(e.to_string());
    }
    let (mut text, mut rows) = (Vec::new(), Vec::new());
    for u in pending {
        let direction = match u.direction {
            Direction::Download => "download",
            Direction::Upload => "upload",
        };
        let pct = (u.done * 100).checked_div(u.size).unwrap_or(100);
        text.push(format!(
            "{}  {direction:8}  {:>10}  {pct:>3}%{}  {}",
            u.id,
            output::size(u.size),
            if u.paused { " paused" } else { "" },
            u.name
        ));
        rows.push(json!({"id": u.id, "direction": direction, "name": u.name, "size": u.size, "done": u.done, "paused": u.paused}));
    }
    if rows.is_empty() {
        app.out.note("no unfinished transfers");
    }
    app.out.emit(&text, &Value::Array(rows));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_argument_is_the_destination_when_there_are_several() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let one = a(&["/x"]);
        assert_eq!(split_last(&one, "."), (&one[..], "."));
        let two = a(&["/x", "/y", "dir"]);
        assert_eq!(split_last(&two, "."), (&two[..2], "dir"));
        assert!(matches!(side("remote:/A"), Side::Remote(p) if p == "/A"));
        assert!(matches!(side("remote:A/b"), Side::Remote(p) if p == "/A/b"));
        assert!(matches!(side("/home/me"), Side::Local(p) if p == "/home/me"));
    }
}
