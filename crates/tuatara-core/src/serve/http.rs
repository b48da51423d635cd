//! The local HTTP server that streams a [`Target`] to players and browsers, as MEGA's SDK
//! and rclone do: a folder as an index, files with `Range`, `HEAD`, `Content-Type`,
//! `Accept-Ranges` and `ETag`.
//!
//! Safety: it binds a loopback address unless told otherwise; every URL starts with an
//! unguessable token of the run (`http://127.0.0.1:PORT/TOKEN/...`), without which nothing
//! is found; a request whose `Host` is not the address bound is refused (a web page cannot
//! reach it through a DNS name rebound to 127.0.0.1). Files are sent sandboxed (no script of
//! an HTML file runs at the server's origin) and never sniffed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mega_api::NodeHandle;
use mega_proto::b64;
use mega_transfer::{Engine, Integrity};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use tokio::sync::oneshot;

use super::{FileTarget, FolderTarget, Target};
use crate::error::{Error, Result};

/// Where and how to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// The address to bind (port 0: any free port).
    pub addr: SocketAddr,
    /// Allow an address that is not loopback (reachable from other machines).
    pub allow_non_loopback: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), allow_non_loopback: false }
    }
}

/// A running stream server. Dropping it stops it.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    url: String,
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

struct Shared {
    engine: Engine,
    target: Target,
    token: String,
    addr: SocketAddr,
}

/// A path segment as it goes into a URL.
fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

impl Server {
    /// Binds `options.addr` and serves `target`, streaming through `engine` (which holds the
    /// session for the own drive's files), until stopped.
    pub async fn start(engine: Engine, target: Target, options: ServeOptions) -> Result<Server> {
        let (listener, addr) = listen(options).await?;
        let token = new_token();
        let base = format!("http://{addr}/{token}/");
        let url = match &target {
            Target::File(f) => format!("{base}{}", encode(&f.name)),
            Target::Folder(_) => base.clone(),
        };
        let shared = Arc::new(Shared { engine, target, token, addr });
        let (stop, task) = spawn(listener, axum::Router::new().fallback(handle).with_state(shared));
        Ok(Server { addr, url, base, stop: Some(stop), task })
    }

    /// The address bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to open: the file's, or the folder index's. It carries the run's token: it is
    /// the key to everything served.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of the index (the served folder, or the one file), ending in `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Serves until `stop` (Ctrl-C, a window closed) completes, then stops; or until the
    /// server fails.
    pub async fn serve_until(mut self, stop: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::select! {
            r = &mut self.task => match r {
                Ok(r) => r.map_err(|e| Error::Internal(format!("the stream server stopped: {e}"))),
                Err(e) => Err(Error::Internal(e.to_string())),
            },
            () = stop => {
                self.stop().await;
                Ok(())
            }
        }
    }

    /// Stops serving: no new connections; requests under way are ended.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `options.addr` (loopback unless allowed otherwise); the listener and the address bound.
pub(super) async fn listen(options: ServeOptions) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    if !options.addr.ip().is_loopback() && !options.allow_non_loopback {
        return Err(Error::Invalid(format!(
            "{} is not a loopback address: serving to other machines must be asked for explicitly",
            options.addr.ip()
        )));
    }
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on {}: {e}", options.addr)))?;
    let addr = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
    Ok((listener, addr))
}

/// An unguessable token (192 random bits, b64).
pub(super) fn new_token() -> String {
    let mut raw = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    b64::encode(&raw)
}

/// A server task serving `app` on `listener` until told to stop.
pub(super) fn spawn(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    (stop, task)
}

/// The answer to a request that is not for the address bound (DNS rebinding) or not a `GET`
/// or `HEAD`; `None` for one that may go on.
pub(super) fn refused(method: &Method, headers: &HeaderMap, bound: SocketAddr) -> Option<Response> {
    if !host_is_bound(headers.get(header::HOST), bound) {
        tracing::warn!("a request for another host was refused (DNS rebinding?)");
        return Some(plain(StatusCode::MISDIRECTED_REQUEST, "this server answers only to its own address"));
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(r);
    }
    None
}

/// Is `host` (a `Host` header) the address bound? An IP literal only (a name may be rebound
/// to 127.0.0.1 by anyone's DNS), with the bound port (80 when left out); when bound to every
/// address, any of the machine's addresses with the port.
fn host_is_bound(host: Option<&HeaderValue>, bound: SocketAddr) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else { return false };
    let addr = host.parse::<SocketAddr>().ok().or_else(|| {
        let ip = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        ip.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 80))
    });
    addr.is_some_and(|a| a.port() == bound.port() && (a.ip() == bound.ip() || bound.ip().is_unspecified()))
}

