//! Public links: parsing every form (password-protected `#P!` ones included), opening a file
//! link (`g` with `p`: name, size, and a check that the key fits), listing a folder link
//! (`f` with `&n=`), and importing either into the own drive.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{stream, Stream, StreamExt};
use mega_proto::attr::Attributes;
use mega_proto::link::{self, Link, LinkKind, ParsedLink};
use mega_proto::{b64, ErrorCode, FileKey, Key128, NodeHandle, NodeKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::client::{request_tag, Auth, Client};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::ops::{check_name, copy_entries, share_keys_cr, shares_above};
use crate::tree::{fetch_tree, Keyring, Tree};
use crate::Session;

/// Parses a link in any form. A `#P!` link needs its password (the PBKDF2 runs on a blocking
/// thread); a wrong one is an error of kind [`crate::ErrorKind::Crypto`].
pub async fn resolve_link(input: &str, password: Option<&str>) -> Result<Link> {
    match link::parse(input)? {
        ParsedLink::Plain(l) => Ok(l),
        ParsedLink::Protected(payload) => {
            let password = Zeroizing::new(
                password.ok_or_else(|| Error::BadInput("this link is password-protected".into()))?.to_string(),
            );
            tokio::task::spawn_blocking(move || mega_proto::protected::decrypt(&payload, &password))
                .await
                .map_err(|_| Error::Cancelled)?
                .map_err(Error::from)
        }
    }
}

/// [`resolve_link`] for many links at once: every `#P!` link among `inputs` is opened with
/// `password` by [`decrypt_protected_links`] (each distinct link once, on all cores, on a
/// blocking thread). One result per input, in order.
pub async fn resolve_links(inputs: &[&str], password: Option<&str>) -> Vec<Result<Link>> {
    let parsed: Vec<Result<ParsedLink>> = inputs.iter().map(|i| link::parse(i).map_err(Error::from)).collect();
    let ok: Vec<ParsedLink> = parsed.iter().filter_map(|p| p.as_ref().ok().cloned()).collect();
    let mut opened = open_parsed_links(ok, password).await.into_iter();
    parsed.into_iter().map(|p| p.and_then(|_| opened.next().unwrap_or(Err(Error::Cancelled)))).collect()
}

/// [`resolve_links`] for links already parsed: plain ones as they are, `#P!` ones opened with
/// `password` together (an error of kind [`crate::ErrorKind::BadInput`] without one). One
/// result per link, in order.
pub async fn open_parsed_links(parsed: Vec<ParsedLink>, password: Option<&str>) -> Vec<Result<Link>> {
    let payloads: Vec<String> = parsed
        .iter()
        .filter_map(|p| match p {
            ParsedLink::Protected(payload) => Some(payload.clone()),
            ParsedLink::Plain(_) => None,
        })
        .collect();
    let mut opened = match password {
        Some(pw) if !payloads.is_empty() => {
            let pw = Zeroizing::new(pw.to_string());
            let batch = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = payloads.iter().map(String::as_str).collect();
                decrypt_protected_links(&refs, &[pw.as_str()])
            })
            .await;
            match batch {
                Ok(results) => results,
                Err(_) => return parsed.iter().map(|_| Err(Error::Cancelled)).collect(),
            }
        }
        _ => Vec::new(),
    }
    .into_iter();
    parsed
        .into_iter()
        .map(|p| match p {
            ParsedLink::Plain(l) => Ok(l),
            ParsedLink::Protected(_) if password.is_none() => {
                Err(Error::BadInput("this link is password-protected".into()))
            }
            ParsedLink::Protected(_) => opened.next().unwrap_or(Err(Error::Cancelled)),
        })
        .collect()
}

/// Opens many `#P!` payloads: each is tried with `passwords` in order until one fits. A PBKDF2
/// takes tens of milliseconds per payload and password, so each distinct payload is derived
/// once (duplicates share its result) and the distinct ones are spread over all cores. Blocking:
/// call it from a blocking thread (see [`resolve_links`]). One result per payload, in order; a
/// payload no password fits is an error of kind [`crate::ErrorKind::Crypto`] (no password at
/// all: [`crate::ErrorKind::BadInput`]).
pub fn decrypt_protected_links(payloads: &[&str], passwords: &[&str]) -> Vec<Result<Link>> {
    decrypt_each_once(payloads, passwords, &mega_proto::protected::decrypt)
}

