//! Remote places: `/dir/file` paths in the own drive (`//bin/...` in the rubbish bin), and
//! MEGA links wherever a remote path is read. Path lookup is strict: a name carried by
//! several nodes of one folder is an error (exit 4) instead of a silent pick.

use mega_api::{Client, FolderLink, Link, NodeHandle, PublicFile, Session, Tree};
use mega_proto::link::ParsedLink;
use tuatara_core::links::{Opened, Unresolved};

use tuatara_core::vault::{NoKeyring, Vault};
use tuatara_core::Dirs;

use crate::error::{Failure, Result};
use crate::output::Out;

/// Everything a command needs: the client, the directories and the session vault, output,
/// and the link options.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) client: Client,
    pub(crate) dirs: Dirs,
    pub(crate) vault: Vault,
    pub(crate) out: Out,
    pub(crate) link_password: Option<String>,
    pub(crate) link_key: Option<String>,
    /// `--no-cache`: fetch the whole tree.
    pub(crate) no_cache: bool,
}

/// Does this argument name a link rather than a path?
pub(crate) fn is_link(arg: &str) -> bool {
    let a = arg.trim();
    a.starts_with("https://") || a.starts_with("http://") || a.starts_with("mega://") || a.starts_with('#')
}

/// How much of the tree below a path a command reads ([`App::drive_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The node and, for a folder, its children.
    Children,
    /// Everything below the node.
    Subtree,
}

/// A place to read from.
pub(crate) enum Source {
    /// A node of a tree (the own drive, or a folder link's tree).
    Tree {
        /// The tree.
        tree: Box<Tree>,
        /// The node.
        node: NodeHandle,
        /// The folder link the tree came from, if any.
        link: Option<FolderLink>,
    },
    /// A public file link.
    File(PublicFile),
}

impl App {
    /// The session of the current account, resumed from the vault.
    pub(crate) async fn session(&self) -> Result<Session> {
        let spinner = self.out.spinner("resuming the session");
        let r = self.vault.resume(&self.client, NoKeyring::UseFile).await;
        spinner.finish_and_clear();
        Ok(r?)
    }

    /// The session and its whole tree: from the node cache, caught up (see
    /// [`tuatara_core::cache`]).
    pub(crate) async fn drive(&self) -> Result<(Session, Tree)> {
        let session = self.session().await?;
        let spinner = self.out.spinner("reading the file tree");
        let tree = if self.no_cache {
            session.fetch_tree().await.map_err(Into::into)
        } else {
            tuatara_core::cache::load_tree(&self.dirs, &session).await.map(|(tree, _)| tree)
        };
        spinner.finish_and_clear();
        Ok((session, tree?))
    }

    /// The session and as much of its tree as a command on `path` needs: the nodes on the way
    /// to it and its children, and with [`Scope::Subtree`] everything below it. Read from the
    /// node cache, caught up; not the whole tree (see [`tuatara_core::cache`]).
    pub(crate) async fn drive_at(&self, path: &str, scope: Scope) -> Result<(Session, Tree)> {
        if self.no_cache {
            return self.drive().await;
        }
        let session = self.session().await?;
        let spinner = self.out.spinner("reading the file tree");
        let tree = async {
            let mut cached = tuatara_core::cache::CachedTree::open(&self.dirs, &session).await?;
            cached.load_path(&session, path).await?;
            if scope == Scope::Subtree {
                // `//shares` names every incoming share.
                let below = match resolve(cached.tree(), path) {
                    Ok(node) => vec![node],
                    Err(_) if path.trim_end_matches('/') == "//shares" => cached.tree().incoming_shares().to_vec(),
                    Err(_) => Vec::new(),
                };
                for node in below {
                    cached.load_subtree(&session, node).await?;
                }
            }
            Ok::<_, tuatara_core::Error>(cached.into_tree())
        }
        .await;
        spinner.finish_and_clear();
        Ok((session, tree?))
    }

    /// Parses a link (a `#P!` one with `--password`/`--link-password`, a key given apart with
    /// `--link-key`) and checks it has a key.
    pub(crate) async fn link(&self, arg: &str, password: Option<&str>) -> Result<Link> {
        let parsed = mega_proto::link::parse(arg).map_err(|e| Failure::BadLink(format!("malformed link: {e}")))?;
        let mut one = self.links(std::slice::from_ref(&parsed), password).await;
        one.pop().unwrap_or_else(|| Err(Failure::Other("no link".into())))
    }

    /// [`App::link`] for many parsed links: the `#P!` ones are opened together (each distinct
    /// one once, on all cores). One result per link, in order.
    pub(crate) async fn links(&self, parsed: &[ParsedLink], password: Option<&str>) -> Vec<Result<Link>> {
        let password = password.or(self.link_password.as_deref());
        let protected = parsed.iter().filter(|p| matches!(p, ParsedLink::Protected(_))).count();
        let spinner = match (protected, password) {
            (0, _) | (_, None) => None,
            (1, _) => Some(self.out.spinner("decrypting the #P! link")),
            (n, _) => Some(self.out.spinner(&format!("decrypting {n} #P! links"))),
        };
        let opened = tuatara_core::links::resolve_parsed(parsed, password, self.link_key.as_deref()).await;
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        opened
            .into_iter()
            .map(|r| {
                r.map_err(|why| match why {
                    Unresolved::NeedsPassword => Failure::BadLink(
                        "this link is password-protected (#P!): give its password with --password".into(),
                    ),
                    Unresolved::NeedsKey => {
                        Failure::BadLink("the link has no key: add it after '#' or give it with --link-key".into())
                    }
                    other => Failure::BadLink(other.to_string()),
                })
            })
            .collect()
    }

