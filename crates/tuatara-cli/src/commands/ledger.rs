//! `links get FILE|-`: every MEGA link in a text (a links file, a forum post, stdin), checked
//! first (name, size, alive or removed or blocked), then downloaded. A ledger in the data dir
//! (`links-ledger.json`, 0600) keeps which links are done and which failed, keyed by kind and
//! public handle (never the key), so that a second run skips what is done. A csv or json
//! links file of `links export` is read with its metadata (in the JSON rows as `expected`), and
//! `--keys KEYFILE` gives keyless links their keys by handle. A link that now points at
//! something else than such a file says (name, size or fingerprint) is `changed` and not
//! downloaded unless `--allow-changed`; a downloaded file's fingerprint is verified against
//! the file's. The reading, the checking, the
//! downloads and the ledger are `tuatara_core::links`; here they are shown.
//!
//! Unlike the other commands, the report (one row per distinct link: alive, done, dead or
//! needs_password) is printed on stdout even when it exits 6 for dead or waiting links: it is
//! the data a script wants in that case.

use std::io::Read;
use std::path::Path;

use indicatif::ProgressBar;
use serde_json::{json, Value};
use tuatara_core::links::{
    self, integrity, CheckOptions, Checked, FileMeta, KeyFile, Ledger, LinkEntry, LinkStatus, Progress,
};

use crate::cli::TransferOpts;
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::App;
use crate::transfers::{absolute, interrupted};

/// One link's row: text and JSON, with the warning of a name that hides what it is; a csv or
/// json links file's metadata rides along in the JSON.
fn row(c: &Checked, meta: Option<&FileMeta>) -> (String, Value) {
    let (mut text, mut json) = status_row(c);
    if !c.changes.is_empty() {
        for change in &c.changes {
            text.push_str(&format!("\n         {change}"));
        }
        json["changes"] = json!(c.changes);
    }
    if let Some(w) = &c.warning {
        text.push_str(&format!("\n         warning: {w}"));
        json["warning"] = json!(w);
    }
    if let (Some(meta), Some(row)) = (meta, json.as_object_mut()) {
        row.insert("expected".into(), json!(meta));
    }
    (text, json)
}

/// One link's row, its status.
fn status_row(c: &Checked) -> (String, Value) {
    let url = &c.url;
    let (name, size) = (c.name.as_deref().unwrap_or(""), c.size.unwrap_or(0));
    match c.status {
        LinkStatus::Alive | LinkStatus::Done => {
            let status = if c.status == LinkStatus::Alive { "alive" } else { "done" };
            (
                format!("{status:<8} {:>10}  {name}  {url}", output::size(size)),
                json!({"link": url, "status": status, "name": name, "size": size}),
            )
        }
        LinkStatus::Changed => (
            format!("changed  {:>10}  {name}  {url}", output::size(size)),
            json!({"link": url, "status": "changed", "name": name, "size": size, "error": c.message}),
        ),
        LinkStatus::NeedsPassword => (
            format!("waiting  {:>10}  (password-protected: give --password)  {url}", "?"),
            json!({"link": url, "status": "needs_password"}),
        ),
        _ => {
            let why = match c.status {
                LinkStatus::NeedsKey => {
                    "the link has no key: add it after '#', or give it with --link-key or a key file with --keys"
                        .to_string()
                }
                _ => c.message.clone().unwrap_or_default(),
            };
            (format!("dead     {:>10}  {why}  {url}", "-"), json!({"link": url, "status": "dead", "error": why}))
        }
    }
}

/// How `links get` goes: `--check`, `--allow-changed`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GetMode {
    /// Only check.
    pub(crate) check_only: bool,
    /// Download changed links as they are now.
    pub(crate) allow_changed: bool,
}