/// [`decrypt_protected_links`] with the decryption passed in (tests count its calls).
fn decrypt_each_once<D>(payloads: &[&str], passwords: &[&str], decrypt: &D) -> Vec<Result<Link>>
where
    D: Fn(&str, &str) -> std::result::Result<Link, mega_proto::Error> + Sync,
{
    if passwords.is_empty() {
        return payloads.iter().map(|_| Err(Error::BadInput("this link is password-protected".into()))).collect();
    }
    let open = |payload: &str| {
        let mut last = Err(mega_proto::Error::WrongPassword);
        for pw in passwords {
            last = decrypt(payload, pw);
            // Only a wrong password is worth trying the next one for.
            if !matches!(last, Err(mega_proto::Error::WrongPassword)) {
                break;
            }
        }
        last
    };
    once_each_in_parallel(payloads, open).into_iter().map(|r| r.map_err(Error::from)).collect()
}

/// `f` of every item, computed once per distinct item, the distinct items shared out among
/// the calling thread and scoped helpers (one thread per core), each taking the next item not
/// yet taken.
fn once_each_in_parallel<T, F>(items: &[&str], f: F) -> Vec<T>
where
    T: Clone + Send,
    F: Fn(&str) -> T + Sync,
{
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let slots: Vec<usize> = items
        .iter()
        .map(|&item| {
            *index.entry(item).or_insert_with(|| {
                distinct.push(item);
                distinct.len() - 1
            })
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(distinct.len()).max(1);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = distinct.get(i) else { break out };
            out.push((i, f(item)));
        }
    };
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        // The calling thread works too, so a helper that cannot be started is only missed.
        let helpers: Vec<_> =
            (1..threads).filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok()).collect();
        let mut done = work();
        for h in helpers {
            // A helper only fails by panicking; the panic is passed on.
            done.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    let results: Vec<T> = done.into_iter().map(|(_, t)| t).collect();
    slots.into_iter().map(|i| results[i].clone()).collect()
}

/// Protects a link with a password: the `#P!` URL (PBKDF2 on a blocking thread).
pub async fn protect_link(link: &Link, password: &str) -> Result<String> {
    let link = link.clone();
    let password = Zeroizing::new(password.to_string());
    tokio::task::spawn_blocking(move || mega_proto::protected::encrypt(&link, &password, &mut rand_core::OsRng))
        .await
        .map_err(|_| Error::Cancelled)?
        .map_err(Error::from)
}

/// An opened public file link: what `g` says about it, decrypted with the link's key.
#[derive(Clone)]
pub struct PublicFile {
    /// The public handle.
    pub handle: NodeHandle,
    /// The decrypted name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// All decrypted attributes.
    pub attributes: Attributes,
    key: FileKey,
}

impl fmt::Debug for PublicFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicFile")
            .field("handle", &self.handle)
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl PublicFile {
    /// The file key (content key, nonce, meta-MAC).
    pub fn key(&self) -> &FileKey {
        &self.key
    }
}

fn link_file_key(link: &Link) -> Result<FileKey> {
    if link.kind != LinkKind::File {
        return Err(Error::BadInput("not a file link".into()));
    }
    match link.require_key()? {
        NodeKey::File(k) => Ok(k.clone()),
        NodeKey::Folder(_) => Err(Error::BadInput("a file link needs a 32-byte key".into())),
    }
}

fn link_folder_key(link: &Link) -> Result<Key128> {
    if link.kind != LinkKind::Folder {
        return Err(Error::BadInput("not a folder link".into()));
    }
    match link.require_key()? {
        NodeKey::Folder(k) => Ok(k.clone()),
        NodeKey::File(_) => Err(Error::BadInput("a folder link needs a 16-byte key".into())),
    }
}

/// `g` commands per request when many file links are opened at once ([`Client::open_file_links`]).
pub const FILE_LINKS_PER_REQUEST: usize = crate::batch::MAX_BATCH;

