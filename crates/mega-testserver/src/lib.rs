//! `mega-testserver`: a MEGA-compatible API and storage server on 127.0.0.1.
//!
//! No machine here reaches mega.nz, so every test, every benchmark and the app's offline demo
//! drive run against this server. It follows the wire protocol as MEGA's own clients use it
//! (`shared/protocol/MEGA-PROTOCOL.md`), so that what works here works against the service:
//! real third-party clients (megajs, rclone) are pointed at it too.
//!
//! It shares `mega-proto`'s cryptography with the client but never its protocol logic: it does
//! not depend on `mega-api`, so a client bug cannot be mirrored here.
//!
//! Like the real service it never sees plaintext: it stores ciphertext as uploaded and keys as
//! wrapped by the client. (It keeps each account's master key in memory only to seed content
//! the way a client would; that key is never sent.)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use mega_proto::{b64, NodeHandle, UserHandle};
use serde_json::Value;
use tokio::sync::watch;

pub mod account;
pub mod api;
mod bulk;
pub mod demo;
mod events;
pub mod faults;
mod files;
mod hashcash;
mod keys;
mod login;
mod nodes;
pub mod persist;
pub mod seed;
pub mod store;
#[cfg(feature = "test-support")]
pub mod support;
pub mod throttle;
mod transfer;

pub use account::Version;
use store::Store;

/// Shared server state.
pub struct App {
    /// Everything, behind one lock.
    pub store: Mutex<Store>,
    /// The base URL, ending in `/`.
    pub base: String,
    /// Bumped after every request that may have appended action packets.
    pub changes: watch::Sender<u64>,
    /// Bandwidth limits of the storage endpoints.
    pub throttle: throttle::Throttle,
    /// Set when the state changed and is not saved yet (`--data` only).
    dirty: std::sync::atomic::AtomicBool,
    /// Where the state is saved, with `--data`.
    persist_dir: Option<std::path::PathBuf>,
    /// Held while saving: one save at a time, and a final save waits for one in flight.
    saving: Mutex<()>,
    /// One writer at a time per upload file ([`App::upload_writer`]).
    upload_writers: Mutex<std::collections::HashMap<std::path::PathBuf, std::sync::Weak<tokio::sync::Mutex<()>>>>,
    _dir: Option<tempfile::TempDir>,
}

impl App {
    /// The turn to write into an upload's file. The chunk POSTs of one upload arrive side by
    /// side; writing them into the file at once makes them contend for its inode lock in the
    /// kernel, spinning (a fifth of the server's CPU during an 8-connection upload): they take
    /// turns instead, waiting without spinning.
    pub(crate) fn upload_writer(&self, path: &std::path::Path) -> Arc<tokio::sync::Mutex<()>> {
        let mut writers = self.upload_writers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = writers.get(path).and_then(std::sync::Weak::upgrade) {
            return w;
        }
        writers.retain(|_, w| w.strong_count() > 0);
        let w = Arc::new(tokio::sync::Mutex::new(()));
        writers.insert(path.to_path_buf(), Arc::downgrade(&w));
        w
    }