/// `links get FILE|- [--to DIR] [--password P] [--check] [--keys KEYFILE] [--allow-changed]`:
/// FILE plain text, or a csv/json links file of `links export`.
pub(crate) async fn get(
    app: &App,
    file: &str,
    to: Option<String>,
    password: Option<String>,
    mode: GetMode,
    keys: Option<String>,
    opts: TransferOpts,
) -> Result<()> {
    let keys = keys.map(|k| KeyFile::load(Path::new(&k))).transpose()?;
    let found = read_list(file, keys.as_ref())?;
    let mut ledger = Ledger::open(app.dirs.ledger())?;
    let password = password.or_else(|| app.link_password.clone());
    let check = CheckOptions { password: password.as_deref(), key: app.link_key.as_deref(), ledger: Some(&ledger) };
    let mut checked = links::check_list(&app.client, &found, check, &mut progress(app)).await;
    if mode.check_only {
        return report(app, &checked, &found, 0);
    }
    if mode.allow_changed {
        links::allow_changed(&mut checked);
    }
    for c in checked.iter().filter(|c| c.status == LinkStatus::Alive) {
        if let Some(w) = &c.warning {
            app.out.warn(format!("{}: {w}", c.name.as_deref().unwrap_or("")));
        }
        if !c.changes.is_empty() {
            let changes = integrity::describe(&c.changes);
            app.out.warn(format!("{}: changed, downloaded as it is now: {changes}", c.name.as_deref().unwrap_or("")));
        }
    }
    let dir = absolute(to.as_deref().unwrap_or("."))?;
    std::fs::create_dir_all(&dir)?;
    // Public links need no account; an own unfinished job the engine may meet does.
    let run = app.transfers(&opts, app.session().await.ok(), None)?;
    {
        let alive = checked.iter().filter(|c| c.status == LinkStatus::Alive).filter_map(|c| c.link.as_ref());
        let asked: Vec<mega_transfer::Asked<'_>> =
            alive.map(|l| mega_transfer::Asked::Link { link: l, dir: &dir }).collect();
        let _ = run.continue_matching(&asked).await?;
    }
    let failed = tokio::select! {
        r = links::download_checked(&run.engine, &mut ledger, &mut checked, &dir) => r?,
        _ = tokio::signal::ctrl_c() => return Err(interrupted()),
    };
    run.close();
    report(app, &checked, &found, failed)
}

/// The entries of a links file (`-`: stdin): a csv/json export's with their metadata, or the
/// links of plain text, keyless ones given their keys from `keys`; one without MEGA links is
/// [`Failure::NotFound`].
pub(crate) fn read_list(file: &str, keys: Option<&KeyFile>) -> Result<Vec<LinkEntry>> {
    let found = links::read_list(&read_text(file)?, keys)?;
    if found.is_empty() {
        return Err(Failure::NotFound(format!("{file}: no MEGA links in it")));
    }
    Ok(found)
}

/// The text of a links file, or of stdin for `-`.
fn read_text(file: &str) -> Result<String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    let bytes = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::NotFound(format!("{file}: no such file")),
        _ => Failure::from(e),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The progress of a check, shown: a spinner while `#P!` links are decrypted, then a bar.
pub(crate) fn progress(app: &App) -> impl FnMut(Progress) + Send + '_ {
    let (mut spinner, mut bar): (Option<ProgressBar>, Option<ProgressBar>) = (None, None);
    move |p| match p {
        Progress::Decrypting(1) => spinner = Some(app.out.spinner("decrypting the #P! link")),
        Progress::Decrypting(n) => spinner = Some(app.out.spinner(&format!("decrypting {n} #P! links"))),
        Progress::Checking(n) => {
            spinner.take().inspect(ProgressBar::finish_and_clear);
            bar = (n > 0).then(|| app.out.bar(n as u64, "checking"));
        }
        Progress::Checked => {
            if let Some(b) = &bar {
                b.inc(1);
                if b.position() >= b.length().unwrap_or(0) {
                    b.finish_and_clear();
                }
            }
        }
    }
}

/// Prints the rows. Exit 0 when every link is done (or alive, for `--check`); else 6 when only
/// links were at fault (dead, changed, or waiting for a password), 1 when a download failed.
fn report(app: &App, checked: &[Checked], found: &[LinkEntry], failed_downloads: usize) -> Result<()> {
    let (text, rows): (Vec<String>, Vec<Value>) =
        checked.iter().zip(found).map(|(c, e)| row(c, e.meta.as_ref())).unzip();
    app.out.emit(&text, &Value::Array(rows));
    let waiting = checked.iter().filter(|c| c.status == LinkStatus::NeedsPassword).count();
    let changed = checked.iter().filter(|c| c.status == LinkStatus::Changed).count();
    let dead = checked
        .iter()
        .filter(|c| {
            !matches!(c.status, LinkStatus::Alive | LinkStatus::Done | LinkStatus::NeedsPassword | LinkStatus::Changed)
        })
        .count();
    if dead == 0 && waiting == 0 && changed == 0 {
        return Ok(());
    }
    let mut msg = format!(
        "{} of {} links not downloaded: {dead} dead or failed, {waiting} waiting for a password",
        dead + waiting + changed,
        checked.len()
    );
    if changed > 0 {
        msg.push_str(&format!(
            "; {changed} changed since the links file was made (--allow-changed downloads them as they are now)"
        ));
    }
    if failed_downloads > 0 {
        Err(Failure::Other(msg))
    } else {
        Err(Failure::BadLink(msg))
    }
}