/// `items` in parts of [`FILE_LINKS_PER_REQUEST`], each turned into its results by `each`, a
/// few parts under way at once (enough to keep the batcher's requests on the wire full); the
/// results one by one, in order.
fn in_batches<'a, T, R, F, Fut>(items: &'a [T], each: F) -> impl Stream<Item = Result<R>> + Send + 'a
where
    T: Sync,
    R: Send + 'a,
    F: Fn(&'a [T]) -> Fut + Send + 'a,
    Fut: Future<Output = Vec<Result<R>>> + Send + 'a,
{
    stream::iter(items.chunks(FILE_LINKS_PER_REQUEST))
        .map(each)
        .buffered(crate::batch::MAX_IN_FLIGHT + 1)
        .flat_map(stream::iter)
}

/// The `g` command of a public file link (metadata only).
fn g_public(handle: NodeHandle) -> Value {
    json!({"a": "g", "p": handle.to_b64()})
}

/// A `g` reply as an error where it says one inside its object: `d` (taken down), or a
/// negative `e` with no attributes.
fn public_file_reply(r: Value) -> Result<Value> {
    if r.get("d").is_some() {
        return Err(Error::api("g", ErrorCode::Blocked));
    }
    match r.get("e").and_then(Value::as_i64).filter(|e| *e < 0) {
        Some(code) if r.get("at").is_none() => Err(Error::api("g", ErrorCode::from_code(code))),
        _ => Ok(r),
    }
}

/// A `g` reply decrypted with the link's key.
fn public_file(handle: NodeHandle, key: FileKey, r: &Value) -> Result<PublicFile> {
    let at = r.get("at").and_then(Value::as_str).ok_or(Error::protocol("g", "no attributes"))?;
    let attributes = Attributes::decrypt_b64(at, &key.attr_key())?;
    Ok(PublicFile {
        handle,
        name: attributes.name().unwrap_or_default().to_string(),
        size: r.get("s").and_then(Value::as_u64).unwrap_or(0),
        attributes,
        key,
    })
}

impl Client {
    /// Opens a public file link: name and size, checked against the key (a wrong key is an
    /// error of kind [`crate::ErrorKind::Crypto`]).
    pub async fn open_file_link(&self, link: &Link) -> Result<PublicFile> {
        let key = link_file_key(link)?;
        let r = self.command(&Auth::Anonymous, g_public(link.handle)).await.and_then(public_file_reply)?;
        public_file(link.handle, key, &r)
    }

    /// Opens many public file links as [`Client::open_file_link`] does each: their `g`
    /// commands share requests ([`FILE_LINKS_PER_REQUEST`] to one, a few requests on the wire
    /// at once, shared with the client's other anonymous commands), the client's retries and
    /// backoff covering each request, and a command answered `-3` or `-4` on its own sent
    /// again after the policy's backoff. One result per link, in order, as they come; a link
    /// that fails (removed, taken down, malformed, a key that does not fit) fails alone.
    pub fn open_file_links<'a>(&'a self, links: &'a [Link]) -> impl Stream<Item = Result<PublicFile>> + Send + 'a {
        in_batches(links, move |part| async move {
            let keys: Vec<Result<FileKey>> = part.iter().map(link_file_key).collect();
            let asked: Vec<NodeHandle> =
                part.iter().zip(&keys).filter(|(_, k)| k.is_ok()).map(|(l, _)| l.handle).collect();
            let mut replies = self.public_files(&asked).await.into_iter();
            part.iter()
                .zip(keys)
                .map(|(l, key)| {
                    let key = key?;
                    let r = replies.next().unwrap_or_else(|| Err(Error::protocol("g", "no reply")))?;
                    public_file(l.handle, key, &r)
                })
                .collect()
        })
    }

    /// The sizes of public files by their handles alone (no key: nothing is decrypted), asked
    /// as [`Client::open_file_links`] asks. One result per handle, in order, as they come.
    pub fn file_link_sizes<'a>(&'a self, handles: &'a [NodeHandle]) -> impl Stream<Item = Result<u64>> + Send + 'a {
        in_batches(handles, move |part| async move {
            let replies = self.public_files(part).await;
            replies.into_iter().map(|r| r.map(|r| r.get("s").and_then(Value::as_u64).unwrap_or(0))).collect()
        })
    }

    /// `g` of public handles in shared requests; each command answered `-3` or `-4` sent again
    /// after the retry policy's backoff, while it allows. Each reply checked
    /// ([`public_file_reply`]), in order.
    async fn public_files(&self, handles: &[NodeHandle]) -> Vec<Result<Value>> {
        let mut results: Vec<Option<Result<Value>>> = handles.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..handles.len()).collect();
        let policy = self.retry_policy();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let commands = pending.iter().map(|&i| g_public(handles[i])).collect();
            let replies = self.commands_batched(&Auth::Anonymous, commands).await;
            let delay = policy.next_delay(attempt);
            let mut again = Vec::new();
            for (i, r) in pending.into_iter().zip(replies) {
                match r {
                    Err(Error::Api { code: ErrorCode::Again | ErrorCode::RateLimit, .. }) if delay.is_some() => {
                        again.push(i);
                    }
                    r => results[i] = Some(r.and_then(public_file_reply)),
                }
            }
            if let (false, Some(delay)) = (again.is_empty(), delay) {
                tracing::warn!(commands = again.len(), attempt, ?delay, "retrying g commands answered -3/-4");
                tokio::time::sleep(delay).await;
            }
            pending = again;
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(Error::protocol("g", "no reply")))).collect()
    }

    /// Opens a public folder link (nothing is fetched yet: see [`FolderLink::fetch_tree`]).
    pub fn open_folder_link(&self, link: &Link) -> Result<FolderLink> {
        let key = link_folder_key(link)?;
        Ok(FolderLink { client: self.clone(), handle: link.handle, key })
    }
}

