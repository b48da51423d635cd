//! `watch add|list|pause|resume|remove|run`: watched folders and watched links files, kept in
//! the watch store of `mega_transfer::watch` in the data dir (`.../tuatara/watches`), which
//! other processes (the app, another `watch add`) may change while `watch run` runs: it follows
//! the store, and a watch is never run by two processes at once.
//!
//! `watch run` (and `links get --watch`) print one line per finished transfer on stdout (one
//! JSON object per line with `--json`), progress bars on a terminal, and exit 0 when stopped by
//! Ctrl-C or SIGTERM; what was moving stays in the journal and the next run continues it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use mega_transfer::watch::{self, LinkState, RunOptions, SupervisorEvent, Watch, WatchError, WatchKind, WatchStore};
use mega_transfer::{Direction, Event, JobId, TransferError};
use serde_json::{json, Value};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::broadcast::error::RecvError;

use crate::cli::{TransferOpts, WatchAddArgs, WatchRunArgs, WatchTiming};
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::{is_link, App};
use crate::transfers::{absolute, Run};

/// How often a running process looks at the store for watches added, removed or paused.
const POLL: Duration = Duration::from_secs(1);

/// A watch error as a CLI failure (an unknown id is exit 3).
pub(crate) fn failure(e: WatchError) -> Failure {
    match e {
        WatchError::NoSuchWatch(id) => Failure::NotFound(format!("no watch {id} (see `tuatara-cli watch list`)")),
        WatchError::Transfer(TransferError::Api(e)) => Failure::from(e),
        other => Failure::Other(other.to_string()),
    }
}

fn open(app: &App) -> Result<WatchStore> {
    WatchStore::open(app.dirs.watches()).map_err(failure)
}

/// `watch add LOCAL REMOTE [--propagate-deletes] [--ignore GLOB]...` and
/// `watch add --links FILE|DIR LOCALDIR`.
pub(crate) fn add(app: &App, args: WatchAddArgs) -> Result<()> {
    let store = open(app)?;
    let src = absolute(&args.src)?;
    if !src.exists() {
        return Err(Failure::NotFound(format!("{}: no such local file or folder", args.src)));
    }
    let kind = if args.links {
        let dest = absolute(&args.dst)?;
        std::fs::create_dir_all(&dest)?;
        WatchKind::Links { source: src, dest }
    } else {
        if !src.is_dir() {
            return Err(Failure::Usage(format!(
                "{}: not a folder (give a folder to back up, or --links for a links file)",
                args.src
            )));
        }
        if is_link(&args.dst) {
            return Err(Failure::Usage(format!("{}: uploads go to a folder of the drive, not a link", args.dst)));
        }
        WatchKind::Upload { local: src, remote: args.dst, trash_deleted: args.propagate_deletes, ignore: args.ignore }
    };
    let w = store.add(kind).map_err(failure)?;
    let (text, row) = describe(&store, &w);
    app.out.emit(&[text], &row);
    app.out.note(format!("added watch {}; `tuatara-cli watch run` runs it", w.id));
    Ok(())
}

/// A watch's line of `watch list` and its JSON object.
fn describe(store: &WatchStore, w: &Watch) -> (String, Value) {
    let running = store.is_running(&w.id);
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
    let store = open(app)?;
    let watches = store.list().map_err(failure)?;
    if watches.is_empty() {
        app.out.note("no watches (`tuatara-cli watch add LOCAL REMOTE` adds one)");
    }
    let (text, rows): (Vec<String>, Vec<Value>) = watches.iter().map(|w| describe(&store, w)).unzip();
    app.out.emit(&text, &Value::Array(rows));
    Ok(())
}

/// `watch pause|resume ID...`: every id checked before anything changes.
pub(crate) fn set_paused(app: &App, ids: &[String], paused: bool) -> Result<()> {
    let store = open(app)?;
    for id in ids {
        store.get(id).map_err(failure)?;
    }
    for id in ids {
        store.set_paused(id, paused).map_err(failure)?;
        app.out.note(format!("{} watch {id}", if paused { "paused" } else { "resumed" }));
    }
    Ok(())
}

/// `watch remove ID...`.
pub(crate) fn remove(app: &App, ids: &[String]) -> Result<()> {
    let store = open(app)?;
    for id in ids {
        store.get(id).map_err(failure)?;
    }
    for id in ids {
        store.remove(id).map_err(failure)?;
        app.out.note(format!("removed watch {id} (nothing local or remote was deleted)"));
    }
    Ok(())
}

/// `watch run [ID...]`.
pub(crate) async fn run(app: &App, args: WatchRunArgs) -> Result<()> {
    let store = open(app)?;
    let only = if args.ids.is_empty() {
        None
    } else {
        for id in &args.ids {
            store.get(id).map_err(failure)?;
            busy(&store, id)?;
        }
        Some(args.ids.clone())
    };
    let mut passwords = args.password;
    passwords.extend(app.link_password.clone());
    foreground(app, &store, only, &args.opts, &args.timing, passwords).await
}