/// Compares without stopping at the first difference (the token is a secret).
pub(super) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
}

/// What a path names below the token.
enum Found {
    File(FileTarget),
    /// A folder: its tree and node.
    Folder(NodeHandle),
}

async fn handle(State(s): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refused) = refused(&method, &headers, s.addr) {
        return refused;
    }
    let path = uri.path().strip_prefix('/').unwrap_or(uri.path());
    let (token, rest) = path.split_once('/').unwrap_or((path, ""));
    if !same_token(token, &s.token) {
        return plain(StatusCode::NOT_FOUND, "not found");
    }
    if !path.contains('/') {
        return redirect(format!("/{token}/"));
    }
    let found = match &s.target {
        Target::File(f) if rest.is_empty() => return index_of_file(f),
        Target::File(f) => match percent_decode_str(rest).decode_utf8() {
            Ok(name) if name == f.name => Found::File(f.clone()),
            _ => return plain(StatusCode::NOT_FOUND, "not found"),
        },
        Target::Folder(folder) => match walk(folder, rest) {
            Ok(found) => found,
            Err((status, why)) => return plain(status, &why),
        },
    };
    match found {
        Found::Folder(_) if !rest.is_empty() && !rest.ends_with('/') => redirect(format!("{}/", uri.path())),
        Found::Folder(h) => match &s.target {
            Target::Folder(folder) => index_of_folder(folder, h, !rest.is_empty()),
            Target::File(_) => plain(StatusCode::NOT_FOUND, "not found"),
        },
        Found::File(_) if rest.ends_with('/') => plain(StatusCode::NOT_FOUND, "not found"),
        Found::File(f) => serve_file(&s.engine, &f, method == Method::HEAD, &headers, std::future::pending()),
    }
}

/// The node `rest` names below the served folder: names, or `@HANDLE` for one of several
/// children of one name.
fn walk(folder: &FolderTarget, rest: &str) -> std::result::Result<Found, (StatusCode, String)> {
    let tree = &folder.tree;
    let mut cur = folder.node;
    for segment in rest.split('/').filter(|s| !s.is_empty()) {
        let not_found = || (StatusCode::NOT_FOUND, "not found".to_string());
        let Ok(name) = percent_decode_str(segment).decode_utf8() else { return Err(not_found()) };
        let named: Vec<NodeHandle> = tree.children_named(cur, &name).map(|n| n.handle()).collect();
        cur = match named[..] {
            [one] => one,
            [] => name
                .strip_prefix('@')
                .and_then(|h| NodeHandle::from_b64(h).ok())
                .filter(|h| tree.children(cur).any(|n| n.handle() == *h))
                .ok_or_else(not_found)?,
            _ => {
                let why = "several files carry this name: open the folder's index and pick one";
                return Err((StatusCode::CONFLICT, why.to_string()));
            }
        };
    }
    match tree.get(cur) {
        Some(n) if n.is_file() => folder.file(cur).map(Found::File).map_err(|e| (StatusCode::FORBIDDEN, e.to_string())),
        Some(_) => Ok(Found::Folder(cur)),
        None => Err((StatusCode::NOT_FOUND, "not found".to_string())),
    }
}

/// An index page: a heading and links (relative, so the token stays in the URL).
fn index_page(title: &str, up: bool, entries: &[(String, String, Option<u64>)]) -> Response {
    let esc = |s: &str| html_escape::encode_text(s).to_string();
    let mut html =
        format!("<!doctype html>\n<meta charset=\"utf-8\">\n<title>{0}</title>\n<h1>{0}</h1>\n<ul>\n", esc(title));
    if up {
        html.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for (href, name, size) in entries {
        let size = size.map(|s| format!(" ({s} bytes)")).unwrap_or_default();
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a>{size}</li>\n",
            html_escape::encode_double_quoted_attribute(href),
            esc(name)
        ));
    }
    html.push_str("</ul>\n");
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (headers, html).into_response()
}

fn index_of_file(f: &FileTarget) -> Response {
    index_page(&f.name, false, &[(encode(&f.name), f.name.clone(), Some(f.size))])
}