    /// Notes that the state changed, to be saved soon (`--data`).
    pub fn mark_dirty(&self) {
        self.dirty.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Saves the state now if it changed (`--data` only).
    pub fn save_if_dirty(&self) -> std::io::Result<()> {
        let Some(dir) = &self.persist_dir else { return Ok(()) };
        let _one_at_a_time = self.saving.lock().unwrap_or_else(|e| e.into_inner());
        if !self.dirty.swap(false, std::sync::atomic::Ordering::AcqRel) {
            return Ok(());
        }
        let data = persist::snapshot(&self.store.lock().unwrap_or_else(|e| e.into_inner()));
        persist::write(dir, &data).inspect_err(|_| self.mark_dirty())
    }

    /// The user of a b64 sid, if the session exists.
    pub fn session_user(&self, store: &Store, sid: &str) -> Option<UserHandle> {
        let raw = b64::decode_all(sid, "sid").ok()?;
        store.sessions.get(&raw).map(|s| s.user)
    }
}

/// A JSON reply.
pub(crate) fn json_response(v: &Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

async fn cs(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let id = q.get("id").cloned().unwrap_or_default();
    let sid_param = q.get("sid").cloned();
    let replay_key = (sid_param.clone().unwrap_or_default(), id.clone());
    let cmds = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(cmds)) => Some(cmds),
        _ => None,
    };
    if let Some(challenge) = cmds.as_deref().and_then(|c| hashcash::gate(&app, &headers, c)) {
        return challenge;
    }
    let reply = {
        let mut guard = app.store.lock().unwrap_or_else(|e| e.into_inner());
        let store = &mut *guard;
        if !id.is_empty() {
            if let Some((prev_body, prev_reply)) = store.replies.get(&replay_key) {
                if prev_body[..] == body[..] {
                    return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], prev_reply.clone())
                        .into_response();
                }
            }
        }
        let faults = store.faults.clone();
        if faults::Faults::hit(faults.http500) {
            return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
        }
        if faults::Faults::hit(faults.eagain) {
            return json_response(&Value::from(mega_proto::ErrorCode::Again.code()));
        }
        // A sid that is not b64 or names no session is ESID for the whole request.
        let sid = match &sid_param {
            None => None,
            Some(s) => match b64::decode_all(s, "sid") {
                Ok(raw) => Some(raw),
                Err(_) => return json_response(&Value::from(mega_proto::ErrorCode::Sid.code())),
            },
        };
        if let Some(raw) = sid.as_ref().filter(|_| faults::Faults::hit(faults.esid)) {
            store.sessions.remove(raw);
        }
        let user = match &sid {
            None => None,
            Some(raw) => match store.sessions.get(raw) {
                Some(session) => Some(session.user),
                None => return json_response(&Value::from(mega_proto::ErrorCode::Sid.code())),
            },
        };
        let Some(cmds) = cmds else {
            return json_response(&Value::from(mega_proto::ErrorCode::Args.code()));
        };
        // Inside a folder link: `n` is its public handle (a writable link appends an auth key).
        let folder_link = q.get("n").map(|n| {
            let ph = n.get(..8).and_then(|h| mega_proto::NodeHandle::from_b64(h).ok());
            let root = ph
                .and_then(|ph| store.links.get(&ph).copied())
                .filter(|root| store.nodes.get(root).is_some_and(|n| n.t == store::kind::FOLDER))
                .ok_or(mega_proto::ErrorCode::NotFound)?;
            match ph {
                Some(ph) if store.taken_down.contains(&ph) => Err(mega_proto::ErrorCode::Blocked),
                _ => Ok(root),
            }
        });
        count_commands(&mut store.command_stats, &cmds);
        let mut ctx = api::Ctx { store, user, sid, base: &app.base, folder_link };
        let results: Vec<String> = cmds.iter().map(|c| api::dispatch(&mut ctx, c)).collect();
        let reply = format!("[{}]", results.join(",")).into_bytes();
        if !id.is_empty() {
            if store.replies.len() > 100_000 {
                store.replies.clear();
            }
            store.replies.insert(replay_key, (body.to_vec(), reply.clone()));
        }
        reply
    };
    app.changes.send_modify(|n| *n += 1);
    if !cmds_read_only(&body) {
        tracing::debug!(body = %String::from_utf8_lossy(&body[..body.len().min(200)]), "a change: the state is to be saved");
        app.mark_dirty();
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], reply).into_response()
}

/// Counts the commands of one request by name.
fn count_commands(stats: &mut HashMap<String, store::CommandStats>, cmds: &[Value]) {
    let mut here: HashMap<&str, u64> = HashMap::new();
    for c in cmds {
        *here.entry(c.get("a").and_then(Value::as_str).unwrap_or("")).or_default() += 1;
    }
    for (name, n) in here {
        let s = stats.entry(name.to_string()).or_default();
        s.commands += n;
        s.requests += 1;
        s.largest = s.largest.max(n);
    }
}

