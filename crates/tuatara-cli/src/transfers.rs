//! Running the transfer engine for one command: building it (journal in the data dir), the
//! progress bars (per file and in total, on stderr), continuing journal entries that a repeated
//! command asks for again, waiting for jobs (Ctrl-C leaves them in the journal) and reporting
//! their outcomes with the exit code of the first failure.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mega_api::{ErrorKind, Session, Tree};
use mega_transfer::{Asked, Direction, Engine, EngineConfig, Event, JobId, Outcome, Rates, Schedule};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::cli::TransferOpts;
use crate::error::{Failure, Result};
use crate::output::{self, Out};
use crate::remote::App;

/// An engine with its progress display.
pub(crate) struct Run {
    pub(crate) engine: Engine,
    display: tokio::task::JoinHandle<()>,
    multi: MultiProgress,
    out: Out,
}

/// How one job ended, for the report.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub(crate) id: JobId,
    pub(crate) direction: Direction,
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) outcome: Outcome,
}

impl Ended {
    pub(crate) fn ok(&self) -> bool {
        matches!(self.outcome, Outcome::Done { .. } | Outcome::Skipped)
    }

    fn json(&self) -> Value {
        let dir = match self.direction {
            Direction::Download => "download",
            Direction::Upload => "upload",
        };
        let mut v = json!({"id": self.id, "direction": dir, "name": self.name, "size": self.size});
        match &self.outcome {
            Outcome::Done { path, node } => {
                v["status"] = "done".into();
                if let Some(p) = path {
                    v["path"] = p.display().to_string().into();
                }
                if let Some(n) = node {
                    v["handle"] = n.to_string().into();
                }
            }
            Outcome::Skipped => v["status"] = "skipped".into(),
            Outcome::Cancelled => v["status"] = "cancelled".into(),
            Outcome::Failed { message, .. } => {
                v["status"] = "failed".into();
                v["error"] = message.clone().into();
            }
        }
        v
    }

    fn line(&self) -> String {
        let what = match &self.outcome {
            Outcome::Done { path: Some(p), .. } => format!("done     {}", p.display()),
            Outcome::Done { .. } => format!("done     {}", self.name),
            Outcome::Skipped => format!("skipped  {} (identical)", self.name),
            Outcome::Cancelled => format!("stopped  {}", self.name),
            Outcome::Failed { message, .. } => format!("failed   {}: {message}", self.name),
        };
        format!("{what}  [{}]", output::size(self.size))
    }
}

impl App {
    /// An engine on the journal in the data dir, with progress bars on stderr (hidden with
    /// `--quiet`, `--json` or when stderr is not a terminal).
    pub(crate) fn transfers(
        &self,
        opts: &TransferOpts,
        session: Option<Session>,
        tree: Option<Arc<tokio::sync::Mutex<Tree>>>,
    ) -> Result<Run> {
        let mut config = EngineConfig::new(self.dirs.journal());
        config.connections_per_file = usize::from(opts.connections);
        config.max_files = usize::from(opts.transfers);
        config.download_limit = opts.limit_rate;
        config.upload_limit = opts.limit_rate;
        if let Some(spec) = &opts.bwlimit {
            let bad = |e: mega_transfer::ScheduleError| Failure::Usage(format!("--bwlimit {e}"));
            if spec.contains(',') {
                config.schedule = Some(spec.parse::<Schedule>().map_err(bad)?);
            } else {
                let r = spec.parse::<Rates>().map_err(bad)?;
                (config.download_limit, config.upload_limit) = (r.download, r.upload);
            }
        }
        let engine = Engine::new(config, self.client.clone(), session, tree)
            .map_err(|e| Failure::Other(format!("cannot open the transfer journal: {e}")))?;
        let hidden = self.out.quiet || self.out.json || !std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let display = tokio::spawn(show(engine.subscribe(), multi.clone(), self.out));
        Ok(Run { engine, display, multi, out: self.out })
    }
}

