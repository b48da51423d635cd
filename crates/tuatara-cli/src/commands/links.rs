//! Public links: `link PATH`, `link decrypt URL`, `links export FOLDER`, `import LINK`.

use std::io::IsTerminal;
use std::path::Path;

use mega_api::LinkKind;
use mega_proto::link::ParsedLink;
use serde_json::json;
use tuatara_core::links::{ExportOptions, Keys, ListEntry, ListFormat};
use zeroize::Zeroizing;

use crate::cli::{ExportArgs, LinkAction, LinkArgs, ListFormatArg};
use crate::commands::change::partial;
use crate::error::{Failure, Result};
use crate::remote::{is_link, path_of, resolve, App, Source};

/// `link PATH [--no-key] [--password P] [--delete]`, or `link decrypt URL`.
pub(crate) async fn link(app: &App, args: LinkArgs) -> Result<()> {
    if let Some(LinkAction::Decrypt { url, password }) = args.action {
        return decrypt(app, &url, password).await;
    }
    let path = args.path.ok_or_else(|| Failure::Usage("give the path to export".into()))?;
    if is_link(&path) {
        return Err(Failure::Usage(format!("{path}: give a path in the drive, not a link")));
    }
    let (session, mut tree) = app.drive().await?;
    let h = resolve(&tree, &path)?;
    if args.delete {
        session.unexport(&mut tree, h).await?;
        app.out.note(format!("removed the public link of {path}"));
        app.out.emit(&[], &json!({"path": path, "removed": true}));
        return Ok(());
    }
    let link = session.export(&mut tree, h).await?;
    let (text, json) = if args.no_key {
        let key = Zeroizing::new(link.key_b64().unwrap_or_default());
        let url = link.url_without_key();
        (vec![url.clone(), key.to_string()], json!({"path": path, "link": url, "key": key.as_str()}))
    } else if let Some(p) = args.password {
        let spinner = app.out.spinner("protecting the link");
        let r = mega_api::protect_link(&link, &p).await;
        spinner.finish_and_clear();
        let url = r?;
        (vec![url.clone()], json!({"path": path, "link": url, "protected": true}))
    } else {
        let url = link.to_url();
        (vec![url.clone()], json!({"path": path, "link": url}))
    };
    app.out.emit(&text, &json);
    Ok(())
}

/// `link decrypt URL [--password P]`: offline.
async fn decrypt(app: &App, url: &str, password: Option<String>) -> Result<()> {
    match mega_proto::link::parse(url).map_err(|e| Failure::BadLink(format!("malformed link: {e}")))? {
        ParsedLink::Plain(_) => return Err(Failure::BadLink("not a password-protected (#P!) link".into())),
        ParsedLink::Protected(_) => {}
    }
    let password = match password.or(app.link_password.clone()) {
        Some(p) => Zeroizing::new(p),
        None if std::io::stdin().is_terminal() => Zeroizing::new(rpassword::prompt_password("Link password: ")?),
        None => return Err(Failure::Usage("give the link's password with --password".into())),
    };
    let link = app.link(url, Some(&password)).await?;
    let plain = link.to_url();
    app.out.emit(std::slice::from_ref(&plain), &json!({"link": plain}));
    Ok(())
}

/// `links export FOLDER [--format F] [--keys-apart KEYFILE | --password P] [--as-folder] [-o FILE]`:
/// every file below the folder (or the folder itself) gets a link. Plain links to stdout are
/// printed as they come.
pub(crate) async fn export(app: &App, args: ExportArgs) -> Result<()> {
    let (session, mut tree) = app.drive().await?;
    let top = resolve(&tree, &args.folder)?;
    if !tree.node(top)?.is_container() {
        return Err(Failure::Other(format!("{}: not a folder", args.folder)));
    }
    let format = match args.format {
        ListFormatArg::Plain => ListFormat::Plain,
        ListFormatArg::Csv => ListFormat::Csv,
        ListFormatArg::Json => ListFormat::Json,
    };
    let keys = Keys::choose(args.keys_apart.is_some(), args.password)?;
    let sealing = matches!(keys, Keys::Password(_));
    let opts = ExportOptions { keys, as_folder: args.as_folder };
    let streamed = args.output.is_none() && format == ListFormat::Plain && !app.out.json;
    let bar = app.out.bar(0, if sealing { "exporting, then protecting" } else { "exporting" });
    let shown = |e: &ListEntry, total: usize| {
        bar.set_length(total as u64);
        if streamed {
            bar.suspend(|| app.out.line(&e.link));
        }
        bar.inc(1);
    };
    let done = tuatara_core::links::export_list(&session, &mut tree, top, &opts, shown).await;
    bar.finish_and_clear();
    let list = done.map_err(|h| partial(h.source, "exported", &h.path, h.done, h.total))?;
    let key_file = args.keys_apart.as_deref().map(Path::new);
    match &args.output {
        Some(out) => list.save(format, Path::new(out), key_file)?,
        None => {
            if let (Some(keys), Some(path)) = (&list.keys, key_file) {
                keys.save(path)?;
            }
            if app.out.json {
                print!("{}", list.render(ListFormat::Json)?);
            } else if !streamed {
                let body = list.render(format)?;
                body.lines().for_each(|l| app.out.line(l));
            }
        }
    }
    let mut note = format!("{} links", list.entries.len());
    if let Some(path) = &args.output {
        note.push_str(&format!(" written to {path}"));
    }
    if let Some(path) = &args.keys_apart {
        note.push_str(&format!(", their keys to {path}"));
    }
    app.out.note(note);
    if let (true, Some(path)) = (app.out.json, &args.output) {
        app.out.json(&json!({"output": path, "links": list.entries.len(), "keys": args.keys_apart}));
    }
    Ok(())
}

/// `import LINK [DEST] [--password P]`.
pub(crate) async fn import(app: &App, link: &str, dest: Option<String>, password: Option<String>) -> Result<()> {
    let link = app.link(link, password.as_deref()).await?;
    let source = app.open_link(&link).await?;
    let (session, mut tree) = app.drive().await?;
    let dest = dest.unwrap_or_else(|| "/".into());
    let target = resolve(&tree, &dest)?;
    if !tree.node(target)?.is_container() {
        return Err(Failure::Other(format!("{dest}: not a folder")));
    }
    let spinner = app.out.spinner("importing");
    let created = match &source {
        Source::File(f) => session.import_file(&mut tree, f, target, None).await,
        Source::Tree { tree: ft, node, link: Some(folder) } => {
            session.import_from_folder(&mut tree, folder, ft, *node, target).await
        }
        Source::Tree { link: None, .. } => unreachable!("a link opens as a file or a folder link"),
    };
    spinner.finish_and_clear();
    let h = created.map_err(|e| Failure::from(e).context("nothing was imported"))?;
    let p = path_of(&tree, h);
    let kind = if link.kind == LinkKind::File { "file" } else { "folder" };
    app.out.note(format!("imported the {kind} as {p}"));
    app.out.emit(std::slice::from_ref(&p), &json!({"path": p, "handle": h.to_string(), "type": kind}));
    Ok(())
}
