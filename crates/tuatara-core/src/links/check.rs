//! Checking links: each opened to see whether it is alive (file links by their metadata, many
//! to a request; folder links by their tree, a few at once), results in the order the links
//! came; links the ledger knows as done are not asked about again.

use futures_util::{stream, StreamExt};
use mega_api::{Client, ErrorKind, FolderLink, Link, LinkKind, NodeHandle, PublicFile, Tree};
use mega_proto::link::ParsedLink;
use serde::Serialize;

use super::ledger::{Ledger, LedgerEntry};
use super::resolve::{resolve_parsed, Unresolved};
use crate::error::Error;

type Result<T, E = Error> = std::result::Result<T, E>;

/// Folder links checked at once (file links share requests: see
/// [`mega_api::Client::open_file_links`]).
pub const AT_ONCE: usize = 4;

/// What a check found for a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// It opens: its name and size are known.
    Alive,
    /// The ledger says it was downloaded already.
    Done,
    /// Removed (or never there).
    Removed,
    /// Taken down.
    Blocked,
    /// Malformed, its key or password does not fit, or it could not be checked.
    Bad,
    /// No key, and none given.
    NeedsKey,
    /// A `#P!` link and no password.
    NeedsPassword,
    /// Its download failed (see the message).
    Failed,
    /// It opens, to something else than its links file says (see [`super::integrity`]).
    Changed,
}

/// One link, checked.
#[derive(Clone)]
pub struct Checked {
    /// The link as found (normalised; a `#P!` link as given, a key given apart not in it).
    pub url: String,
    /// File or folder, when known (a `#P!` link's header says it).
    pub kind: Option<LinkKind>,
    /// What was found.
    pub status: LinkStatus,
    /// The file's or folder's name (alive or done).
    pub name: Option<String>,
    /// Bytes (a folder: every file below it).
    pub size: Option<u64>,
    /// Why it is not alive.
    pub message: Option<String>,
    /// The link ready to open (alive, done): `#P!` decrypted, key added.
    pub link: Option<Link>,
    /// What hides what it is: its name, or names in it (alive; see [`super::risky`]).
    pub warning: Option<String>,
    /// The file's MEGA fingerprint (`c`) as it is now (a file that has one).
    pub fingerprint: Option<String>,
    /// What its links file says of it (csv and json files; [`super::integrity::compare`]).
    pub expected: Option<super::formats::FileMeta>,
    /// What differs from that ([`LinkStatus::Changed`], or changed and downloaded anyway).
    pub changes: Vec<super::integrity::Change>,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL carries the key: left out.
        f.debug_struct("Checked")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("name", &self.name)
            .field("size", &self.size)
            .field("message", &self.message)
            .field("warning", &self.warning)
            .field("changes", &self.changes)
            .finish_non_exhaustive()
    }
}

impl Checked {
    fn not_alive(url: String, kind: Option<LinkKind>, status: LinkStatus, message: String) -> Self {
        Checked {
            url,
            kind,
            status,
            name: None,
            size: None,
            message: Some(message),
            link: None,
            warning: None,
            fingerprint: None,
            expected: None,
            changes: Vec::new(),
        }
    }

    fn done(url: String, kind: Option<LinkKind>, link: Option<Link>, entry: &LedgerEntry) -> Self {
        Checked {
            url,
            kind,
            status: LinkStatus::Done,
            name: Some(entry.name.clone()),
            size: Some(entry.size),
            message: None,
            link,
            warning: super::risky::name_warning(&entry.name),
            fingerprint: None,
            expected: None,
            changes: Vec::new(),
        }
    }

    /// A link that could not be made ready to open.
    pub fn unresolved(url: String, kind: Option<LinkKind>, why: &Unresolved) -> Self {
        let status = match why {
            Unresolved::NeedsPassword => LinkStatus::NeedsPassword,
            Unresolved::NeedsKey => LinkStatus::NeedsKey,
            _ => LinkStatus::Bad,
        };
        Checked::not_alive(url, kind, status, why.to_string())
    }

    /// A link that failed to open.
    pub fn failed_to_open(url: String, kind: Option<LinkKind>, e: &Error) -> Self {
        let (status, message) = open_problem(e);
        Checked::not_alive(url, kind, status, message)
    }
}

/// A link opened for reading.
pub enum Opened {
    /// A file link: the file's metadata.
    File(PublicFile),
    /// A folder link: its tree and the node it names (its root, or the node of a
    /// `/folder/X/file/Y` link).
    Folder {
        /// The folder link, to download or import from.
        folder: FolderLink,
        /// Its tree.
        tree: Box<Tree>,
        /// The node the link names.
        node: NodeHandle,
    },
}

impl Opened {
    /// The name of what the link names.
    pub fn name(&self) -> String {
        match self {
            Opened::File(f) => f.name.clone(),
            Opened::Folder { tree, node, .. } => tree.get(*node).map(|n| n.name().to_string()).unwrap_or_default(),
        }
    }

