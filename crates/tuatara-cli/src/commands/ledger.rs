//! `links get FILE|-`: every MEGA link in a text (a links file, a forum post, stdin), checked
//! first (name, size, alive or removed or blocked), then downloaded. A ledger in the data dir
//! (`links-ledger.json`, 0600) keeps which links are done and which failed, keyed by kind and
//! public handle (never the key), so that a second run skips what is done.
//!
//! Unlike the other commands, the report (one row per distinct link: alive, done, dead or
//! needs_password) is printed on stdout even when it exits 6 for dead or waiting links: it is
//! the data a script wants in that case.

use std::collections::BTreeMap;
use std::io::Read;

use mega_api::{Link, LinkKind};
use mega_proto::extract::extract_links;
use mega_proto::link::ParsedLink;
use mega_transfer::Conflict;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cli::TransferOpts;
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::{App, Source};
use crate::transfers::absolute;

/// One link's line in the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    status: Status,
    name: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Status {
    Done,
    Failed,
}

type Ledger = BTreeMap<String, Entry>;

fn ledger_key(link: &Link) -> String {
    let kind = if link.kind == LinkKind::File { "file" } else { "folder" };
    match &link.sub {
        Some(sub) => format!("{kind}:{}:{}", link.handle.to_b64(), sub.handle().to_b64()),
        None => format!("{kind}:{}", link.handle.to_b64()),
    }
}

fn load(app: &App) -> Result<Ledger> {
    let p = app.dirs.ledger();
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|_| Failure::Other(format!("{} is damaged: remove it to start the ledger over", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger::new()),
        Err(e) => Err(e.into()),
    }
}

fn save(app: &App, ledger: &Ledger) -> Result<()> {
    let p = app.dirs.ledger();
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let body = serde_json::to_vec_pretty(ledger).map_err(|e| Failure::Other(e.to_string()))?;
    Ok(tuatara_core::files::write_atomic(&p, &body)?)
}

/// What the check found for one link.
struct Checked {
    url: String,
    state: State,
}

enum State {
    /// Alive: the resolved link, its name and size.
    Alive(Box<Link>, String, u64),
    /// Done by an earlier run.
    Done(Entry),
    /// A `#P!` link and no password given.
    NeedsPassword,
    /// Removed, blocked, malformed, or the password or key does not fit.
    Dead(Failure),
}

impl Checked {
    fn row(&self) -> (String, Value) {
        let url = &self.url;
        match &self.state {
            State::Alive(_, name, size) => (
                format!("alive    {:>10}  {name}  {url}", output::size(*size)),
                json!({"link": url, "status": "alive", "name": name, "size": size}),
            ),
            State::Done(e) => (
                format!("done     {:>10}  {}  {url}", output::size(e.size), e.name),
                json!({"link": url, "status": "done", "name": e.name, "size": e.size}),
            ),
            State::NeedsPassword => (
                format!("waiting  {:>10}  (password-protected: give --password)  {url}", "?"),
                json!({"link": url, "status": "needs_password"}),
            ),
            State::Dead(f) => (
                format!("dead     {:>10}  {f}  {url}", "-"),
                json!({"link": url, "status": "dead", "error": f.to_string()}),
            ),
        }
    }
}

/// Checks one link, `resolved` from [`App::links`] (its `#P!` decrypted, its key checked).
async fn check(app: &App, parsed: &ParsedLink, resolved: Result<Link>, has_password: bool, ledger: &Ledger) -> Checked {
    let url = parsed.to_url();
    if matches!(parsed, ParsedLink::Protected(_)) && !has_password {
        return Checked { url, state: State::NeedsPassword };
    }
    let link = match resolved {
        Ok(l) => l,
        Err(f) => return Checked { url, state: State::Dead(f) },
    };
    if let Some(e) = ledger.get(&ledger_key(&link)).filter(|e| e.status == Status::Done) {
        return Checked { url, state: State::Done(e.clone()) };
    }
    let state = match app.open_link(&link).await {
        Ok(Source::File(f)) => State::Alive(Box::new(link), f.name.clone(), f.size),
        Ok(Source::Tree { tree, node, .. }) => {
            let size =
                tree.subtree(node).iter().filter_map(|h| tree.get(*h)).filter(|n| n.is_file()).map(|n| n.size()).sum();
            let name = tree.get(node).map(|n| n.name().to_string()).unwrap_or_default();
            State::Alive(Box::new(link), name, size)
        }
        Err(f) => State::Dead(f),
    };
    Checked { url, state }
}

