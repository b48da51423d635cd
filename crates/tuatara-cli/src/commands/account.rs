//! `login`, `logout`, `whoami`, `quota`.

use std::io::{BufRead, IsTerminal, Write};

use mega_api::{ErrorKind, Login, Session};
use serde_json::json;
use tuatara_core::vault::{Backend, NoKeyring};
use zeroize::Zeroizing;

use crate::cli::LoginArgs;
use crate::error::{Failure, Result};
use crate::output::{duration, size};
use crate::remote::App;

/// Reads one line of stdin (without its line end); `None` at end of input.
fn stdin_line() -> Result<Option<Zeroizing<String>>> {
    let mut line = Zeroizing::new(String::new());
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(Some(trimmed))
}

/// Asks for a visible value on stderr and reads it from stdin.
fn ask(prompt: &str) -> Result<Option<String>> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    Ok(stdin_line()?.map(|l| l.trim().to_string()))
}

/// `login [EMAIL]`.
pub(crate) async fn login(app: &App, args: LoginArgs) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let email = match args.email {
        Some(e) => e,
        None if interactive && !args.password_stdin => {
            ask("E-mail: ")?.ok_or_else(|| Failure::Usage("no e-mail given".into()))?
        }
        None => return Err(Failure::Usage("give the e-mail: tuatara-cli login EMAIL".into())),
    };
    let password = if args.password_stdin {
        stdin_line()?.ok_or_else(|| Failure::Usage("--password-stdin: stdin is empty".into()))?
    } else if interactive {
        Zeroizing::new(rpassword::prompt_password("Password: ")?)
    } else {
        return Err(Failure::Usage("no terminal to ask for the password: use --password-stdin".into()));
    };
    let spinner = app.out.spinner("logging in (deriving the key, verifying...)");
    let attempt = app.client.login(&email, &password).await;
    spinner.finish_and_clear();
    drop(password);
    let session = match attempt? {
        Login::Done(s) => s,
        Login::NeedsMfa(pending) => {
            let code = match args.mfa {
                Some(c) => c,
                None if interactive => ask("Two-factor code: ")?.unwrap_or_default(),
                // After --password-stdin, a second line may carry the code.
                None => stdin_line()?.map(|c| c.trim().to_string()).unwrap_or_default(),
            };
            if code.is_empty() {
                return Err(Failure::Credentials(
                    "this account has two-factor authentication: give the code with --mfa CODE".into(),
                ));
            }
            let spinner = app.out.spinner("checking the two-factor code");
            let r = pending.complete(&code).await;
            spinner.finish_and_clear();
            r.map_err(|e| match e.kind() {
                ErrorKind::MfaRequired | ErrorKind::BadInput => Failure::Credentials("wrong two-factor code".into()),
                _ => Failure::from(e),
            })?
        }
    };
    store_session(app, &session)
}

fn store_session(app: &App, session: &Session) -> Result<()> {
    let saved = session.save();
    let backend = app
        .vault
        .save(app.client.api_url(), &saved, NoKeyring::UseFile)
        .map_err(|e| {
            Failure::from(e).context("logged in, but the session could not be stored (nothing was kept; log in again)")
        })?
        .unwrap_or(Backend::File);
    if backend == Backend::File {
        app.out.warn(
            "no Secret Service (OS keyring) is reachable: the session was stored in a file readable only \
             by you in the config directory",
        );
    }
    app.out.note(format!("logged in as {}", saved.email()));
    app.out.emit(&[], &json!({"email": saved.email(), "api_url": app.client.api_url(), "storage": backend.name()}));
    Ok(())
}

/// `logout`.
pub(crate) async fn logout(app: &App) -> Result<()> {
    let api = app.client.api_url();
    let ended_on_server = match app.session().await {
        Ok(session) => match session.logout().await {
            Ok(()) => true,
            Err(e) if e.kind() == ErrorKind::SessionExpired => false,
            Err(e) => return Err(Failure::from(e).context("the session could not be ended on the server (kept here)")),
        },
        Err(Failure::NotLoggedIn(_)) if app.vault.current(api)?.is_none() => {
            return Err(Failure::NotLoggedIn(format!("not logged in at {api}")));
        }
        Err(Failure::NotLoggedIn(_)) => false,
        Err(e) => return Err(e.context("the session could not be ended on the server (kept here)")),
    };
    let email = app.vault.forget(api)?.unwrap_or_default();
    if ended_on_server {
        app.out.note(format!("logged out {email}"));
    } else {
        app.out.note(format!("the session of {email} had already ended; forgotten here"));
    }
    app.out.emit(&[], &json!({"email": email, "ended_on_server": ended_on_server}));
    Ok(())
}

/// `whoami`.
pub(crate) async fn whoami(app: &App) -> Result<()> {
    let account = app.session().await?.whoami().await?;
    app.out.emit(
        std::slice::from_ref(&account.email),
        &json!({"email": account.email, "user": account.user.to_string(), "name": account.name}),
    );
    Ok(())
}

/// `diagnostics [-o FILE]`: offline, no session needed.
pub(crate) fn diagnostics(app: &App, output: Option<&std::path::Path>) -> Result<()> {
    use tuatara_core::diagnostics::{report, write, Face};
    let face = Face { name: "tuatara-cli", version: env!("CARGO_PKG_VERSION"), log: None };
    match output {
        Some(path) => {
            write(path, &app.dirs, face)?;
            app.out.note(format!("diagnostics written to {}", path.display()));
        }
        None => {
            let mut out = app.out.lines();
            for l in report(&app.dirs, face).lines() {
                out.line(l);
            }
        }
    }
    Ok(())
}

fn percent(used: u64, max: u64) -> String {
    if max == 0 {
        return String::new();
    }
    format!(" ({:.0}%)", used as f64 * 100.0 / max as f64)
}

/// `quota`.
pub(crate) async fn quota(app: &App) -> Result<()> {
    let q = app.session().await?.quota().await?;
    let mut text = vec![
        format!(
            "storage:  {} of {}{}",
            size(q.storage_used),
            size(q.storage_max),
            percent(q.storage_used, q.storage_max)
        ),
        if q.transfer_max > 0 {
            format!(
                "transfer: {} of {}{}",
                size(q.transfer_used),
                size(q.transfer_max),
                percent(q.transfer_used, q.transfer_max)
            )
        } else {
            format!("transfer: {} used (no fixed limit)", size(q.transfer_used))
        },
    ];
    if let Some(t) = q.transfer_time_left {
        text.push(format!("transfer quota frees in {}", duration(t)));
    }
    app.out.emit(
        &text,
        &json!({
            "storage_used": q.storage_used,
            "storage_max": q.storage_max,
            "transfer_used": q.transfer_used,
            "transfer_max": q.transfer_max,
            "transfer_frees_in_seconds": q.transfer_time_left.map(|t| t.as_secs()),
            "account_type": q.account_type,
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentages() {
        assert_eq!(super::percent(1, 0), "");
        assert_eq!(super::percent(50, 200), " (25%)");
    }
}