    /// What hides what it is ([`super::risky`]): a file's name, or a folder's files.
    pub fn warning(&self) -> Option<String> {
        match self {
            Opened::File(f) => super::risky::name_warning(&f.name),
            Opened::Folder { tree, node, .. } => super::risky::folder_warning(
                tree.subtree(*node)
                    .iter()
                    .filter_map(|h| tree.get(*h))
                    .filter(|n| n.is_file())
                    .map(|n| (n.parent(), n.name())),
            ),
        }
    }

    /// The MEGA fingerprint (`c`) of the file it names, where the uploader set one; none for a
    /// folder.
    pub fn fingerprint(&self) -> Option<String> {
        match self {
            Opened::File(f) => f.attributes.fingerprint().map(str::to_string),
            Opened::Folder { tree, node, .. } => tree
                .get(*node)
                .filter(|n| n.is_file())
                .and_then(|n| n.attribute("c").and_then(|c| c.as_str().map(str::to_string))),
        }
    }

    /// Its size: a folder's is every file's below it.
    pub fn size(&self) -> u64 {
        match self {
            Opened::File(f) => f.size,
            Opened::Folder { tree, node, .. } => {
                tree.subtree(*node).iter().filter_map(|h| tree.get(*h)).filter(|n| n.is_file()).map(|n| n.size()).sum()
            }
        }
    }
}

/// Opens a link that has its key: a file link's metadata, a folder link's tree (at the node it
/// names). A key that does not fit, an empty folder or a node not in it are
/// [`Error::BadLink`]; what the server says is [`Error::Api`].
pub async fn open_link(client: &Client, link: &Link) -> Result<Opened> {
    match link.kind {
        LinkKind::File => Ok(Opened::File(client.open_file_link(link).await?)),
        LinkKind::Folder => {
            let folder = client.open_folder_link(link)?;
            let tree = folder.fetch_tree().await?;
            let root = tree.root().ok_or_else(|| Error::BadLink("the folder link is empty".into()))?;
            if tree.get(root).is_some_and(|n| !n.is_decrypted()) {
                return Err(Error::BadLink("the link's key does not fit".into()));
            }
            let node = match link.sub {
                Some(sub) => tree
                    .get(sub.handle())
                    .map(|n| n.handle())
                    .ok_or_else(|| Error::BadLink("the node the link names is not in the folder".into()))?,
                None => root,
            };
            Ok(Opened::Folder { folder, tree: Box::new(tree), node })
        }
    }
}

/// What an error of [`open_link`] means for the link, said for people.
fn open_problem(e: &Error) -> (LinkStatus, String) {
    let Error::Api(api) = e else { return (LinkStatus::Bad, e.to_string()) };
    match api.kind() {
        ErrorKind::NotFound => (LinkStatus::Removed, "the link was removed or does not exist".into()),
        ErrorKind::Blocked => (LinkStatus::Blocked, "the link was taken down (blocked)".into()),
        ErrorKind::Crypto => (LinkStatus::Bad, format!("the link's key does not fit ({api})")),
        ErrorKind::BadInput => (LinkStatus::Bad, format!("bad link: {api}")),
        ErrorKind::Expired => (LinkStatus::Bad, "the link expired".into()),
        _ => (LinkStatus::Bad, format!("could not be checked: {api}")),
    }
}

/// Checks one link that is ready to open (no ledger asked).
pub async fn check_link(client: &Client, link: &Link) -> Checked {
    check_resolved(client, link.to_url(), link.clone()).await
}

/// One link as the user gave it, opened with a password (`#P!`) or a key given apart, then
/// checked. A link still without its key is a result ([`LinkStatus::NeedsKey`]); a missing or
/// wrong password, or a key that does not fit, is the error.
pub async fn unlock(
    client: &Client,
    text: &str,
    password: Option<&str>,
    key: Option<&str>,
) -> Result<Checked, Unresolved> {
    match super::resolve::resolve(text, password, key).await {
        Ok(link) => Ok(check_link(client, &link).await),
        Err(why @ Unresolved::NeedsKey) => match mega_proto::link::parse(text.trim()) {
            Ok(ParsedLink::Plain(l)) => Ok(Checked::unresolved(l.to_url(), Some(l.kind), &why)),
            _ => Err(why),
        },
        Err(why) => Err(why),
    }
}

async fn check_resolved(client: &Client, url: String, link: Link) -> Checked {
    let opened = open_link(client, &link).await;
    checked(url, link, opened)
}

/// What opening a link found.
fn checked(url: String, link: Link, opened: Result<Opened>) -> Checked {
    let kind = Some(link.kind);
    match opened {
        Ok(opened) => Checked {
            url,
            kind,
            status: LinkStatus::Alive,
            name: Some(opened.name()),
            size: Some(opened.size()),
            message: None,
            warning: opened.warning(),
            fingerprint: opened.fingerprint(),
            link: Some(link),
            expected: None,
            changes: Vec::new(),
        },
        Err(e) => Checked::failed_to_open(url, kind, &e),
    }
}

/// How a check goes, for a face to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Decrypting this many `#P!` links (a PBKDF2 each).
    Decrypting(usize),
    /// Checking this many links.
    Checking(usize),
    /// One more link checked.
    Checked,
}