/// `links get FILE|- [--to DIR] [--password P] [--check]`.
pub(crate) async fn get(
    app: &App,
    file: &str,
    to: Option<String>,
    password: Option<String>,
    check_only: bool,
    opts: TransferOpts,
) -> Result<()> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        let bytes = std::fs::read(file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::NotFound(format!("{file}: no such file")),
            _ => Failure::from(e),
        })?;
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let found = extract_links(&text);
    if found.is_empty() {
        return Err(Failure::NotFound(format!("{file}: no MEGA links in it")));
    }
    let mut ledger = load(app)?;
    // Every #P! link decrypted up front, together: a PBKDF2 each, spread over all cores.
    let resolved = app.links(&found, password.as_deref()).await;
    let has_password = password.is_some() || app.link_password.is_some();
    let bar = app.out.bar(found.len() as u64, "checking");
    let mut checked = Vec::new();
    for (p, r) in found.iter().zip(resolved) {
        checked.push(check(app, p, r, has_password, &ledger).await);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if check_only {
        let (text, rows): (Vec<String>, Vec<Value>) = checked.iter().map(Checked::row).unzip();
        app.out.emit(&text, &Value::Array(rows));
        return outcome(&checked, 0);
    }
    let dir = absolute(to.as_deref().unwrap_or("."))?;
    std::fs::create_dir_all(&dir)?;
    // Public links need no account; an own unfinished job the engine may meet does.
    let run = app.transfers(&opts, app.session().await.ok(), None)?;
    let alive: Vec<&Link> =
        checked.iter().filter_map(|c| if let State::Alive(l, ..) = &c.state { Some(&**l) } else { None }).collect();
    let asked: Vec<mega_transfer::Asked<'_>> =
        alive.iter().map(|l| mega_transfer::Asked::Link { link: l, dir: &dir }).collect();
    let _ = run.continue_matching(&asked).await?;
    let mut failed = 0;
    for c in &mut checked {
        let State::Alive(link, name, size) = &c.state else { continue };
        let key = ledger_key(link);
        let r = match run.engine.download_link(link, &dir, Conflict::Rename).await {
            Ok(ids) => run.wait(&ids).await?,
            Err(mega_transfer::TransferError::Api(e)) => {
                c.state = State::Dead(Failure::from_link(e));
                ledger.insert(key, Entry { status: Status::Failed, name: String::new(), size: 0, error: None });
                failed += 1;
                save(app, &ledger)?;
                continue;
            }
            Err(e) => return Err(Failure::Other(e.to_string())),
        };
        let bad: Vec<String> = r.iter().filter(|e| !e.ok()).map(|e| format!("{}: {:?}", e.name, e.outcome)).collect();
        let entry = Entry {
            status: if bad.is_empty() { Status::Done } else { Status::Failed },
            name: name.clone(),
            size: *size,
            error: (!bad.is_empty()).then(|| bad.join("; ")),
        };
        if bad.is_empty() {
            c.state = State::Done(entry.clone());
        } else {
            failed += 1;
            c.state = State::Dead(Failure::Other(bad.join("; ")));
        }
        ledger.insert(key, entry);
        save(app, &ledger)?;
    }
    run.close();
    let (text, rows): (Vec<String>, Vec<Value>) = checked.iter().map(Checked::row).unzip();
    app.out.emit(&text, &Value::Array(rows));
    outcome(&checked, failed)
}

/// Exit 0 when every link is done (or alive, for `--check`); else 6 when only links were at
/// fault (dead, or waiting for a password), 1 when a download failed.
fn outcome(checked: &[Checked], failed_downloads: usize) -> Result<()> {
    let dead = checked.iter().filter(|c| matches!(c.state, State::Dead(_))).count();
    let waiting = checked.iter().filter(|c| matches!(c.state, State::NeedsPassword)).count();
    if dead == 0 && waiting == 0 {
        return Ok(());
    }
    let msg = format!(
        "{} of {} links not downloaded: {dead} dead or failed, {waiting} waiting for a password",
        dead + waiting,
        checked.len()
    );
    if failed_downloads > 0 {
        Err(Failure::Other(msg))
    } else {
        Err(Failure::BadLink(msg))
    }
}
