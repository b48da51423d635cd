//! The app's state: directories, settings, the signed-in account (session, tree, engine,
//! running watches, background tasks), a login waiting for its 2FA code, the embedded demo
//! server, and the progress bridge. Signing in builds all of it in one place
//! ([`AppState::sign_in`]); signing out (or an expired session) tears it down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mega_api::{Client, ClientBuilder, PendingMfa, Session, Tree};
use mega_transfer::{Engine, EngineConfig};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::task::JoinHandle;
use tuatara_core::watches::{self, RunOptions, WatchEvent, Watches};

use crate::bridge::{self, Bridge, Notice};
use crate::dirs::Dirs;
use crate::dto::{Account, QuotaWaiting, Settings, TreeChanged};
use crate::error::{IpcError, IpcResult};
use crate::settings::SettingsFile;
use crate::vault::Vault;

/// Everything a signed-in account has.
pub struct Signed {
    /// The session.
    pub session: Session,
    /// The node tree, kept current by the event channel.
    pub tree: Arc<tokio::sync::Mutex<Tree>>,
    /// The transfer engine (journal in the data dir).
    pub engine: Engine,
    /// Who.
    pub account: Account,
    /// The watches running on the engine (every watch of the store, following it).
    watches: tokio::sync::Mutex<Option<watches::Running>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Signed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A login waiting for its two-factor code.
pub struct PendingLogin {
    /// The half-done login.
    pub mfa: PendingMfa,
    /// Keep the session in the keyring once done.
    pub remember: bool,
    /// The API URL.
    pub api_url: String,
    /// The client.
    pub client: Client,
}

/// The app's managed state.
pub struct AppState {
    /// Where things live.
    pub dirs: Dirs,
    /// The saved session.
    pub vault: Vault,
    /// The settings file.
    pub settings_file: SettingsFile,
    /// The settings in force.
    pub settings: Mutex<Settings>,
    /// The signed-in account.
    pub signed: tokio::sync::RwLock<Option<Arc<Signed>>>,
    /// A login waiting for its 2FA code.
    pub pending: tokio::sync::Mutex<Option<PendingLogin>>,
    /// The embedded demo server, once started.
    pub demo: tokio::sync::Mutex<Option<mega_testserver::TestServer>>,
    /// The transfer table and the windows' channels.
    pub bridge: Arc<Bridge>,
    /// Paths dropped on a window by the OS (newest last), kept for the end-to-end tests.
    pub drops: Mutex<Vec<Vec<String>>>,
    /// The watches (shared with `tuatara-cli watch`).
    pub watches: Watches,
}

impl AppState {
    /// The state over these directories (creates them).
    pub fn new(dirs: Dirs) -> IpcResult<Self> {
        std::fs::create_dir_all(&dirs.config)?;
        std::fs::create_dir_all(&dirs.data)?;
        let settings_file = SettingsFile::new(&dirs);
        let settings = settings_file.load();
        let watches = Watches::open(&tuatara_core::Dirs::new(&dirs.config, &dirs.data))?;
        Ok(AppState {
            vault: Vault::new(dirs.clone()),
            settings_file,
            settings: Mutex::new(settings),
            signed: tokio::sync::RwLock::new(None),
            pending: tokio::sync::Mutex::new(None),
            demo: tokio::sync::Mutex::new(None),
            bridge: Arc::new(Bridge::default()),
            drops: Mutex::new(Vec::new()),
            watches,
            dirs,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The signed-in account, or `notSignedIn`.
    pub async fn signed(&self) -> IpcResult<Arc<Signed>> {
        self.signed.read().await.clone().ok_or_else(IpcError::not_signed_in)
    }

    /// A client for an API URL with the settings' transport.
    pub fn client(&self, api_url: &str) -> IpcResult<Client> {
        Ok(ClientBuilder::new().api_url(api_url).https_transfers(self.settings().use_https).build()?)
    }

    /// A client for public links: the signed-in account's, or one for MEGA.
    pub async fn link_client(&self) -> IpcResult<Client> {
        match self.signed.read().await.as_ref() {
            Some(s) => Ok(s.session.client().clone()),
            None => self.client(mega_api::DEFAULT_API_URL),
        }
    }

    /// Takes a fresh session: fetches the tree, starts the engine (continuing the journal),
    /// the event channel and the watches, and keeps the session in the keyring if asked.
    pub async fn sign_in<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        session: Session,
        api_url: &str,
        demo: bool,
        remember: bool,
    ) -> IpcResult<Account> {
        let tree = Arc::new(tokio::sync::Mutex::new(session.fetch_tree().await?));
        let me = session.whoami().await?;
        let settings = self.settings();
        let mut config = EngineConfig::new(self.dirs.journal());
        config.connections_per_file = settings.connections as usize;
        config.max_files = settings.max_files_at_once as usize;
        (config.download_limit, config.upload_limit) = settings.limits_now();
        let engine = Engine::new(config, session.client().clone(), Some(session.clone()), Some(tree.clone()))?;
        let remembered = if remember {
            self.vault.save(api_url, demo, &session.save())?
        } else {
            // Not kept: the next start asks for the password again.
            self.vault.clear_last()?;
            false
        };
        let account = Account {
            name: me.name.filter(|n| !n.is_empty()).unwrap_or_else(|| me.email.clone()),
            email: me.email,
            api_url: api_url.to_string(),
            demo,
            remembered,
        };
        let mut tasks = Vec::new();
        let notify_app = app.clone();
        tasks
            .push(tokio::spawn(bridge::pump(self.bridge.clone(), engine.subscribe(), move |n| notice(&notify_app, n))));
        let (resumed, damaged) = engine.resume_journal();
        if !resumed.is_empty() {
            log::info!("{} transfers continue from the last run", resumed.len());
        }
        for e in damaged {
            log::warn!("a journal entry could not be resumed: {e}");
        }
        tasks.push(tokio::spawn(follow_events(app.clone(), session.clone(), tree.clone())));
        tasks.push(tokio::spawn(apply_schedule(app.clone())));
        // The watches of an earlier sign-in let go before these take them.
        if let Some(old) = self.signed.read().await.clone() {
            stop_watches(&old).await;
        }
        let (running, events) = self.watches.run(&engine, None, RunOptions::default());
        tasks.push(tokio::spawn(log_watch_events(events)));
        let signed = Arc::new(Signed {
            session,
            tree,
            engine,
            account: account.clone(),
            watches: tokio::sync::Mutex::new(Some(running)),
            tasks,
        });
        if let Some(old) = self.signed.write().await.replace(signed) {
            stop_watches(&old).await;
        }
        Ok(account)
    }

    /// Ends the signed-in state (watches stopped, tasks aborted); returns it.
    pub async fn sign_out(&self) -> Option<Arc<Signed>> {
        let old = self.signed.write().await.take()?;
        stop_watches(&old).await;
        old.engine.pause_all();
        Some(old)
    }
}

async fn stop_watches(signed: &Signed) {
    if let Some(running) = signed.watches.lock().await.take() {
        running.stop().await;
    }
}

/// What the running watches report, in the app's log (a failure to start is also the watch's
/// error in the list).
async fn log_watch_events(mut events: tokio::sync::mpsc::UnboundedReceiver<WatchEvent>) {
    while let Some(e) = events.recv().await {
        if e.is_warning() {
            log::warn!("{e}");
        } else {
            log::info!("{e}");
        }
    }
}

/// Shows what the bridge reports beyond the channels.
fn notice<R: Runtime>(app: &AppHandle<R>, n: Notice) {
    let state = app.state::<AppState>();
    let notify = state.settings().notifications;
    let (title, body) = match n {
        Notice::QuotaWait { seconds } => {
            let _ = app.emit("quota://waiting", QuotaWaiting { seconds });
            (
                "Transfer quota used up".to_string(),
                format!("Transfers continue in about {} minutes", seconds.div_ceil(60)),
            )
        }
        Notice::Done { name, download } => {
            let what = if download { "Downloaded" } else { "Uploaded" };
            (what.to_string(), name)
        }
        Notice::Failed { name, message } => (format!("{name} failed"), message),
    };
    // Without the plugin (the tests' mock runtime) there is nothing to show.
    let plugin = app.try_state::<tauri_plugin_notification::Notification<R>>();
    if let (true, Some(n)) = (notify, plugin) {
        if let Err(e) = n.builder().title(title).body(body).show() {
            log::debug!("no notification: {e}");
        }
    }
}

/// Follows the session's event channel: applies the packets to the tree and tells the windows
/// which folders changed. An expired session signs out and sends `session://expired`.
async fn follow_events<R: Runtime>(app: AppHandle<R>, session: Session, tree: Arc<tokio::sync::Mutex<Tree>>) {
    let mut events = session.events(&*tree.lock().await);
    loop {
        let batch = match events.next().await {
            Ok(b) => b,
            Err(e) if e.kind() == mega_api::ErrorKind::SessionExpired => {
                let state = app.state::<AppState>();
                if let Some(old) = state.sign_out().await {
                    let _ = state.vault.forget(&old.account.api_url, &old.account.email);
                }
                let _ = app.emit("session://expired", ());
                return;
            }
            Err(e) => {
                log::warn!("event channel: {e}");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        let folders = match &batch {
            mega_api::EventBatch::Reload => match session.fetch_tree().await {
                Ok(fresh) => {
                    let mut t = tree.lock().await;
                    *t = fresh;
                    events = session.events(&t);
                    t.nodes().filter(|n| n.is_container()).map(|n| n.handle().to_b64()).collect()
                }
                Err(e) => {
                    log::warn!("reloading the tree: {e}");
                    continue;
                }
            },
            mega_api::EventBatch::Packets { .. } => {
                let mut t = tree.lock().await;
                changed_folders(&mut t, &batch)
            }
        };
        if !folders.is_empty() {
            let _ = app.emit("tree://changed", TreeChanged { folders });
        }
    }
}

/// Applies a batch and names the folders whose listings changed (parents before and after).
fn changed_folders(tree: &mut Tree, batch: &mega_api::EventBatch) -> Vec<String> {
    use mega_api::Change;
    let mut before = HashMap::new();
    if let mega_api::EventBatch::Packets { packets, .. } = batch {
        for p in packets {
            for h in packet_nodes(p) {
                if let Some(parent) = tree.get(h).and_then(|n| n.parent()) {
                    before.insert(h, parent);
                }
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for c in tree.apply_batch(batch) {
        match c {
            Change::Added(h) | Change::Updated(h) => {
                out.extend(tree.get(h).and_then(|n| n.parent()));
            }
            Change::Moved { from, to, .. } => out.extend(from.into_iter().chain(to)),
            Change::Removed(h) => {
                out.extend(before.get(&h).copied());
                out.insert(h);
            }
        }
    }
    out.into_iter().map(|h| h.to_b64()).collect()
}

fn packet_nodes(p: &mega_api::ActionPacket) -> Vec<mega_api::NodeHandle> {
    use mega_api::ActionPacket;
    match p {
        ActionPacket::Removed { handle, .. } => vec![*handle],
        _ => Vec::new(),
    }
}

/// Applies the schedule's speed limits when a window starts or ends.
async fn apply_schedule<R: Runtime>(app: AppHandle<R>) {
    let mut last = None;
    loop {
        let state = app.state::<AppState>();
        let limits = state.settings().limits_now();
        if last != Some(limits) {
            if let Ok(s) = state.signed().await {
                s.engine.set_limits(limits.0, limits.1);
            }
            last = Some(limits);
        }
        tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    }
}
