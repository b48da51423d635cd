//! The stream server of a face that outlives its sessions (the desktop app's viewer): bound
//! once, before anything is open, so that its origin (`http://127.0.0.1:PORT`) is known early
//! (a window's content security policy can name exactly it); it serves the files the face asks
//! a URL for ([`Streams::url`]) while a session is open ([`Streams::open`]) and nothing after
//! [`Streams::close`].
//!
//! Its URLs are `http://127.0.0.1:PORT/TOKEN/ID/NAME`: the token is new at every
//! [`Streams::open`] (a URL of an earlier session finds nothing), the id names one registered
//! file, the name is the file's (players read the extension). Requests are answered as
//! [`Server`](super::Server)'s are (`Range`, `HEAD`, `ETag`, `Content-Type` by name, the `Host`
//! check), by the same code.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use mega_api::{Client, Link, NodeHandle};
use mega_transfer::{Engine, Integrity, StreamFile};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::sync::{oneshot, watch};

use super::http::{listen, new_token, plain, refused, same_token, serve_file, spawn, ServeOptions};
use super::{FileTarget, FolderTarget, Target};
use crate::error::{Error, Result};

/// What a file's name keeps of itself in a URL: letters, digits and the unreserved marks, so
/// that players see its extension.
const NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_').remove(b'~');

/// How many files one session keeps URLs for; the oldest is forgotten beyond it.
const MAX_FILES: usize = 1024;

/// A stream server bound for the life of a face, serving registered files while a session is
/// open. Dropping it stops it.
#[derive(Debug)]
pub struct Streams {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

struct Shared {
    addr: SocketAddr,
    open: Mutex<Option<Open>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// An open session's part: its token, engine, files and opened folder links.
struct Open {
    token: String,
    engine: Engine,
    files: HashMap<String, Entry>,
    /// Folder links opened for their files, by URL.
    links: HashMap<String, FolderTarget>,
    /// Registrations so far (the age of an entry).
    count: u64,
    /// Dropped at close: the bodies under way end.
    _session: watch::Sender<()>,
    session: watch::Receiver<()>,
}

struct Entry {
    file: FileTarget,
    /// Held open: its chunk MACs (and so its verdict) last as long as its URL.
    stream: StreamFile,
    age: u64,
}

/// A file's stream URL and the id it is registered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamUrl {
    /// The id (for [`Streams::integrity`]).
    pub id: String,
    /// The URL: it carries the session's token, the key to every file registered.
    pub url: String,
}

impl Streams {
    /// Binds `options.addr` (loopback unless allowed otherwise) and serves; nothing is found
    /// until a session is opened.
    pub async fn bind(options: ServeOptions) -> Result<Streams> {
        let (listener, addr) = listen(options).await?;
        let shared = Arc::new(Shared { addr, open: Mutex::new(None) });
        let (stop, task) = spawn(listener, axum::Router::new().fallback(handle).with_state(shared.clone()));
        Ok(Streams { shared, stop: Some(stop), task })
    }

