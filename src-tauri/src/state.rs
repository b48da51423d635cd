//! The app's state: directories, settings, the signed-in account (session, tree, engine,
//! running watches, background tasks), a login waiting for its 2FA code, the embedded demo
//! server, and the progress bridge. Signing in builds all of it in one place
//! ([`AppState::sign_in`]); signing out (or an expired session) tears it down.

use std::sync::{Arc, Mutex};

use mega_api::{Client, ClientBuilder, PendingMfa, Session, Tree};
use mega_transfer::Engine;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::task::JoinHandle;
use tuatara_core::watches::{self, RunOptions, WatchEvent, Watches};

use crate::bridge::{self, Bridge, Notice};
use tuatara_core::settings::SettingsFile;
use tuatara_core::vault::{Last, NoKeyring, Vault};
use tuatara_core::Dirs;

use crate::dto::{Account, LinksRechecked, QuotaWaiting, Settings, TreeChanged};
use crate::error::{IpcError, IpcResult};

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
    /// Work started by commands that lives as long as the sign-in (following downloads to
    /// record them in the links ledger).
    background: Mutex<Vec<JoinHandle<()>>>,
}

impl Signed {
    /// Runs `work` until it ends or this sign-in does.
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut all = self.background.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|t| !t.is_finished());
        all.push(tokio::spawn(work));
    }
}