impl Run {
    /// Continues the journal's unfinished jobs that `asked` picks (the same source and
    /// destination asked for again) and waits for them, before anything new is queued: the new
    /// pass then finds those files identical and skips them.
    pub(crate) async fn continue_matching(&self, asked: &[Asked<'_>]) -> Result<Vec<Ended>> {
        let (ids, errors) = self.engine.resume_matching(asked);
        for e in errors {
            self.out.warn(e.to_string());
        }
        if !ids.is_empty() {
            self.note(format!("continuing {} interrupted transfer(s)", ids.len()));
        }
        self.wait(&ids).await
    }

    fn note(&self, s: String) {
        if !self.out.quiet {
            let _ = self.multi.println(output::escaped(&s));
        }
    }

    /// Waits for jobs. Ctrl-C stops waiting: what is unfinished stays in the journal.
    pub(crate) async fn wait(&self, ids: &[JobId]) -> Result<Vec<Ended>> {
        let mut ended = Vec::new();
        for id in ids {
            let outcome = tokio::select! {
                o = self.engine.wait(id) => o,
                _ = tokio::signal::ctrl_c() => return Err(interrupted()),
            };
            let Some(outcome) = outcome else { continue };
            let info = self.engine.job(id);
            let (direction, name, size) =
                info.map_or((Direction::Download, id.clone(), 0), |j| (j.direction, j.name, j.size));
            ended.push(Ended { id: id.clone(), direction, name, size, outcome });
        }
        Ok(ended)
    }

    /// A data line while bars may be drawn: above the bars on a terminal, else on stdout.
    pub(crate) fn say(&self, line: String) {
        if self.multi.is_hidden() {
            println!("{}", output::escaped(&line));
        } else {
            let _ = self.multi.println(output::escaped(&line));
        }
    }

    /// Stops the progress display.
    pub(crate) fn close(&self) {
        self.display.abort();
        let _ = self.multi.clear();
    }

    /// Stops the display, prints what happened, and fails with the first failure's code.
    pub(crate) fn report(self, ended: &[Ended]) -> Result<()> {
        self.close();
        let text: Vec<String> = ended.iter().map(Ended::line).collect();
        let failed: Vec<&Ended> = ended.iter().filter(|e| !e.ok()).collect();
        if failed.is_empty() {
            self.out.emit(&text, &Value::Array(ended.iter().map(Ended::json).collect()));
        } else {
            // Data on stdout only on success: on failure what each file did goes to stderr.
            for l in &text {
                eprintln!("{}", output::escaped(l));
            }
        }
        let Some(first) = failed.first() else {
            let done = ended.iter().filter(|e| matches!(e.outcome, Outcome::Done { .. })).count();
            self.out.note(format!("{done} transferred, {} skipped as identical", ended.len() - done));
            return Ok(());
        };
        let msg = format!(
            "{} of {} transfers failed; first: {}: {}",
            failed.len(),
            ended.len(),
            first.name,
            describe(&first.outcome)
        );
        Err(match &first.outcome {
            Outcome::Failed { kind, .. } => Failure::of_job(*kind, msg),
            _ => Failure::Other(msg),
        })
    }
}

/// Ctrl-C while transfers run: what is unfinished stays in the journal.
pub(crate) fn interrupted() -> Failure {
    Failure::Other("interrupted: the unfinished transfers are kept; `tuatara-cli resume` continues them".into())
}

/// A failed outcome said plainly (a MAC mismatch names what it means for the file).
fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Failed { kind: ErrorKind::Crypto, message } if message.contains("MAC") => format!(
            "the data does not match the file's MAC (corrupted or tampered with); nothing was saved at the final path ({message})"
        ),
        Outcome::Failed { message, kind } if kind.is_retryable_later() => {
            format!("{message} (kept in the journal: `tuatara-cli resume` continues it)")
        }
        Outcome::Failed { message, .. } => message.clone(),
        Outcome::Cancelled => "stopped".into(),
        _ => "ok".into(),
    }
}

/// The absolute form of a local path (the journal matches on it).
pub(crate) fn absolute(p: &str) -> Result<PathBuf> {
    Ok(std::path::absolute(p)?)
}

/// A line about waiting or retrying on stderr, escaped: above the bars on a terminal, else as
/// it is (the bars are hidden then, and a log or a script still learns why nothing moves).
fn notice(multi: &MultiProgress, line: String) {
    let line = output::escaped(&line);
    if multi.is_hidden() {
        eprintln!("{line}");
    } else {
        let _ = multi.println(line);
    }
}

/// Per-file bars and a total bar, fed by the engine's events.
async fn show(mut rx: broadcast::Receiver<Event>, multi: MultiProgress, out: Out) {
    let style = |t: &str| ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar());
    let total = multi.add(ProgressBar::new(0));
    total.set_style(style("total {bytes}/{total_bytes} [{bar:30}] {binary_bytes_per_sec} ETA {eta} ({msg})"));
    let mut bars: HashMap<JobId, (ProgressBar, u64)> = HashMap::new();
    let (mut files, mut finished) = (0u64, 0u64);
    loop {
        let ev = match rx.recv().await {
            Ok(ev) => ev,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        match ev {
            Event::Queued { id, name, size, .. } => {
                let pb = multi.insert_before(&total, ProgressBar::new(size));
                pb.set_style(style("{msg:30!} {bytes}/{total_bytes} [{bar:25}] {binary_bytes_per_sec} ETA {eta}"));
                pb.set_message(output::escaped(&name).into_owned());
                total.inc_length(size);
                files += 1;
                bars.insert(id, (pb, 0));
            }
            Event::Progress { id, done, .. } => {
                if let Some((pb, seen)) = bars.get_mut(&id) {
                    pb.set_position(done);
                    total.inc(done.saturating_sub(*seen));
                    *seen = done.max(*seen);
                }
            }
            Event::Retrying { reason, .. } if !out.quiet => notice(&multi, format!("retrying: {reason}")),
            Event::Waiting { until, .. } if !out.quiet => {
                let left = until.and_then(|u| u.duration_since(std::time::SystemTime::now()).ok());
                notice(
                    &multi,
                    format!(
                        "waiting for the transfer quota{}",
                        left.map(|l| format!(" ({} left)", output::duration(l))).unwrap_or_default()
                    ),
                );
            }
            Event::Done { id, .. } | Event::Skipped { id, .. } | Event::Cancelled { id } | Event::Failed { id, .. } => {
                if let Some((pb, seen)) = bars.remove(&id) {
                    total.inc(pb.length().unwrap_or(0).saturating_sub(seen));
                    pb.finish_and_clear();
                    multi.remove(&pb);
                    finished += 1;
                }
            }
            _ => {}
        }
        total.set_message(format!("{finished}/{files} files"));
    }
}