    /// The address bound.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The origin every URL starts with, `http://IP:PORT` (for a content security policy).
    pub fn origin(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Open>> {
        self.shared.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session streaming through `engine` (which holds the session for the own
    /// drive's files), with a new token; what an earlier session registered is forgotten.
    pub fn open(&self, engine: Engine) {
        let (tx, rx) = watch::channel(());
        *self.lock() = Some(Open {
            token: new_token(),
            engine,
            files: HashMap::new(),
            links: HashMap::new(),
            count: 0,
            _session: tx,
            session: rx,
        });
    }

    /// Ends the session: its URLs find nothing any more and the bodies under way end.
    pub fn close(&self) {
        self.lock().take();
    }

    /// A session is open.
    pub fn is_open(&self) -> bool {
        self.lock().is_some()
    }

    /// The URL that streams `file` in the open session (the same one for the same file).
    pub fn url(&self, file: FileTarget) -> Result<StreamUrl> {
        let mut guard = self.lock();
        let open = guard.as_mut().ok_or_else(not_open)?;
        let known = open
            .files
            .iter()
            .find(|(_, e)| e.file.handle == file.handle && e.file.size == file.size && e.file.source == file.source);
        let id = match known {
            Some((id, _)) => id.clone(),
            None => {
                if open.files.len() >= MAX_FILES {
                    if let Some(oldest) = open.files.iter().min_by_key(|(_, e)| e.age).map(|(id, _)| id.clone()) {
                        open.files.remove(&oldest);
                    }
                }
                let id = new_token()[..16].to_string();
                open.count += 1;
                let stream = file.open(&open.engine);
                open.files.insert(id.clone(), Entry { file: file.clone(), stream, age: open.count });
                id
            }
        };
        drop(guard);
        let url = self.url_of(&id).ok_or_else(not_open)?;
        Ok(StreamUrl { id, url })
    }

    /// The URL of a registered file; `None` for an id the open session does not know.
    pub fn url_of(&self, id: &str) -> Option<String> {
        let guard = self.lock();
        let open = guard.as_ref()?;
        let name = &open.files.get(id)?.file.name;
        Some(format!("http://{}/{}/{id}/{}", self.shared.addr, open.token, utf8_percent_encode(name, NAME)))
    }

    /// File `node` of the folder `link` opens to (opened once a session, then kept).
    pub async fn folder_link_file(&self, client: &Client, link: &Link, node: NodeHandle) -> Result<FileTarget> {
        let key = link.to_url();
        let known = self.lock().as_ref().ok_or_else(not_open)?.links.get(&key).cloned();
        let folder = match known {
            Some(f) => f,
            None => {
                let Target::Folder(folder) = Target::link(client, link).await? else {
                    return Err(Error::Invalid("not a folder link".to_string()));
                };
                let mut guard = self.lock();
                let open = guard.as_mut().ok_or_else(not_open)?;
                open.links.insert(key, folder.clone());
                folder
            }
        };
        folder.file(node)
    }

    /// What can be said of a registered file's integrity (verified once every byte was read
    /// through its URL); `None` for an id the open session does not know.
    pub fn integrity(&self, id: &str) -> Option<Integrity> {
        self.lock().as_ref()?.files.get(id).map(|e| e.stream.integrity())
    }

    /// Bytes `range` of a registered file (cut to its size), read through its stream (a text
    /// preview, a PDF viewer's pieces); `None` for an id the open session does not know.
    pub async fn read(&self, id: &str, range: std::ops::Range<u64>) -> Result<Option<Vec<u8>>> {
        let Some(stream) = self.lock().as_ref().and_then(|o| o.files.get(id)).map(|e| e.stream.clone()) else {
            return Ok(None);
        };
        let mut reader = stream.reader(range);
        let mut out = Vec::new();
        while let Some(b) = reader.next().await? {
            out.extend_from_slice(&b);
        }
        Ok(Some(out))
    }

    /// Stops serving.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn not_open() -> Error {
    Error::Invalid("streaming needs a signed-in session".to_string())
}

async fn handle(State(s): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&method, &headers, s.addr) {
        return refused;
    }
    let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
    let mut parts = path.splitn(3, '/');
    let (token, id, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let found = {
        let guard = s.open.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|o| same_token(token, &o.token)).and_then(|o| {
            let e = o.files.get(id)?;
            let named = percent_decode_str(name).decode_utf8().is_ok_and(|n| n == e.file.name);
            named.then(|| (o.engine.clone(), e.file.clone(), o.session.clone()))
        })
    };
    let Some((engine, file, mut session)) = found else { return plain(StatusCode::NOT_FOUND, "not found") };
    let ended = async move {
        // Err once the session's sender is dropped (closed, or opened anew).
        while session.changed().await.is_ok() {}
    };
    serve_file(&engine, &file, method == Method::HEAD, &headers, ended)
}