/// True if every command in the request only reads (nothing to save afterwards).
fn cmds_read_only(body: &[u8]) -> bool {
    const READS: [&str; 6] = ["f", "ug", "uq", "uga", "uk", "us0"];
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(cmds)) => {
            cmds.iter().all(|c| {
                let a = c.get("a").and_then(Value::as_str);
                // `us` without `user` checks (resumes) a session: nothing changes.
                a.is_some_and(|a| READS.contains(&a)) || (a == Some("us") && c.get("user").is_none())
            })
        }
        _ => true,
    }
}

/// How often changed state is saved (`--data`).
const SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// A running server.
pub struct TestServer {
    app: Arc<App>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    saver: Option<tokio::task::JoinHandle<()>>,
}

/// Where the server keeps its files.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Address to listen on; `127.0.0.1:0` when unset.
    pub listen: Option<SocketAddr>,
    /// Data directory: the stored ciphertext, and the accounts, sessions, node tree, links and
    /// shares (saved within half a second of a change and at [`TestServer::stop`], loaded at
    /// start). When unset, a temporary directory and nothing is kept.
    pub data: Option<std::path::PathBuf>,
}

impl TestServer {
    /// Starts a server on a free loopback port with a temporary data directory.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Config::default()).await
    }

    /// Starts a server.
    pub async fn start_with(config: Config) -> std::io::Result<Self> {
        let listen = config.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (dir, tmp) = match &config.data {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut store = Store::new(&dir);
        if config.data.is_some() {
            persist::load(&dir, &mut store)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        }
        let (changes, _) = watch::channel(0);
        let app = Arc::new(App {
            store: Mutex::new(store),
            base: format!("http://{addr}/"),
            changes,
            throttle: throttle::Throttle::default(),
            dirty: std::sync::atomic::AtomicBool::new(false),
            persist_dir: config.data.clone(),
            saving: Mutex::new(()),
            upload_writers: Mutex::new(Default::default()),
            _dir: tmp,
        });
        let router = Router::new()
            .route("/cs", post(cs))
            .route("/sc", any(events::sc))
            .route("/wsc", any(events::wsc))
            .route("/wait/{user}/{sn}", any(events::wait))
            .route("/ul/{*rest}", post(transfer::upload_chunk))
            .route("/dl/{*rest}", any(transfer::download_range))
            .route("/fa/up/{*rest}", post(files::upload))
            .route("/fa/get", post(files::fetch))
            .route("/fa/get/{kind}", post(files::fetch))
            .layer(DefaultBodyLimit::disable())
            .with_state(app.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let saver = app.persist_dir.is_some().then(|| {
            let saver = app.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SAVE_INTERVAL);
                loop {
                    tick.tick().await;
                    let app = saver.clone();
                    let result = tokio::task::spawn_blocking(move || app.save_if_dirty()).await;
                    if let Ok(Err(e)) = result {
                        tracing::error!("saving the state failed: {e}");
                    }
                }
            })
        });
        Ok(TestServer { app, addr, shutdown: Some(tx), task: Some(task), saver })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234/`.
    pub fn url(&self) -> &str {
        &self.app.base
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds an account. RSA key generation makes this take up to a second or two.
    pub fn add_user(&self, email: &str, password: &str, version: Version) -> Result<UserHandle, String> {
        let r = self.app.store.lock().unwrap_or_else(|e| e.into_inner()).add_account(email, password, version);
        self.app.mark_dirty();
        r
    }

    /// Is there an account with this e-mail?
    pub fn has_user(&self, email: &str) -> bool {
        self.app.store.lock().unwrap_or_else(|e| e.into_inner()).by_email.contains_key(&email.to_lowercase())
    }

    /// Limits transfer bandwidth: for the whole server and for each transfer, in bytes per
    /// second (`None`: unlimited). Applies to transfers that start afterwards.
    pub fn set_throttle(&self, global: Option<u64>, per_connection: Option<u64>) {
        self.app.throttle.set(global, per_connection);
    }

    /// Sets the injected faults (all off by default).
    pub fn set_faults(&self, faults: faults::Faults) {
        self.app.store.lock().unwrap_or_else(|e| e.into_inner()).faults = faults;
    }

    /// Makes the shares and folder links the server creates from now on (seeding, the demo) as
    /// today's official apps make them: dummy `ok`/`ha`, the share key only in the owner's
    /// `^!keys` and an incoming share's recipient's, no `sk` on the recipient's share root.
    pub fn set_official_apps(&self, on: bool) {
        self.app.store.lock().unwrap_or_else(|e| e.into_inner()).official_apps = on;
    }

    /// Switches the hashcash challenge on logins on (with this easiness) or off.
    pub fn set_hashcash(&self, easiness: Option<u8>) {
        self.app.store.lock().unwrap_or_else(|e| e.into_inner()).hashcash = easiness;
    }

    /// Turns on two-factor authentication for an account, with a base32 TOTP secret.
    pub fn set_mfa(&self, email: &str, base32_secret: &str) -> Result<(), String> {
        let secret = totp_rs::Secret::Encoded(base32_secret.to_uppercase())
            .to_bytes()
            .map_err(|e| format!("bad base32 secret: {e:?}"))?;
        self.with_account(email, |a| a.mfa = Some(secret))
    }

    /// How the commands named `name` arrived so far (how many, in how many requests, the
    /// most in one request).
    pub fn command_stats(&self, name: &str) -> store::CommandStats {
        let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        store.command_stats.get(name).copied().unwrap_or_default()
    }

    /// The download bytes an account has asked for in the current transfer-quota window (each
    /// ranged request counts its whole range, as the quota does).
    pub fn transfer_used(&self, email: &str) -> Option<u64> {
        let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = store.by_email.get(&email.to_lowercase())?;
        store.accounts.get(user).map(|a| a.transfer_used)
    }

    /// Sets an account's transfer quota (bytes per window); downloads past it get HTTP 509.
    pub fn set_transfer_quota(&self, email: &str, bytes: u64) -> Result<(), String> {
        self.with_account(email, |a| a.transfer_max = bytes)
    }

    /// Sets the length of the transfer-quota window (default an hour); a new window starts now.
    pub fn set_quota_window(&self, window: std::time::Duration) {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        store.quota_window = window.as_secs().max(1) as i64;
        store.quota_window_start = store::now();
    }

    /// Sets the transfer quota of downloads without a session (public links).
    pub fn set_anonymous_transfer_quota(&self, bytes: u64) {
        self.app.store.lock().unwrap_or_else(|e| e.into_inner()).anon_transfer.1 = bytes;
    }

    fn with_account(&self, email: &str, f: impl FnOnce(&mut account::Account)) -> Result<(), String> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase()).ok_or_else(|| format!("no account {email}"))?;
        self.app.mark_dirty();
        store.accounts.get_mut(&user).map(f).ok_or_else(|| format!("no account {email}"))
    }

    /// Seeds a file for an account, encrypted as a client would, creating missing folders:
    /// `remote_path` like `/Photos/2024/a.jpg`. Returns the node handle.
    pub fn seed_file(
        &self,
        email: &str,
        remote_path: &str,
        local: &std::path::Path,
    ) -> Result<NodeHandle, seed::SeedError> {
        let mut f = std::fs::File::open(local)?;
        let meta = f.metadata()?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        self.seed_from(email, remote_path, &mut f, meta.len(), mtime)
    }

    /// Seeds a file from bytes (see [`TestServer::seed_file`]).
    pub fn seed_bytes(
        &self,
        email: &str,
        remote_path: &str,
        data: &[u8],
        mtime: i64,
    ) -> Result<NodeHandle, seed::SeedError> {
        self.seed_from(email, remote_path, &mut std::io::Cursor::new(data), data.len() as u64, mtime)
    }

    fn seed_from(
        &self,
        email: &str,
        remote_path: &str,
        source: &mut (impl std::io::Read + std::io::Seek),
        size: u64,
        mtime: i64,
    ) -> Result<NodeHandle, seed::SeedError> {
        let (user, dir) = {
            let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
            let user =
                *store.by_email.get(&email.to_lowercase()).ok_or_else(|| seed::SeedError::NoAccount(email.into()))?;
            (user, store.dir.clone())
        };
        let prepared = seed::prepare_file(&dir, source, size, mtime)?;
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        self.app.mark_dirty();
        seed::insert_file(&mut store, user, remote_path, prepared)
    }

    /// Seeds `/bulk` with `folders` folders of `files_per_folder` files each, fast (scale tests;
    /// the files share one stored blob; no action packets). Returns the `/bulk` folder.
    pub fn seed_bulk(
        &self,
        email: &str,
        folders: usize,
        files_per_folder: usize,
    ) -> Result<NodeHandle, seed::SeedError> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user =
            *store.by_email.get(&email.to_lowercase()).ok_or_else(|| seed::SeedError::NoAccount(email.into()))?;
        self.app.mark_dirty();
        bulk::seed_bulk(&mut store, user, folders, files_per_folder)
    }

    /// An upload URL for `size` bytes in an account, as `u` would give it (for benchmarks and
    /// tests that drive the storage endpoint directly).
    pub fn upload_url(&self, email: &str, size: u64) -> Option<String> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let id = store.new_upload(user, size);
        Some(format!("{}ul/{id}", self.app.base))
    }

    /// Exports one of an account's files and returns its link with the key.
    pub fn file_link(&self, email: &str, node: NodeHandle) -> Option<String> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        self.app.mark_dirty();
        seed::file_link(&mut store, user, node)
    }

    /// Seeds the demo drive (see [`demo`]) unless it is there already (from `--data`), and
    /// returns its links. Generating it takes a few seconds (about 700 MB are encrypted).
    pub fn seed_demo(&self) -> Result<demo::Demo, seed::SeedError> {
        let exists = self.app.store.lock().unwrap_or_else(|e| e.into_inner()).by_email.contains_key(demo::EMAIL);
        if !exists {
            for (email, password) in [(demo::EMAIL, demo::PASSWORD), (demo::FRIEND_EMAIL, demo::FRIEND_PASSWORD)] {
                self.add_user(email, password, Version::V2).map_err(|_| seed::SeedError::NoAccount(email.into()))?;
            }
            demo::seed(&self.app.store)?;
        }
        self.app.mark_dirty();
        demo::describe(&mut self.app.store.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Creates the folders of `path` (e.g. `/Photos/2024`) that are missing in an account's
    /// cloud drive, as a client would; returns the last one.
    pub fn seed_folder(&self, email: &str, path: &str) -> Result<NodeHandle, seed::SeedError> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user =
            *store.by_email.get(&email.to_lowercase()).ok_or_else(|| seed::SeedError::NoAccount(email.into()))?;
        let parts: Vec<&str> = path.split('/').collect();
        self.app.mark_dirty();
        seed::ensure_folder(&mut store, user, &parts)
    }

    /// The node at `path` (e.g. `/Photos/2024`) in an account's cloud drive.
    pub fn find(&self, email: &str, path: &str) -> Option<NodeHandle> {
        let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        seed::find_path(&store, *store.by_email.get(&email.to_lowercase())?, path)
    }

    /// Flips one bit of a file's stored ciphertext at `offset`, as a damaged disk or a
    /// tampering middlebox would: the server cannot tell, the client's MAC check must.
    pub fn corrupt_stored_content(&self, email: &str, path: &str, offset: u64) -> std::io::Result<()> {
        let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let not_found = || std::io::Error::new(std::io::ErrorKind::NotFound, format!("no file {path}"));
        let user = *store.by_email.get(&email.to_lowercase()).ok_or_else(not_found)?;
        let node = seed::find_path(&store, user, path).ok_or_else(not_found)?;
        let blob = store.nodes[&node].blob.clone().ok_or_else(not_found)?;
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&blob.path)?;
        let mut b = [0u8; 1];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut b, offset)?;
        b[0] ^= 0x80;
        std::os::unix::fs::FileExt::write_all_at(&file, &b, offset)
    }

    /// What an account's clients must never print or store in clear, for tests that look for
    /// leaks: the master key (the real service never has it; see [`account::Account::master`])
    /// and the b64 ids of the sessions the server handed out to the account.
    pub fn account_secrets(&self, email: &str) -> Option<([u8; 16], Vec<String>)> {
        let store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let master = *store.accounts.get(&user)?.master.as_bytes();
        let sids = store.sessions.iter().filter(|(_, s)| s.user == user).map(|(raw, _)| b64::encode(raw)).collect();
        Some((master, sids))
    }

    /// Replaces a node's key field with `k`, as a client that uploaded it with a key nobody
    /// else holds (or a damaged share) would leave it: the node stays listed, and no client can
    /// decrypt it. Returns `None` when there is no such account or path.
    pub fn replace_node_key(&self, email: &str, path: &str, k: &str) -> Option<()> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let node = seed::find_path(&store, user, path)?;
        self.app.mark_dirty();
        store.nodes.get_mut(&node)?.k = k.to_string();
        Some(())
    }

    /// Exports one of an account's folders as a folder link (as `s2` + `l` would) and returns
    /// the link with its key.
    pub fn folder_link(&self, email: &str, path: &str) -> Option<String> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let folder = seed::find_path(&store, user, path)?;
        self.app.mark_dirty();
        seed::folder_link(&mut store, user, folder)
    }

    /// Shares one of `owner`'s folders with another account (`access`: 0 read-only, 1
    /// read/write, 2 full); it appears in their `f` as an incoming share.
    pub fn share_folder(&self, owner: &str, path: &str, with: &str, access: u8) -> Option<()> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&owner.to_lowercase())?;
        let to = *store.by_email.get(&with.to_lowercase())?;
        let folder = seed::find_path(&store, user, path)?;
        self.app.mark_dirty();
        seed::share_with(&mut store, user, folder, to, access)
    }

    /// Takes down an exported node's link, as the service does after a takedown notice: its
    /// public handle stays known, and `g` on it (a file link) or any command inside it (a
    /// folder link) answers `-16` (EBLOCKED). Returns `None` when there is no such account,
    /// path or link.
    pub fn take_down(&self, email: &str, path: &str) -> Option<()> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let node = seed::find_path(&store, user, path)?;
        let ph = *store.exported.get(&node)?;
        store.taken_down.insert(ph);
        Some(())
    }

    /// Moves a node of an account's to its rubbish bin, as the web client does (`rr` kept).
    pub fn move_to_rubbish(&self, email: &str, path: &str) -> Option<()> {
        let mut store = self.app.store.lock().unwrap_or_else(|e| e.into_inner());
        let user = *store.by_email.get(&email.to_lowercase())?;
        let node = seed::find_path(&store, user, path)?;
        self.app.mark_dirty();
        seed::move_to_rubbish(&mut store, user, node)
    }

    /// Saves the state now if it changed (`--data`; it is also saved every half second).
    pub fn save(&self) -> std::io::Result<()> {
        self.app.save_if_dirty()
    }

    /// Stops the server, waits for it, and saves the state (`--data`).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Some(s) = self.saver.take() {
            s.abort();
            let _ = s.await;
        }
        if let Err(e) = self.app.save_if_dirty() {
            tracing::error!("saving the state failed: {e}");
        }
    }
}
