//! `links check FILE|-` and `links check --ledger`: link rot, visible. Each link re-checked
//! (alive, removed, taken down, changed, needs key, needs password, bad) with the warning of a
//! name that hides what a file is; with `--ledger` every link of the ledger, the time and the
//! status recorded there with a short history. The checking is `tuatara_core::links::rot`;
//! here it is shown. Like `links get`, the rows go to stdout even when it exits 6.

use serde_json::Value;
use tuatara_core::links::{self, CheckOptions, Health, Ledger, Recheck};

use super::ledger::{progress, read_list};
use crate::error::{Failure, Result};
use crate::output;
use crate::remote::App;

/// `links check FILE|- [--password P]`, or `links check --ledger` (no file).
pub(crate) async fn check(app: &App, file: Option<&str>, password: Option<String>) -> Result<()> {
    let rows = match file {
        Some(file) => {
            let found = read_list(file, None)?;
            let password = password.or_else(|| app.link_password.clone());
            let opts = CheckOptions { password: password.as_deref(), key: app.link_key.as_deref(), ledger: None };
            links::recheck_list(&app.client, &found, opts, &mut progress(app)).await
        }
        None => {
            let mut ledger = Ledger::open(app.dirs.ledger())?;
            links::recheck_ledger(&app.client, &mut ledger, &mut progress(app)).await?
        }
    };
    let text: Vec<String> = rows.iter().map(row).collect();
    app.out.emit(&text, &serde_json::to_value(&rows).unwrap_or(Value::Null));
    if links::all_alive(&rows) {
        return Ok(());
    }
    let dead = rows.iter().filter(|r| r.status != Health::Alive).count();
    Err(Failure::BadLink(format!("{dead} of {} links are not alive", rows.len())))
}

/// One link's text row: status, size, name, link; why it is not alive; its history (ledger);
/// the warning of a name that hides what it is.
fn row(r: &Recheck) -> String {
    let size = r.size.map(output::size).unwrap_or_else(|| "-".into());
    let mut line = format!("{:<14} {size:>10}  {}  {}", r.status.label(), r.name.as_deref().unwrap_or(""), r.link);
    if let Some(why) = r.reason.as_deref().filter(|w| *w != r.status.label()) {
        line.push_str(&format!("\n               {why}"));
    }
    if r.history.len() > 1 {
        let steps: Vec<String> =
            r.history.iter().map(|c| format!("{} {}", c.status.label(), output::time(c.at as i64))).collect();
        line.push_str(&format!("\n               history: {}", steps.join(" -> ")));
    }
    if let Some(w) = &r.warning {
        line.push_str(&format!("\n               warning: {w}"));
    }
    line
}
