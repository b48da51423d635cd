//! `watch add|list|pause|resume|remove|run` and `links get --watch`: arguments and output over
//! `tuatara_core::watches`, which keeps the watches (in the data dir, `.../tuatara/watches`,
//! shared with the app) and runs them: other processes may change the store while `watch run`
//! runs (it follows the store), and a watch is never run by two processes at once.
//!
//! `watch run` (and `links get --watch`) print one line per finished transfer on stdout (one
//! JSON object per line with `--json`), progress bars on a terminal, and exit 0 when stopped by
//! Ctrl-C or SIGTERM; what was moving stays in the journal and the next run continues it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mega_transfer::{Direction, Event, JobId};
use serde_json::{json, Value};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::broadcast::error::RecvError;
use tuatara_core::watches::{RunOptions, SupervisorEvent, Watch, WatchEvent, WatchKind, Watches};

use crate::cli::{TransferOpts, WatchAddArgs, WatchRunArgs, WatchTiming};
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::{is_link, App};
use crate::transfers::{absolute, Run};

fn open(app: &App) -> Result<Watches> {
    Watches::open(&app.dirs).map_err(Failure::from)
}

/// `watch add LOCAL REMOTE [--propagate-deletes] [--ignore GLOB]...` and
/// `watch add --links FILE|DIR LOCALDIR`.
pub(crate) fn add(app: &App, args: WatchAddArgs) -> Result<()> {
    let watches = open(app)?;
    let src = absolute(&args.src)?;
    let kind = if args.links {
        WatchKind::Links { source: src, dest: absolute(&args.dst)? }
    } else {
        if is_link(&args.dst) {
            return Err(Failure::Usage(format!("{}: uploads go to a folder of the drive, not a link", args.dst)));
        }
        WatchKind::Upload { local: src, remote: args.dst, trash_deleted: args.propagate_deletes, ignore: args.ignore }
    };
    let w = watches.add(kind).map_err(|e| match Failure::from(e) {
        Failure::Usage(m) if !args.links => {
            Failure::Usage(format!("{m} (give a folder to back up, or --links for a links file)"))
        }
        f => f,
    })?;
    let (text, row) = describe(&watches, &w);
    app.out.emit(&[text], &row);
    app.out.note(format!("added watch {}; `tuatara-cli watch run` runs it", w.id));
    Ok(())
}

/// A watch's line of `watch list` and its JSON object.
fn describe(watches: &Watches, w: &Watch) -> (String, Value) {
    let running = watches.is_running(&w.id);
    let last_error = w.errors.last().map(|e| e.message.clone());
    let mut row = json!({
        "id": w.id,
        "paused": w.paused,
        "running": running,
        "created": w.created,
        "last_activity": w.last_activity,
        "done": w.done,
        "last_error": last_error,
        "errors": w.errors.iter().map(|e| json!({"at": e.at, "message": e.message})).collect::<Vec<_>>(),
    });
    let what = match &w.kind {
        WatchKind::Upload { local, remote, trash_deleted, ignore } => {
            row["kind"] = "upload".into();
            row["local"] = local.display().to_string().into();
            row["remote"] = remote.clone().into();
            row["propagate_deletes"] = (*trash_deleted).into();
            row["ignore"] = ignore.clone().into();
            let deletes = if *trash_deleted { " (deletions propagated)" } else { "" };
            format!("upload  {} -> {remote}{deletes}", local.display())
        }
        WatchKind::Links { source, dest } => {
            row["kind"] = "links".into();
            row["source"] = source.display().to_string().into();
            row["dest"] = dest.display().to_string().into();
            format!("links   {} -> {}", source.display(), dest.display())
        }
    };
    let state = match (w.paused, running) {
        (true, _) => "paused",
        (false, true) => "running",
        (false, false) => "idle",
    };
    let last = w.last_activity.map_or_else(|| "never".to_string(), |t| output::time(t as i64));
    let error = last_error.map(|e| format!("  last error: {e}")).unwrap_or_default();
    (format!("{}  {state:7}  {what}  [{} done, last {last}]{error}", w.id, w.done), row)
}