/// What to open links with, and the ledger to skip done links by.
#[derive(Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// The password of `#P!` links.
    pub password: Option<&'a str>,
    /// A key for links that came without one.
    pub key: Option<&'a str>,
    /// Links it knows as done are reported [`LinkStatus::Done`] without asking the server.
    pub ledger: Option<&'a Ledger>,
}

/// Every MEGA link in `text` (`mega-proto`'s extractor: normalised, de-duplicated, keys given
/// apart picked up), checked.
pub async fn check_text(
    client: &Client,
    text: &str,
    opts: CheckOptions<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Checked> {
    check_parsed(client, &super::extract(text), opts, progress).await
}

/// Checks parsed links: the `#P!` ones decrypted together first, then the file links opened
/// many to a request ([`mega_api::Client::open_file_links`]) while the folder links are
/// fetched [`AT_ONCE`] at a time. One result per link, in their order; a link that fails
/// fails alone.
pub async fn check_parsed(
    client: &Client,
    parsed: &[ParsedLink],
    opts: CheckOptions<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Checked> {
    let protected = parsed.iter().filter(|p| matches!(p, ParsedLink::Protected(_))).count();
    if protected > 0 && opts.password.is_some() {
        progress(Progress::Decrypting(protected));
    }
    let resolved = resolve_parsed(parsed, opts.password, opts.key).await;
    progress(Progress::Checking(parsed.len()));
    let mut out: Vec<Option<Checked>> = parsed.iter().map(|_| None).collect();
    let (mut files, mut folders) = (Vec::new(), Vec::new());
    for (i, (p, r)) in parsed.iter().zip(resolved).enumerate() {
        match settled(p, r, opts.ledger) {
            Ok(c) => {
                out[i] = Some(c);
                progress(Progress::Checked);
            }
            Err(link) if link.kind == LinkKind::File => files.push((i, link)),
            Err(link) => folders.push((i, link)),
        }
    }
    let file_links: Vec<Link> = files.iter().map(|(_, l)| l.clone()).collect();
    // Owned items: a closure over borrowed ones would not be `Send` for every lifetime, which a
    // caller spawning this future (the app's commands) needs.
    let opened_files = client.open_file_links(&file_links).zip(stream::iter(files)).map(|(opened, (i, link))| {
        let opened = opened.map(Opened::File).map_err(Error::from);
        (i, checked(parsed[i].to_url(), link, opened))
    });
    let opened_folders = stream::iter(folders)
        .map(|(i, link)| async move { (i, check_resolved(client, parsed[i].to_url(), link).await) })
        .buffer_unordered(AT_ONCE);
    let mut opened = stream::select(opened_files, opened_folders);
    while let Some((i, c)) = opened.next().await {
        out[i] = Some(c);
        progress(Progress::Checked);
    }
    out.into_iter()
        .zip(parsed)
        .map(|(c, p)| {
            c.unwrap_or_else(|| Checked::not_alive(p.to_url(), kind_of(p), LinkStatus::Bad, "not checked".into()))
        })
        .collect()
}

/// One link of [`check_parsed`] settled without the server (done per the ledger, or not
/// resolved), or the link to open.
fn settled(parsed: &ParsedLink, resolved: Result<Link, Unresolved>, ledger: Option<&Ledger>) -> Result<Checked, Link> {
    let url = parsed.to_url();
    let kind = kind_of(parsed);
    // A link that cannot be opened (no password, a key that does not fit) says so even when
    // the ledger knows it: the user learns what it needs, and a script's exit code stays 6.
    let link = match resolved {
        Ok(link) => link,
        Err(why) => return Ok(Checked::unresolved(url, kind, &why)),
    };
    match ledger.and_then(|ledger| ledger.done_by_id(&mega_transfer::watch::link_id(&link))) {
        Some(entry) => Ok(Checked::done(url, kind, Some(link), entry)),
        None => Err(link),
    }
}

impl std::fmt::Debug for CheckOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: Option<&str>| o.map(|_| "<redacted>");
        f.debug_struct("CheckOptions")
            .field("password", &redacted(self.password))
            .field("key", &redacted(self.key))
            .field("ledger", &self.ledger.is_some())
            .finish()
    }
}

/// A parsed link's kind: a `#P!` link's from its header.
fn kind_of(p: &ParsedLink) -> Option<LinkKind> {
    match p {
        ParsedLink::Plain(l) => Some(l.kind),
        ParsedLink::Protected(payload) => mega_proto::protected::inspect(payload).ok().map(|h| h.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The faces spawn checks on a multi-threaded runtime (the app's commands are such tasks):
    /// the future must be `Send` for any lifetime of what it borrows. Compiling is the test.
    #[test]
    fn a_check_can_run_as_a_spawned_task() {
        fn spawnable<F: std::future::Future + Send + 'static>(_: F) {}
        let client = mega_api::ClientBuilder::new().api_url("http://127.0.0.1:9/").build().unwrap();
        spawnable(async move {
            let ledger: Option<Ledger> = None;
            let opts = CheckOptions { ledger: ledger.as_ref(), ..Default::default() };
            check_text(&client, "https://mega.nz/file/AAAAAAAA#k", opts, &mut |_| {}).await
        });
    }
}