/// Fails when another runner has the watch.
pub(crate) fn busy(store: &WatchStore, id: &str) -> Result<()> {
    if !store.is_running(id) {
        return Ok(());
    }
    let pid = store.run_lock_holder(id).map(|p| format!(" in process {p}")).unwrap_or_default();
    Err(Failure::Other(format!("watch {id} is already running{pid}; a watch runs in one place at a time")))
}

/// Runs the watches (all of the store, or `only`) until Ctrl-C or SIGTERM.
pub(crate) async fn foreground(
    app: &App,
    store: &WatchStore,
    only: Option<Vec<String>>,
    opts: &TransferOpts,
    timing: &WatchTiming,
    passwords: Vec<String>,
) -> Result<()> {
    let selected: Vec<Watch> = store
        .list()
        .map_err(failure)?
        .into_iter()
        .filter(|w| only.as_ref().is_none_or(|o| o.contains(&w.id)))
        .collect();
    let uploads = selected.iter().any(|w| matches!(w.kind, WatchKind::Upload { .. }));
    let (session, tree) = if uploads {
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
    let mut sup = watch::supervise(&run.engine, store, only, options, POLL);
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(POLL);
    let mut report =
        Report { run: &run, json: app.out.json, jobs: HashMap::new(), waiting: HashSet::new(), counts: [0; 4] };
    if selected.is_empty() {
        app.out.note("no watches yet: waiting for `tuatara-cli watch add` (Ctrl-C stops)");
    }
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
            e = sup.next_event() => match e {
                Some(e) => report.supervisor(app, e),
                None => break,
            },
            ev = events.recv() => match ev {
                Ok(ev) => report.event(ev),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => report.waiting_links(store, &sup.statuses()),
        }
    }
    sup.stop().await;
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
    /// Links already reported as waiting for a password.
    waiting: HashSet<String>,
    /// Uploaded, downloaded, failed, skipped.
    counts: [u64; 4],
}

impl Report<'_> {
    fn say(&self, text: String, row: Value) {
        self.run.say(if self.json { row.to_string() } else { text });
    }

    fn supervisor(&self, app: &App, e: SupervisorEvent) {
        match e {
            SupervisorEvent::Started(id) => app.out.note(format!("watching ({id})")),
            SupervisorEvent::Stopped(id) => app.out.note(format!("stopped watch {id} (removed)")),
            SupervisorEvent::Busy { id, pid } => app.out.warn(format!(
                "watch {id} is already running{}; left to it (taken over if it stops)",
                pid.map(|p| format!(" in process {p}")).unwrap_or_default()
            )),
            SupervisorEvent::Failed { id, message } => {
                app.out.warn(format!("watch {id} could not start: {message} (tried again later)"))
            }
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

    /// Links of running links watches that wait for a password, each said once.
    fn waiting_links(&mut self, store: &WatchStore, running: &[(String, watch::WatchStatus)]) {
        for (id, status) in running {
            if status.needs_password == 0 {
                continue;
            }
            let Ok(ledger) = watch::ledger(store, id) else { continue };
            for (link, e) in ledger {
                if e.state == LinkState::NeedsPassword && self.waiting.insert(link.clone()) {
                    self.say(
                        format!("waiting     {link}: password-protected (#P!): give --password"),
                        json!({"event": "needs_password", "link": link, "watch": id}),
                    );
                }
            }
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
    let source = absolute(file)?;
    if !source.is_file() {
        return Err(Failure::NotFound(format!("{file}: no such file")));
    }
    let dest = absolute(to.as_deref().unwrap_or("."))?;
    std::fs::create_dir_all(&dest)?;
    let store = WatchStore::open(app.dirs.links_watches()).map_err(failure)?;
    let existing = store.list().map_err(failure)?.into_iter().find_map(|w| match &w.kind {
        WatchKind::Links { source: s, dest: d } if *s == source => Some((w.id.clone(), *d == dest)),
        _ => None,
    });
    let kind = WatchKind::Links { source, dest };
    let id = match existing {
        Some((id, true)) => id,
        Some((id, false)) => {
            // Another folder this time: a fresh ledger for it.
            busy(&store, &id)?;
            store.remove(&id).map_err(failure)?;
            store.add(kind).map_err(failure)?.id
        }
        None => store.add(kind).map_err(failure)?.id,
    };
    busy(&store, &id)?;
    let passwords = password.into_iter().chain(app.link_password.clone()).collect();
    app.out.note(format!("watching {file} for MEGA links (Ctrl-C stops)"));
    foreground(app, &store, Some(vec![id]), opts, timing, passwords).await
}