impl Drop for Signed {
    fn drop(&mut self) {
        let background = self.background.get_mut().unwrap_or_else(|e| e.into_inner());
        for t in self.tasks.iter().chain(background.iter()) {
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
    /// The viewer's stream server: bound before the window (its origin is in the window's
    /// CSP) or at its first use; it serves the signed-in session's files ([`AppState::streams`]).
    pub streams: tokio::sync::OnceCell<tuatara_core::serve::Streams>,
    /// Links from outside (the launch's arguments, a second launch before signing in) waiting
    /// for the signed-in window (`startup_links`).
    pub outside_links: Mutex<Vec<String>>,
}

impl AppState {
    /// The state over these directories (creates them).
    pub fn new(dirs: Dirs) -> IpcResult<Self> {
        std::fs::create_dir_all(&dirs.config)?;
        std::fs::create_dir_all(&dirs.data)?;
        let settings_file = SettingsFile::new(&dirs);
        let settings = settings_file.load();
        let watches = Watches::open(&dirs)?;
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
            streams: tokio::sync::OnceCell::new(),
            outside_links: Mutex::new(Vec::new()),
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

    /// The stream server (bound now if it was not yet: loopback, any free port), serving the
    /// signed-in session's files.
    pub async fn streams(&self) -> IpcResult<&tuatara_core::serve::Streams> {
        let streams = self
            .streams
            .get_or_try_init(|| async {
                let streams = tuatara_core::serve::Streams::bind(Default::default()).await?;
                if let Some(signed) = self.signed.read().await.as_ref() {
                    streams.open(signed.engine.clone());
                }
                Ok::<_, IpcError>(streams)
            })
            .await?;
        Ok(streams)
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
        // From the node cache, caught up (fetched whole and written when there is none); the
        // event channel's follower keeps the cache current.
        // A demo drive's server and account are new at each start: nothing to keep.
        let started = std::time::Instant::now();
        let cached = if demo {
            tuatara_core::cache::CachedTree::uncached(&session).await?
        } else {
            tuatara_core::cache::CachedTree::open(&self.dirs, &session).await?
        };
        let origin = cached.origin();
        let (tree, cache) = cached.into_followed(&session).await?;
        log::info!("the drive's {} nodes read in {:?} ({origin:?})", tree.len(), started.elapsed());
        let tree = Arc::new(tokio::sync::Mutex::new(tree));
        let me = session.whoami().await?;
        let settings = self.settings();
        let config = settings.engine_config(self.dirs.journal());
        let engine = Engine::new(config, session.client().clone(), Some(session.clone()), Some(tree.clone()))?;
        // Not kept (not asked, or no keyring: a desktop keeps no secret in a file; or the
        // keyring refused): the next start asks for the password again. The sign-in goes on.
        let remembered = remember
            && match self.vault.save(api_url, &session.save(), NoKeyring::KeepNothing) {
                Ok(kept) => kept.is_some(),
                Err(e) => {
                    log::warn!("the session was not kept: {e}");
                    false
                }
            };
        let api = remembered.then(|| api_url.to_string());
        self.vault.set_last(&Last { api_url: api, demo: demo && remembered })?;
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
        tasks.push(tokio::spawn(follow_events(app.clone(), session.clone(), tree.clone(), cache)));
        tasks.push(tokio::spawn(recheck_received(app.clone(), session.client().clone())));
        // The watches of an earlier sign-in let go before these take them.
        let old = self.signed.read().await.clone();
        if let Some(old) = old {
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
            background: Mutex::new(Vec::new()),
            tasks,
        });
        if let Some(streams) = self.streams.get() {
            streams.open(signed.engine.clone());
        }
        if let Some(old) = self.signed.write().await.replace(signed) {
            stop_watches(&old).await;
        }
        Ok(account)
    }

    /// Ends the signed-in state (watches stopped, tasks aborted); returns it.
    pub async fn sign_out(&self) -> Option<Arc<Signed>> {
        let old = self.signed.write().await.take()?;
        if let Some(streams) = self.streams.get() {
            streams.close();
        }
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
    if let Notice::QuotaWait { seconds } = n {
        let _ = app.emit("quota://waiting", QuotaWaiting { seconds });
    }
    let (title, body) = n.notification();
    if notify {
        show_notification(app, title, body);
    }
}

/// A desktop notification; without the plugin (the tests' mock runtime) there is nothing to
/// show.
pub(crate) fn show_notification<R: Runtime>(app: &AppHandle<R>, title: String, body: String) {
    if let Some(n) = app.try_state::<tauri_plugin_notification::Notification<R>>() {
        if let Err(e) = n.builder().title(title).body(body).show() {
            log::debug!("no notification: {e}");
        }
    }
}

/// How often the periodic re-check of the received links looks whether it is due (it looks at
/// sign-in first).
const RECHECK_TICK: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Re-checks the received links (the links ledger) every `linksRecheckHours` (0: never), tells
/// the windows (`links://rechecked`) and, with notifications on, says which stopped working.
async fn recheck_received<R: Runtime>(app: AppHandle<R>, client: Client) {
    let path = app.state::<AppState>().dirs.ledger();
    let every_app = app.clone();
    let every = move || {
        let hours = every_app.state::<AppState>().settings().links_recheck_hours;
        (hours > 0).then_some(u64::from(hours) * 3600)
    };
    tuatara_core::links::recheck_periodically(client, path, every, RECHECK_TICK, move |rows| {
        let down: Vec<String> =
            rows.iter().filter(|r| r.went_down()).map(|r| r.name.clone().unwrap_or_else(|| r.link.clone())).collect();
        log::info!("received links re-checked: {} links, {} stopped working", rows.len(), down.len());
        let state = app.state::<AppState>();
        if !down.is_empty() && state.settings().notifications {
            let title =
                format!("{} received link{} stopped working", down.len(), if down.len() == 1 { "" } else { "s" });
            show_notification(&app, title, down.join(", "));
        }
        let _ = app.emit("links://rechecked", LinksRechecked { checked: rows.len(), down });
    })
    .await;
}

/// Follows the session's event channel (`tuatara_core::changes`) and tells the windows which
/// folders changed. An expired session signs out and sends `session://expired`.
async fn follow_events<R: Runtime>(
    app: AppHandle<R>,
    session: Session,
    tree: Arc<tokio::sync::Mutex<Tree>>,
    cache: Option<tuatara_core::cache::Writer>,
) {
    let windows = app.clone();
    tuatara_core::changes::follow(session, tree, cache, move |folders| {
        let folders = folders.into_iter().map(|h| h.to_b64()).collect();
        let _ = windows.emit("tree://changed", TreeChanged { folders });
    })
    .await;
    let state = app.state::<AppState>();
    if let Some(old) = state.sign_out().await {
        let _ = state.vault.forget_account(&old.account.api_url, &old.account.email);
        let _ = state.vault.set_last(&Last::default());
    }
    let _ = app.emit("session://expired", ());
}