fn index_of_folder(folder: &FolderTarget, h: NodeHandle, up: bool) -> Response {
    let tree = &folder.tree;
    let mut kids: Vec<_> = tree.children(h).collect();
    kids.sort_by(|a, b| (a.is_file(), a.name()).cmp(&(b.is_file(), b.name())));
    let entries: Vec<(String, String, Option<u64>)> = kids
        .iter()
        .map(|n| {
            let unique = tree.children_named(h, n.name()).nth(1).is_none() && !n.name().is_empty();
            let segment = if unique { encode(n.name()) } else { encode(&format!("@{}", n.handle().to_b64())) };
            if n.is_file() {
                (segment, n.name().to_string(), Some(n.size()))
            } else {
                (format!("{segment}/"), format!("{}/", n.name()), None)
            }
        })
        .collect();
    index_page(&crate::path_of(tree, h), up, &entries)
}

/// A `Range` that no byte of the file satisfies (416).
struct Unsatisfiable;

/// The byte range asked for: `None` for the whole file.
fn range_asked(headers: &HeaderMap, size: u64, etag: &str) -> std::result::Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    // A range of another version than the one the client has is not what it wants: all of it.
    if headers.get(header::IF_RANGE).is_some_and(|v| v.as_bytes() != etag.as_bytes()) {
        return Ok(None);
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else { return Ok(None) };
    match parsed.validate(size) {
        Ok(ranges) => match ranges[..] {
            [ref one] => Ok(Some((*one.start(), *one.end() + 1))),
            // Several ranges at once: the whole file (allowed; players ask for one).
            _ => Ok(None),
        },
        Err(_) => Err(Unsatisfiable),
    }
}

/// File `f` (or the range asked), streamed through `engine`; its body ends early when `stop`
/// completes (the session it was served for ended).
pub(super) fn serve_file(
    engine: &Engine,
    f: &FileTarget,
    head: bool,
    headers: &HeaderMap,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Response {
    let etag = format!("\"{}-{}\"", f.handle.to_b64(), f.size);
    let matches = |v: &HeaderValue| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header(header::CONTENT_TYPE, mime_guess::from_path(&f.name).first_or_octet_stream().as_ref())
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, "sandbox")
        .header(header::CACHE_CONTROL, "no-store");
    if headers.get(header::IF_NONE_MATCH).is_some_and(matches) {
        return response.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_else(|e| internal(&e));
    }
    let (start, end) = match range_asked(headers, f.size, &etag) {
        Ok(Some((start, end))) => {
            response = response
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{}/{}", end - 1, f.size));
            (start, end)
        }
        Ok(None) => (0, f.size),
        Err(Unsatisfiable) => {
            let mut r = plain(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", f.size)) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    response = response.header(header::CONTENT_LENGTH, end - start);
    if head {
        return response.body(Body::empty()).unwrap_or_else(|e| internal(&e));
    }
    let stream = f.open(engine);
    let whole = start == 0 && end == f.size;
    let reader = stream.reader(start..end);
    let name = f.name.clone();
    let body = futures_util::StreamExt::chain(
        futures_util::StreamExt::take_until(reader.into_stream(), Box::pin(stop)),
        futures_util::stream::once(async move {
            // Said in the log: a body cannot carry a verdict after its last byte.
            match stream.integrity() {
                Integrity::Verified if whole => {
                    tracing::info!(file = %name, "streamed whole and verified by the meta-MAC")
                }
                Integrity::Mismatch => tracing::warn!(file = %name, "the meta-MAC does not match: the file is damaged"),
                _ => {}
            }
            Ok(axum::body::Bytes::new())
        }),
    );
    response.body(Body::from_stream(body)).unwrap_or_else(|e| internal(&e))
}

fn internal(e: &dyn std::fmt::Display) -> Response {
    plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bound_ip_literal_is_a_host() {
        let bound: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let h = |s: &'static str| Some(HeaderValue::from_static(s));
        assert!(host_is_bound(h("127.0.0.1:8080").as_ref(), bound));
        assert!(!host_is_bound(h("localhost:8080").as_ref(), bound));
        assert!(!host_is_bound(h("evil.example:8080").as_ref(), bound));
        assert!(!host_is_bound(h("127.0.0.1:8081").as_ref(), bound));
        assert!(!host_is_bound(h("127.0.0.2:8080").as_ref(), bound));
        assert!(!host_is_bound(None, bound));
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert!(host_is_bound(h("[::1]").as_ref(), v6));
        assert!(host_is_bound(h("[::1]:80").as_ref(), v6));
        let any: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        assert!(host_is_bound(h("192.168.1.5:9000").as_ref(), any));
        assert!(!host_is_bound(h("nas.local:9000").as_ref(), any));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}