/// A public folder link, to list and download from without an account.
#[derive(Clone)]
pub struct FolderLink {
    pub(crate) client: Client,
    handle: NodeHandle,
    key: Key128,
}

impl fmt::Debug for FolderLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FolderLink").field("handle", &self.handle).finish_non_exhaustive()
    }
}

impl FolderLink {
    /// The public handle.
    pub fn handle(&self) -> NodeHandle {
        self.handle
    }

    pub(crate) fn auth(&self) -> Auth {
        Auth::Folder(self.handle)
    }

    /// Lists the shared folder and everything below it, decrypted with the link key. The
    /// tree's [`Tree::root`] is the shared folder.
    pub async fn fetch_tree(&self) -> Result<Tree> {
        let keyring = Keyring { link_key: Some(self.key.clone()), ..Keyring::default() };
        fetch_tree(&self.client, &self.auth(), keyring).await
    }

    /// The folder link's event channel from a tree's position (`sc` with `&n=`, no sid).
    pub fn events(&self, tree: &Tree) -> Events {
        Events::new(self.client.clone(), self.auth(), tree.sn().to_string())
    }
}

impl Session {
    /// Imports a public file into `target` (`p` with the public handle): the new node keeps
    /// the file's key and gets the link's name, or `name`.
    pub async fn import_file(
        &self,
        tree: &mut Tree,
        file: &PublicFile,
        target: NodeHandle,
        name: Option<&str>,
    ) -> Result<NodeHandle> {
        let mut attrs = file.attributes.clone();
        if let Some(n) = name {
            check_name(n)?;
            attrs.set_name(n);
        }
        let node_key = Zeroizing::new(file.key.to_node_key());
        let entry = json!({
            "ph": file.handle.to_b64(),
            "t": 0,
            "a": attrs.encrypt_b64(&file.key.attr_key()),
            "k": b64::encode(&self.master().wrap(&node_key[..])?),
        });
        let keys = [(file.handle.to_b64(), node_key.to_vec())];
        let created = self.put(tree, target, vec![entry], &keys).await?;
        created.first().copied().ok_or(Error::protocol("p", "nothing imported"))
    }

