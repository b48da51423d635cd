//! `cat` and `serve http`: a remote argument opened as a `tuatara-core` stream target, one
//! call into the core, and what it said printed.

use mega_transfer::{Engine, EngineConfig, Event, Integrity};
use serde_json::json;
use tuatara_core::serve::{self, ServeOptions, Server, Target};

use crate::cli::{CatArgs, ServeHttpArgs};
use crate::error::{Failure, Result};
use crate::output::{self, Out};
use crate::remote::{is_link, resolve, App, Scope};

/// The target a remote argument names, and an engine to stream it with (holding the session
/// for the own drive's files). Quota waits and retries are noted on stderr.
async fn open(app: &App, arg: &str) -> Result<(Target, Engine)> {
    let (target, session) = if is_link(arg) {
        let link = app.link(arg, None).await?;
        let spinner = app.out.spinner("opening the link");
        let target = Target::link(&app.client, &link).await;
        spinner.finish_and_clear();
        let target = target.map_err(|e| match e {
            tuatara_core::Error::Api(e) => Failure::from_link(e),
            other => Failure::from(other),
        })?;
        (target, None)
    } else {
        let (session, tree) = app.drive_at(arg, Scope::Children).await?;
        let node = resolve(&tree, arg)?;
        (Target::own(tree, node)?, Some(session))
    };
    let engine = Engine::new(EngineConfig::new(app.dirs.journal()), app.client.clone(), session, None)
        .map_err(|e| Failure::Other(format!("cannot open the transfer journal: {e}")))?;
    tokio::spawn(say_waits(engine.subscribe(), app.out));
    Ok((target, engine))
}

/// Quota waits and retries of the streams, as notes.
async fn say_waits(mut events: tokio::sync::broadcast::Receiver<Event>, out: Out) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match events.recv().await {
            Ok(Event::Waiting { until, .. }) => {
                let left = until.and_then(|u| u.duration_since(std::time::SystemTime::now()).ok());
                let left = left.map(|d| format!(" (about {})", output::duration(d))).unwrap_or_default();
                out.note(format!("waiting for the transfer quota{left}"));
            }
            Ok(Event::Retrying { reason, .. }) => out.note(format!("retrying: {reason}")),
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// `cat REMOTE [--offset N] [--count N]`.
pub(crate) async fn cat(app: &App, args: CatArgs) -> Result<()> {
    let (target, engine) = open(app, &args.remote).await?;
    let file = target.into_file()?;
    let mut stdout = tokio::io::stdout();
    let catted = match serve::cat(&engine, &file, args.offset, args.count, &mut stdout).await {
        Ok(c) => c,
        // The reader went away (`| head`): what it wanted was written.
        Err(tuatara_core::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    match catted.integrity {
        Integrity::Verified if file.size > 0 => app.out.note("verified: the meta-MAC matches"),
        Integrity::Unverified { .. } => {
            app.out.note("not verified: only part of the file was read (the meta-MAC covers the whole file)")
        }
        _ => {}
    }
    Ok(())
}

/// `serve http [REMOTE] [--addr IP:PORT] [--allow-non-loopback]`.
pub(crate) async fn serve_http(app: &App, args: ServeHttpArgs) -> Result<()> {
    let remote = args.remote.as_deref().unwrap_or("/");
    let (target, engine) = open(app, remote).await?;
    let options = ServeOptions { addr: args.addr, allow_non_loopback: args.allow_non_loopback };
    let server = Server::start(engine, target, options).await?;
    app.out.emit(&[server.url().to_string()], &json!({ "url": server.url(), "index": server.base_url() }));
    app.out.note("serving (the URL's token is the key to the files; Ctrl-C stops)");
    server
        .serve_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    app.out.note("stopped");
    Ok(())
}