    /// Opens a link for reading: a file link's metadata, or a folder link's tree (at its
    /// sub-node, if the link names one).
    pub(crate) async fn open_link(&self, link: &Link) -> Result<Source> {
        let spinner = self.out.spinner("opening the link");
        let r = self.open_link_inner(link).await;
        spinner.finish_and_clear();
        r
    }

    async fn open_link_inner(&self, link: &Link) -> Result<Source> {
        let opened = tuatara_core::links::open_link(&self.client, link).await.map_err(|e| match e {
            tuatara_core::Error::Api(e) => Failure::from_link(e),
            other => Failure::from(other),
        })?;
        Ok(match opened {
            Opened::File(f) => Source::File(f),
            Opened::Folder { folder, tree, node } => Source::Tree { tree, node, link: Some(folder) },
        })
    }

    /// Opens a remote argument for reading: a link, or a path in the own drive.
    pub(crate) async fn open(&self, arg: &str, scope: Scope) -> Result<Source> {
        if is_link(arg) {
            let link = self.link(arg, None).await?;
            return self.open_link(&link).await;
        }
        let (_, tree) = self.drive_at(arg, scope).await?;
        let node = resolve(&tree, arg)?;
        Ok(Source::Tree { tree: Box::new(tree), node, link: None })
    }
}

/// The node at a path: `/a/b` (or `a/b`) in the cloud drive, `//bin/a` in the rubbish bin,
/// `//in/a` in the inbox, `//shares/<share>/a` in an incoming share. Unknown: exit 3; a name
/// carried by several nodes: exit 4.
pub(crate) fn resolve(tree: &Tree, path: &str) -> Result<NodeHandle> {
    let (start, rest, prefix) = if let Some(r) = strip_root(path, "//bin") {
        (tree.rubbish(), r, "//bin")
    } else if let Some(r) = strip_root(path, "//in") {
        (tree.roots().inbox, r, "//in")
    } else if let Some(r) = path.strip_prefix("//shares/") {
        let (share, r) = r.split_once('/').unwrap_or((r, ""));
        let matches: Vec<NodeHandle> = tree
            .incoming_shares()
            .iter()
            .copied()
            .filter(|&s| tree.get(s).is_some_and(|n| n.name() == share))
            .collect();
        if matches.len() > 1 {
            return Err(Failure::Ambiguous(format!("{} incoming shares are named {share:?}", matches.len())));
        }
        (matches.first().copied(), r, "//shares")
    } else {
        (tree.root(), path, "")
    };
    let mut cur = start.ok_or_else(|| Failure::NotFound(format!("{path}: no such root")))?;
    let mut walked = prefix.to_string();
    for part in rest.split('/').filter(|p| !p.is_empty() && *p != ".") {
        walked.push('/');
        walked.push_str(part);
        let found: Vec<NodeHandle> = tree.children_named(cur, part).map(|n| n.handle()).collect();
        cur = match found.as_slice() {
            [] => return Err(Failure::NotFound(format!("{walked}: no such file or folder"))),
            [one] => *one,
            many => {
                return Err(Failure::Ambiguous(format!(
                    "{walked}: {} nodes have this name (run `tuatara-cli dedupe` to sort them out)",
                    many.len()
                )));
            }
        };
    }
    Ok(cur)
}

fn strip_root<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    let r = path.strip_prefix(root)?;
    (r.is_empty() || r.starts_with('/')).then_some(r)
}

/// Splits a destination path into its parent path and last name: `/a/b` -> (`/a`, `b`).
pub(crate) fn split_parent(path: &str) -> Result<(&str, &str)> {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((parent, name)) if !name.is_empty() => Ok((if parent.is_empty() { "/" } else { parent }, name)),
        None if !trimmed.is_empty() => Ok(("/", trimmed)),
        _ => Err(Failure::Usage(format!("{path:?} does not name a file or folder"))),
    }
}

pub(crate) use tuatara_core::path_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_paths_are_told_apart() {
        assert!(is_link("https://mega.nz/file/AAAAAAAA#key"));
        assert!(is_link("https://mega.nz/#P!AgA"));
        assert!(is_link("#F!AAAAAAAA!key"));
        assert!(!is_link("/Documents/a.pdf"));
        assert!(!is_link("Documents"));
    }

    #[test]
    fn parents() {
        assert_eq!(split_parent("/a/b").unwrap(), ("/a", "b"));
        assert_eq!(split_parent("/b").unwrap(), ("/", "b"));
        assert_eq!(split_parent("b/").unwrap(), ("/", "b"));
        assert_eq!(split_parent("//bin/x").unwrap(), ("//bin", "x"));
        assert!(split_parent("/").is_err());
        assert_eq!(strip_root("//binary", "//bin"), None);
        assert_eq!(strip_root("//bin/a", "//bin"), Some("/a"));
    }
}