    /// Imports a node of a folder link (a file, or a folder with everything below it) into
    /// `target`, keeping the keys. The request carries both the session and the folder link
    /// (`&sid=..&n=..`) so the server can reach the link's nodes.
    pub async fn import_from_folder(
        &self,
        tree: &mut Tree,
        folder: &FolderLink,
        folder_tree: &Tree,
        node: NodeHandle,
        target: NodeHandle,
    ) -> Result<NodeHandle> {
        tree.node(target).and_then(|t| {
            if t.is_container() {
                Ok(())
            } else {
                Err(Error::BadInput(format!("{target} is not a folder")))
            }
        })?;
        let (entries, keys) = copy_entries(folder_tree, node, None, self.master())?;
        let mut cmd = json!({"a": "p", "t": target.to_b64(), "n": entries, "i": request_tag()});
        if let Some(cr) = share_keys_cr(&shares_above(tree, target), &keys)? {
            cmd["cr"] = cr;
        }
        let auth = Auth::SessionInFolder(self.sid_param().clone(), folder.handle);
        let reply = self.client.command(&auth, cmd).await?;
        let created = crate::ops::add_put_reply(tree, &reply)?;
        created.first().copied().ok_or(Error::protocol("p", "nothing imported"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use mega_proto::protected;

    use super::*;

    #[test]
    fn each_distinct_protected_link_is_derived_once_and_results_match_serial() {
        let mut rng = rand_core::OsRng;
        let distinct: Vec<String> = (0..6u8)
            .map(|i| {
                let link = Link {
                    kind: if i % 2 == 0 { LinkKind::File } else { LinkKind::Folder },
                    handle: NodeHandle([i; 6]),
                    key: Some(if i % 2 == 0 {
                        NodeKey::File(FileKey::from_node_key(&[i + 1; 32]).unwrap())
                    } else {
                        NodeKey::Folder(Key128::new([i + 1; 16]))
                    }),
                    sub: None,
                };
                // Links 4 and 5 take the second password; the others the first.
                let pw = if i >= 4 { "second" } else { "first" };
                let url = protected::encrypt(&link, pw, &mut rng).unwrap();
                let ParsedLink::Protected(payload) = link::parse(&url).unwrap() else { unreachable!() };
                payload
            })
            .collect();
        // 14 links, 6 distinct, plus one malformed (twice).
        let order = [0, 1, 0, 2, 3, 3, 3, 4, 5, 1, 4, 0, 5, 2];
        let mut payloads: Vec<&str> = order.iter().map(|&i| distinct[i].as_str()).collect();
        payloads.insert(3, "AQAAAA");
        payloads.push("AQAAAA");
        let passwords = ["first", "second"];
        let calls: Mutex<HashMap<(String, String), usize>> = Mutex::default();
        let counting = |payload: &str, pw: &str| {
            *calls.lock().unwrap().entry((payload.to_string(), pw.to_string())).or_default() += 1;
            protected::decrypt(payload, pw)
        };
        let batch = decrypt_each_once(&payloads, &passwords, &counting);
        let calls = calls.into_inner().unwrap();
        assert!(calls.values().all(|&n| n == 1), "a payload derived twice with one password: {calls:?}");
        for (i, d) in distinct.iter().enumerate() {
            let tried: Vec<&str> =
                passwords.iter().copied().filter(|pw| calls.contains_key(&(d.clone(), pw.to_string()))).collect();
            assert_eq!(tried, if i >= 4 { vec!["first", "second"] } else { vec!["first"] }, "link {i}");
        }
        assert_eq!(calls.len(), 4 + 2 * 2 + 1, "each distinct payload and password once");
        let serial: Vec<Result<Link>> = payloads
            .iter()
            .map(|p| {
                let first = protected::decrypt(p, "first");
                match first {
                    Err(mega_proto::Error::WrongPassword) => protected::decrypt(p, "second"),
                    r => r,
                }
                .map_err(Error::from)
            })
            .collect();
        assert_eq!(batch.len(), serial.len());
        for (b, s) in batch.iter().zip(&serial) {
            match (b, s) {
                (Ok(b), Ok(s)) => assert_eq!(b.to_url(), s.to_url()),
                (Err(b), Err(s)) => assert_eq!(b.kind(), s.kind()),
                _ => panic!("batch {b:?} but serial {s:?}"),
            }
        }
        assert_eq!(batch.iter().filter(|r| r.is_err()).count(), 2, "only the malformed payload fails");
        let wrong = decrypt_protected_links(&payloads[..1], &["nope"]);
        assert_eq!(wrong[0].as_ref().unwrap_err().kind(), crate::ErrorKind::Crypto);
        let none = decrypt_protected_links(&payloads[..1], &[]);
        assert_eq!(none[0].as_ref().unwrap_err().kind(), crate::ErrorKind::BadInput);
    }
}
