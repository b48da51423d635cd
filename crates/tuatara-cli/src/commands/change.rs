//! Commands that change the drive: `mkdir`, `mv`, `cp`, `rm`, `restore`. Every path is
//! resolved before anything is changed, so a bad argument changes nothing; a failure in the
//! middle of several changes says how many were done.

use mega_api::{NodeHandle, Session, Tree};
use serde_json::{json, Value};

use crate::error::{Failure, Result};
use crate::remote::{is_link, path_of, resolve, split_parent, App};

fn own_path(arg: &str) -> Result<()> {
    if is_link(arg) {
        return Err(Failure::Usage(format!("{arg}: a link cannot be changed here (use `import` to copy it)")));
    }
    Ok(())
}

/// `mkdir [-p] PATH`.
pub(crate) async fn mkdir(app: &App, path: &str, parents: bool) -> Result<()> {
    own_path(path)?;
    let (session, mut tree) = app.drive().await?;
    let h = if parents {
        session.mkdir_p(&mut tree, path).await?
    } else {
        let (parent, name) = split_parent(path)?;
        let p = resolve(&tree, parent)?;
        if tree.children_named(p, name).next().is_some() {
            return Err(Failure::Other(format!("{path}: already exists (use -p to accept that)")));
        }
        session.mkdir(&mut tree, p, name).await?
    };
    let p = path_of(&tree, h);
    app.out.note(format!("created {p}"));
    app.out.emit(&[], &json!({"path": p, "handle": h.to_string()}));
    Ok(())
}

/// Where `mv`/`cp` put a node: into an existing folder (same name), or into the parent of a
/// new path under its last name.
fn destination(tree: &Tree, dst: &str) -> Result<(NodeHandle, Option<String>)> {
    match resolve(tree, dst) {
        Ok(h) if tree.node(h)?.is_container() => Ok((h, None)),
        Ok(_) => Err(Failure::Other(format!("{dst}: a file of that name exists (remove it first)"))),
        Err(Failure::NotFound(_)) => {
            let (parent, name) = split_parent(dst)?;
            let p = resolve(tree, parent)?;
            if !tree.node(p)?.is_container() {
                return Err(Failure::Other(format!("{parent}: not a folder")));
            }
            Ok((p, Some(name.to_string())))
        }
        Err(e) => Err(e),
    }
}

/// The node `mv`/`cp` work on and where it goes.
struct Placed {
    session: Session,
    tree: Tree,
    node: NodeHandle,
    to: NodeHandle,
    name: Option<String>,
}

/// Resolves the source and the destination of `mv`/`cp` before anything changes.
async fn place(app: &App, src: &str, dst: &str) -> Result<Placed> {
    own_path(src)?;
    own_path(dst)?;
    let (session, tree) = app.drive().await?;
    let node = resolve(&tree, src)?;
    let (to, name) = destination(&tree, dst)?;
    Ok(Placed { session, tree, node, to, name })
}

/// `mv SRC DST`.
pub(crate) async fn mv(app: &App, src: &str, dst: &str) -> Result<()> {
    let Placed { session, mut tree, node: h, to, name } = place(app, src, dst).await?;
    if tree.node(h)?.parent() != Some(to) {
        session.move_node(&mut tree, h, to).await?;
    }
    if let Some(name) = name {
        let moved = path_of(&tree, h);
        session
            .rename(&mut tree, h, &name)
            .await
            .map_err(|e| Failure::from(e).context(format!("moved to {moved} but not renamed to {name:?}")))?;
    }
    let p = path_of(&tree, h);
    app.out.note(format!("{src} -> {p}"));
    app.out.emit(&[], &json!({"path": p, "handle": h.to_string()}));
    Ok(())
}

/// `cp SRC DST` (server-side).
pub(crate) async fn cp(app: &App, src: &str, dst: &str) -> Result<()> {
    let Placed { session, mut tree, node: h, to, name } = place(app, src, dst).await?;
    let spinner = app.out.spinner("copying");
    let r = session.copy(&mut tree, h, to, name.as_deref()).await;
    spinner.finish_and_clear();
    let new = r?;
    let p = path_of(&tree, new);
    app.out.note(format!("copied {src} -> {p}"));
    app.out.emit(&[], &json!({"path": p, "handle": new.to_string()}));
    Ok(())
}

/// The failure of the `i`-th of `n` changes, saying how many were done before it.
pub(crate) fn partial(e: mega_api::Error, verb: &str, path: &str, i: usize, n: usize) -> Failure {
    let what = if i == 0 {
        format!("{path}: nothing was {verb}")
    } else {
        format!("{path}: {i} of {n} were {verb} before this failed")
    };
    Failure::from(e).context(what)
}

/// `rm [--permanent] PATH...`.
pub(crate) async fn rm(app: &App, paths: &[String], permanent: bool) -> Result<()> {
    paths.iter().try_for_each(|p| own_path(p))?;
    let (session, mut tree) = app.drive().await?;
    let items = resolve_all(&tree, paths, None)?;
    let verb = if permanent { "deleted" } else { "moved to the rubbish bin" };
    let mut done = Vec::new();
    for (i, (path, h)) in items.iter().enumerate() {
        let r = if permanent { session.remove(&mut tree, *h).await } else { session.trash(&mut tree, *h).await };
        r.map_err(|e| partial(e, verb, path, i, items.len()))?;
        app.out.note(format!("{verb}: {path}"));
        done.push(json!({"path": path, "handle": h.to_string(), "permanent": permanent}));
    }
    app.out.emit(&[], &Value::Array(done));
    Ok(())
}

fn resolve_all(tree: &Tree, paths: &[String], base: Option<&str>) -> Result<Vec<(String, NodeHandle)>> {
    paths
        .iter()
        .map(|p| {
            let full = match base {
                Some(b) if !p.starts_with("//") => format!("{b}/{}", p.trim_start_matches('/')),
                _ => p.clone(),
            };
            let h = resolve(tree, &full)?;
            if tree.node(h)?.kind().is_root() {
                return Err(Failure::Other(format!("{full}: a root cannot be changed")));
            }
            Ok((full, h))
        })
        .collect()
}

/// `restore PATH...`: paths in the rubbish bin.
pub(crate) async fn restore(app: &App, paths: &[String]) -> Result<()> {
    let (session, mut tree) = app.drive().await?;
    let items = resolve_all(&tree, paths, Some("//bin"))?;
    let mut done = Vec::new();
    for (i, (path, h)) in items.iter().enumerate() {
        let to = session.restore(&mut tree, *h).await.map_err(|e| partial(e, "restored", path, i, items.len()))?;
        let now = path_of(&tree, *h);
        app.out.note(format!("restored {path} -> {now}"));
        done.push(json!({"path": now, "handle": h.to_string(), "into": path_of(&tree, to)}));
    }
    let text: Vec<String> = done.iter().filter_map(|v| v["path"].as_str().map(str::to_string)).collect();
    app.out.emit(&text, &Value::Array(done));
    Ok(())
}
