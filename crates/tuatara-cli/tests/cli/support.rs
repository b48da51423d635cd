//! Shared helpers: the real `tuatara-cli` binary run with its own config and data dirs, the
//! backends of the conformance suite, and a mega-api client for setting things up.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mega_api::Session;
use serde_json::Value;
pub(crate) use test_support::{client, content, files_below, EMAIL, PASSWORD};
use test_support::{server_with_account, TestServer};
use tokio::io::AsyncWriteExt;

/// One run of the binary.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    args: String,
}

impl Run {
    /// Asserts success and returns self.
    #[track_caller]
    pub(crate) fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "`{}` failed:\nstdout: {}\nstderr: {}", self.args, self.stdout, self.stderr);
        self
    }

    /// Asserts the exit code and a one-line message on stderr; nothing on stdout.
    #[track_caller]
    pub(crate) fn fails(&self, code: i32, says: &str) -> &Self {
        assert_eq!(self.code, code, "`{}`:\nstdout: {}\nstderr: {}", self.args, self.stdout, self.stderr);
        let errors: Vec<&str> = self.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "one error line expected: {}", self.stderr);
        assert!(errors[0].contains(says), "`{}`: {:?} does not say {says:?}", self.args, errors[0]);
        assert!(self.stdout.is_empty(), "`{}` printed data on failure: {}", self.args, self.stdout);
        self
    }

    /// stdout parsed as JSON (after asserting success).
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        self.ok();
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("`{}`: not JSON ({e}): {}", self.args, self.stdout))
    }

    /// stdout lines.
    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// The binary with its own XDG dirs, pointed at one API URL.
pub(crate) struct Cli {
    pub(crate) api_url: String,
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    pub(crate) fn new(api_url: &str) -> Self {
        Cli { api_url: api_url.to_string(), home: tempfile::tempdir().unwrap(), env: Vec::new() }
    }

    /// Without a reachable D-Bus session (so without a Secret Service).
    pub(crate) fn without_dbus(mut self) -> Self {
        let nowhere = self.home.path().join("no-bus");
        self.env.push(("DBUS_SESSION_BUS_ADDRESS".into(), format!("unix:path={}", nowhere.display())));
        self
    }

    pub(crate) fn config_dir(&self) -> PathBuf {
        self.home.path().join("config/tuatara")
    }

    pub(crate) async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "").await
    }

    /// The binary with this CLI's environment, not started.
    pub(crate) fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tuatara-cli"));
        cmd.args(args)
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("TUATARA_API_URL", &self.api_url)
            .env_remove("TUATARA_LINK_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The data dir (transfer journal, links ledger).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.home.path().join("data/tuatara")
    }

    pub(crate) async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the tuatara-cli binary runs");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: args.join(" "),
        }
    }

    /// `login EMAIL --password-stdin`.
    pub(crate) async fn login(&self, email: &str, password: &str) -> Run {
        self.run_with_stdin(&["login", email, "--password-stdin"], &format!("{password}\n")).await
    }

    /// The fallback session files.
    pub(crate) fn session_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.config_dir().join("sessions")) {
            Ok(d) => d.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A fresh test server with one v2 account, and the CLI logged in to it.
pub(crate) async fn logged_in() -> (TestServer, Cli) {
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    (server, cli)
}

/// Where the conformance suite runs.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) api_url: String,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) server: Option<TestServer>,
}

impl Backend {
    /// A fresh test server with one v2 account.
    pub(crate) async fn test_server() -> Self {
        let server = server_with_account().await;
        Backend {
            name: "mega-testserver",
            api_url: server.url().to_string(),
            email: EMAIL.into(),
            password: PASSWORD.into(),
            server: Some(server),
        }
    }

    /// The real service, when `MEGA_TEST_USER`/`MEGA_TEST_PASSWORD` are set.
    pub(crate) fn real() -> Option<Self> {
        let email = std::env::var("MEGA_TEST_USER").ok().filter(|s| !s.is_empty())?;
        let password = std::env::var("MEGA_TEST_PASSWORD").ok().filter(|s| !s.is_empty())?;
        Some(Backend { name: "mega.nz", api_url: mega_api::DEFAULT_API_URL.into(), email, password, server: None })
    }

    pub(crate) fn cli(&self) -> Cli {
        Cli::new(&self.api_url)
    }

    /// A mega-api session on the account, for setting up.
    pub(crate) async fn session(&self) -> Session {
        test_support::session(&client(&self.api_url), &self.email, &self.password).await
    }

    pub(crate) async fn stop(self) {
        if let Some(s) = self.server {
            s.stop().await;
        }
    }
}

/// A folder name no earlier run left behind (the real account is shared between runs).
pub(crate) fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The saved session the CLI stored in its fallback file (runs made `without_dbus`).
pub(crate) fn stored_session(cli: &Cli) -> mega_api::SavedSession {
    let files = cli.session_files();
    assert_eq!(files.len(), 1, "{files:?}");
    mega_api::SavedSession::from_secret_string(&std::fs::read_to_string(&files[0]).unwrap()).unwrap()
}

#[cfg(unix)]
pub(crate) fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}