/// `watch list`.
pub(crate) fn list(app: &App) -> Result<()> {
    let watches = open(app)?;
    let all = watches.list().map_err(Failure::from)?;
    if all.is_empty() {
        app.out.note("no watches (`tuatara-cli watch add LOCAL REMOTE` adds one)");
    }
    let (text, rows): (Vec<String>, Vec<Value>) = all.iter().map(|w| describe(&watches, w)).unzip();
    app.out.emit(&text, &Value::Array(rows));
    Ok(())
}

/// `watch pause|resume ID...`: every id checked before anything changes.
pub(crate) fn set_paused(app: &App, ids: &[String], paused: bool) -> Result<()> {
    open(app)?.set_paused(ids, paused).map_err(Failure::from)?;
    for id in ids {
        app.out.note(format!("{} watch {id}", if paused { "paused" } else { "resumed" }));
    }
    Ok(())
}

/// `watch remove ID...`.
pub(crate) fn remove(app: &App, ids: &[String]) -> Result<()> {
    for w in open(app)?.remove(ids).map_err(Failure::from)? {
        app.out.note(format!("removed watch {} (nothing local or remote was deleted)", w.id));
    }
    Ok(())
}

/// `watch run [ID...]`.
pub(crate) async fn run(app: &App, args: WatchRunArgs) -> Result<()> {
    let watches = open(app)?;
    let only = if args.ids.is_empty() {
        None
    } else {
        for id in &args.ids {
            watches.get(id).map_err(Failure::from)?;
            watches.ensure_not_running(id).map_err(Failure::from)?;
        }
        Some(args.ids.clone())
    };
    let mut passwords = args.password;
    passwords.extend(app.link_password.clone());
    foreground(app, &watches, only, &args.opts, &args.timing, passwords).await
}

/// Runs the watches (all of the store, or `only`) until Ctrl-C or SIGTERM.
async fn foreground(
    app: &App,
    watches: &Watches,
    only: Option<Vec<String>>,
    opts: &TransferOpts,
    timing: &WatchTiming,
    passwords: Vec<String>,
) -> Result<()> {
    let none_yet =
        !watches.list().map_err(Failure::from)?.iter().any(|w| only.as_ref().is_none_or(|o| o.contains(&w.id)));
    let (session, tree) = if watches.needs_account(only.as_deref()).map_err(Failure::from)? {
        let (s, t) = app.drive().await?;
        (Some(s), Some(Arc::new(tokio::sync::Mutex::new(t))))
    } else {
        // Links need no account; an upload watch added later says it needs one.
        (app.session().await.ok(), None)
    };
    let run = app.transfers(opts, session, tree)?;
    let options = RunOptions {
        settle: Duration::from_secs_f64(timing.settle),
        rescan_every: Duration::from_secs_f64(timing.rescan_every),
        passwords,
        ..RunOptions::default()
    };
    // Subscribed first: the first jobs are queued as soon as the watches start.
    let mut events = run.engine.subscribe();
    let (running, mut watch_events) = watches.run(&run.engine, only, options);
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut report = Report { run: &run, json: app.out.json, jobs: HashMap::new(), counts: [0; 4] };
    if none_yet {
        app.out.note("no watches yet: waiting for `tuatara-cli watch add` (Ctrl-C stops)");
    }
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
            e = watch_events.recv() => match e {
                Some(e) => report.watch(app, e),
                None => break,
            },
            ev = events.recv() => match ev {
                Ok(ev) => report.event(ev),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        }
    }
    running.stop().await;
    run.close();
    let [up, down, failed, skipped] = report.counts;
    app.out.note(format!(
        "stopped: {up} uploaded, {down} downloaded, {skipped} skipped as identical, {failed} failed; \
         unfinished transfers continue on the next run"
    ));
    Ok(())
}

