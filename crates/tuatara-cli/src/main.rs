//! `tuatara-cli`: an rclone-style command-line client for MEGA, on `mega-api`.
//!
//! ```text
//! tuatara-cli login you@example.com        # password prompt (or --password-stdin), 2FA prompt or --mfa
//! tuatara-cli ls -l -R /Documents           # also: ls https://mega.nz/folder/...#key
//! tuatara-cli mv /a.txt /Archive/           # mkdir -p, cp, rm [--permanent], restore, tree, find
//! tuatara-cli link /Photos --password pw    # a #P! link; link decrypt URL turns it back, offline
//! tuatara-cli dedupe /Documents --mode newest
//! ```
//!
//! Design choices:
//! * **Data on stdout, people on stderr.** Results go to stdout (as text, or as one JSON
//!   document with `--json`); notes, warnings, prompts and spinners (indicatif, hidden when
//!   stderr is not a terminal) go to stderr.
//! * **Distinct exit codes** for the failures a script branches on, mapped from `mega-api`'s
//!   error kinds in one place (`error.rs`):
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | other failure |
//! | 2 | usage error |
//! | 3 | not found (unknown path) |
//! | 4 | ambiguous: several nodes carry that name (see `dedupe`) |
//! | 5 | bad credentials: wrong e-mail or password, wrong or missing two-factor code |
//! | 6 | bad link: malformed, without its key, wrong `#P!` password, removed or blocked |
//! | 7 | not logged in, or the session expired |
//! | 8 | over quota |
//! | 9 | network failure, or the service stayed busy |
//!
//! * **Nothing half-done without saying so.** Every path of a command is resolved before
//!   anything changes; when a later step fails, the message says what was already done.
//! * **Sessions, never passwords, are kept**: the saved session goes to the OS keyring (service
//!   `tuatara`, account `<email> @ <api url>`); without a reachable Secret Service it goes to a
//!   file of mode 0600 in the config directory, with a warning. Which account is logged in at
//!   which API URL is in `accounts.json` in the config directory (`directories`, so
//!   `XDG_CONFIG_HOME` is honoured). Nothing secret is printed or logged.
//! * **Strict paths.** `/a/b` walks the cloud drive, `//bin/..` the rubbish bin,
//!   `//shares/<name>/..` incoming shares (`ls //shares` lists them); a name carried by several nodes is an error, not a
//!   silent pick. A MEGA link works wherever a path is read.
//!
//! * **Transfers on `mega-transfer`.** `get`, `put`, `copy`, `links get` and `resume` run the
//!   engine with its journal in the data directory (`.../tuatara/transfers`, `XDG_DATA_HOME`
//!   honoured). An interrupted transfer (Ctrl-C, kill -9, a crash) is continued by `resume`, or
//!   by the same command run again: journal entries of the same source and destination are
//!   continued first (only their missing chunks move), then the rest is queued and what is
//!   identical is skipped. A download is verified (meta-MAC) before it gets its final name; a
//!   mismatch is a failure and leaves nothing at the final path.
//! * **Streaming** (`cat`, `serve http`): a file's bytes, or any range of them, fetched piece by
//!   piece and decrypted as they are read (`tuatara-core`'s `serve`); `serve http` prints a URL
//!   with a token of the run, then serves until Ctrl-C.
//! * **Which side is remote.** `get` and `put` take their direction from the command (with two
//!   or more arguments the last one is the destination). `copy` needs the remote side spelt
//!   `remote:PATH`; anything else is a local path.
//!
//! ```text
//! tuatara-cli get /Photos ~/Pictures        # folders recursively; links too (--password for #P!)
//! tuatara-cli put ./report.pdf /Documents   # --connections 8 --transfers 4 --limit-rate BYTES
//! tuatara-cli copy ./photos remote:/Photos  # skips identical files; and back the other way
//! tuatara-cli get /Big . --bwlimit "08:00,256K:1M 18:00,off"  # rclone's timetable, UP:DOWN
//! tuatara-cli links get links.txt --to dl   # check, de-duplicate, download, ledger of done
//! tuatara-cli links get list.csv --to dl    # metadata checked: changed links skipped (--allow-changed)
//! tuatara-cli links check links.txt        # alive, removed, taken down...: exit 0 or 6
//! tuatara-cli links check --ledger        # re-check what was downloaded, history kept
//! tuatara-cli transfers; tuatara-cli resume # the journal, and continuing it
//! tuatara-cli cat /Videos/a.mkv --offset 1000000 --count 4096 | xxd   # only that piece is fetched
//! tuatara-cli serve http /Videos            # prints http://127.0.0.1:PORT/TOKEN/: mpv, VLC, a browser
//! ```
//!
//! * **Watches** (`watch add|list|pause|resume|remove|run`, `links get FILE --watch`) use
//!   `tuatara_core::watches` (over `mega_transfer::watch`): the store in the data dir (`.../tuatara/watches`) is shared with
//!   any other process of the same user (the app, another `watch add`) and locked across
//!   processes; `watch run` follows it (watches added, removed or paused elsewhere are picked up
//!   within a second) and takes each watch's run lock, so no watch runs twice. It runs until
//!   Ctrl-C or SIGTERM and exits 0; transfers cut short continue on the next run.
//!
//! ```text
//! tuatara-cli watch add ~/Pictures/camera /Backups/camera --ignore '*.xmp'
//! tuatara-cli watch add --links ~/links.txt ~/Downloads
//! tuatara-cli watch list --json; tuatara-cli watch pause ID; tuatara-cli watch run
//! tuatara-cli links get links.txt --watch --to dl  # new links appended later come down too
//! ```
//!
//! Not here: pausing or reordering single jobs from the command line.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod error;
mod output;
mod remote;
mod transfers;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, LinksAction, ServeAction, WatchAction};
use crate::commands::{account, change, check, dedupe, ledger, links, listing, stream, transfer, watch};
use crate::error::{Failure, Result};
use crate::output::Out;
use crate::remote::App;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    output::init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", output::escaped(&f.to_string()));
            ExitCode::from(f.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let mut builder = mega_api::Client::builder();
    if let Some(url) = &cli.api_url {
        builder = builder.api_url(url);
    }
    let client = builder.build().map_err(|e| Failure::Usage(format!("--api-url: {e}")))?;
    let app = App {
        client,
        dirs: tuatara_core::Dirs::of_user()?,
        vault: tuatara_core::vault::Vault::new(tuatara_core::Dirs::of_user()?),
        out: Out { json: cli.json, quiet: cli.quiet },
        link_password: cli.link_password,
        link_key: cli.link_key,
        no_cache: cli.no_cache,
    };
    match cli.command {
        Command::Login(args) => account::login(&app, args).await,
        Command::Logout => account::logout(&app).await,
        Command::Whoami => account::whoami(&app).await,
        Command::Diagnostics { output } => account::diagnostics(&app, output.as_deref()),
        Command::Quota => account::quota(&app).await,
        Command::Ls(args) => listing::ls(&app, args, false).await,
        Command::Lsd(args) => listing::ls(&app, args, true).await,
        Command::Tree { path } => listing::tree(&app, path).await,
        Command::Find { pattern, within } => listing::find(&app, &pattern, within).await,
        Command::Mkdir { path, parents } => change::mkdir(&app, &path, parents).await,
        Command::Mv { src, dst } => change::mv(&app, &src, &dst).await,
        Command::Cp { src, dst } => change::cp(&app, &src, &dst).await,
        Command::Rm { paths, permanent } => change::rm(&app, &paths, permanent).await,
        Command::Restore { paths } => change::restore(&app, &paths).await,
        Command::Link(args) => links::link(&app, args).await,
        Command::Links { action: LinksAction::Export(args) } => links::export(&app, args).await,
        Command::Import { link, dest, password } => links::import(&app, &link, dest, password).await,
        Command::Dedupe(args) => dedupe::dedupe(&app, args).await,
        Command::Get(args) => transfer::get(&app, args).await,
        Command::Cat(args) => stream::cat(&app, args).await,
        Command::Serve { action: ServeAction::Http(args) } => stream::serve_http(&app, args).await,
        Command::Put(args) => transfer::put(&app, args).await,
        Command::Copy(args) => transfer::copy(&app, args).await,
        Command::Resume(opts) => transfer::resume(&app, opts).await,
        Command::Transfers => transfer::list(&app).await,
        Command::Links { action: LinksAction::Check { file, ledger: _, password } } => {
            check::check(&app, file.as_deref(), password).await
        }
        Command::Links { action: LinksAction::Get { file, to, password, watch: true, timing, opts, .. } } => {
            watch::links_file(&app, &file, to, password, &timing, &opts).await
        }
        Command::Links { action: LinksAction::Get { file, to, password, check, keys, allow_changed, opts, .. } } => {
            let mode = ledger::GetMode { check_only: check, allow_changed };
            ledger::get(&app, &file, to, password, mode, keys, opts).await
        }
        Command::Watch { action } => match action {
            WatchAction::Add(args) => watch::add(&app, args),
            WatchAction::List => watch::list(&app),
            WatchAction::Pause { ids } => watch::set_paused(&app, &ids, true),
            WatchAction::Resume { ids } => watch::set_paused(&app, &ids, false),
            WatchAction::Remove { ids } => watch::remove(&app, &ids),
            WatchAction::Run(args) => watch::run(&app, args).await,
        },
    }
}