/// What `watch run` prints as it goes.
struct Report<'a> {
    run: &'a Run,
    json: bool,
    jobs: HashMap<JobId, (Direction, String, u64)>,
    /// Uploaded, downloaded, failed, skipped.
    counts: [u64; 4],
}

impl Report<'_> {
    fn say(&self, text: String, row: Value) {
        self.run.say(if self.json { row.to_string() } else { text });
    }

    fn watch(&self, app: &App, e: WatchEvent) {
        match e {
            WatchEvent::Supervisor(SupervisorEvent::Started(id)) => app.out.note(format!("watching ({id})")),
            WatchEvent::Supervisor(SupervisorEvent::Stopped(id)) => {
                app.out.note(format!("stopped watch {id} (removed)"))
            }
            WatchEvent::Supervisor(SupervisorEvent::Busy { id, pid }) => app.out.warn(format!(
                "watch {id} is already running{}; left to it (taken over if it stops)",
                pid.map(|p| format!(" in process {p}")).unwrap_or_default()
            )),
            WatchEvent::Supervisor(SupervisorEvent::Failed { id, message }) => {
                app.out.warn(format!("watch {id} could not start: {message} (tried again later)"))
            }
            WatchEvent::NeedsPassword { watch, link } => self.say(
                format!("waiting     {link}: password-protected (#P!): give --password"),
                json!({"event": "needs_password", "link": link, "watch": watch}),
            ),
            _ => {}
        }
    }

    fn event(&mut self, ev: Event) {
        match ev {
            Event::Queued { id, direction, name, size } => {
                self.jobs.insert(id, (direction, name, size));
            }
            Event::Done { id, path, node } => {
                let Some((direction, name, size)) = self.jobs.remove(&id) else { return };
                let (verb, slot) = match direction {
                    Direction::Upload => ("uploaded", 0),
                    Direction::Download => ("downloaded", 1),
                };
                self.counts[slot] += 1;
                let shown = path.as_ref().map_or(name.clone(), |p| p.display().to_string());
                let mut row = json!({"event": verb, "name": name, "size": size});
                if let Some(p) = path {
                    row["path"] = p.display().to_string().into();
                }
                if let Some(n) = node {
                    row["handle"] = n.to_string().into();
                }
                self.say(format!("{verb:10}  {shown}  [{}]", output::size(size)), row);
            }
            Event::Failed { id, message, .. } => {
                let name = self.jobs.remove(&id).map_or(id, |j| j.1);
                self.counts[2] += 1;
                self.say(
                    format!("failed      {name}: {message}"),
                    json!({"event": "failed", "name": name, "error": message}),
                );
            }
            Event::Skipped { id, .. } => {
                self.jobs.remove(&id);
                self.counts[3] += 1;
            }
            Event::Cancelled { id } => {
                self.jobs.remove(&id);
            }
            _ => {}
        }
    }
}

/// `links get FILE --watch [--to DIR] [--password P]`: the file becomes a links watch of its
/// own (in a store apart from `watch list`, one per file, its ledger kept between runs) run in
/// the foreground: the links in it now and those added later are downloaded once each.
pub(crate) async fn links_file(
    app: &App,
    file: &str,
    to: Option<String>,
    password: Option<String>,
    timing: &WatchTiming,
    opts: &TransferOpts,
) -> Result<()> {
    if file == "-" {
        return Err(Failure::Usage("--watch needs a links file, not stdin".into()));
    }
    let watches = Watches::open_links_files(&app.dirs).map_err(Failure::from)?;
    let id = watches.links_file(&absolute(file)?, &absolute(to.as_deref().unwrap_or("."))?).map_err(Failure::from)?;
    let passwords = password.into_iter().chain(app.link_password.clone()).collect();
    app.out.note(format!("watching {file} for MEGA links (Ctrl-C stops)"));
    foreground(app, &watches, Some(vec![id]), opts, timing, passwords).await
}
