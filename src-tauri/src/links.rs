//! Checking public links: every MEGA link in a text (`mega-proto`'s extractor: normalised,
//! de-duplicated, keys given apart picked up), each opened to see whether it is alive, with
//! its name and size. A link's key is never logged; messages name the link only without it.

use futures_util::{stream, StreamExt};
use mega_api::{Client, ErrorKind, Link, LinkKind};
use mega_proto::link::ParsedLink;

use crate::dto::{LinkCheck, LinkStatus, NodeKindDto};
use crate::error::{IpcError, IpcErrorKind, IpcResult};

/// Links checked at once.
const AT_ONCE: usize = 4;

fn kind(k: LinkKind) -> NodeKindDto {
    match k {
        LinkKind::File => NodeKindDto::File,
        LinkKind::Folder => NodeKindDto::Folder,
    }
}

fn failed(url: String, kind: NodeKindDto, status: LinkStatus, message: impl Into<String>) -> LinkCheck {
    LinkCheck { link: url, kind, status, name: None, size: None, message: Some(message.into()) }
}

/// Checks one link that has its key.
pub async fn check_link(client: &Client, link: &Link) -> LinkCheck {
    let url = link.to_url();
    let k = kind(link.kind);
    if link.key.is_none() {
        return failed(url, k, LinkStatus::NeedsKey, "the link has no key");
    }
    let opened = match link.kind {
        LinkKind::File => client.open_file_link(link).await.map(|f| (f.name.clone(), f.size)),
        LinkKind::Folder => match client.open_folder_link(link) {
            Ok(folder) => folder.fetch_tree().await.map(|tree| {
                let root = tree.root().and_then(|r| tree.get(r)).map(|n| n.name().to_string()).unwrap_or_default();
                let size = tree.nodes().filter(|n| n.is_file()).map(|n| n.size()).sum();
                (root, size)
            }),
            Err(e) => Err(e),
        },
    };
    match opened {
        Ok((name, size)) => LinkCheck {
            link: url,
            kind: k,
            status: LinkStatus::Alive,
            name: Some(name),
            size: Some(size),
            message: None,
        },
        Err(e) => {
            let status = match e.kind() {
                ErrorKind::NotFound => LinkStatus::Removed,
                ErrorKind::Blocked => LinkStatus::Blocked,
                ErrorKind::Crypto | ErrorKind::BadInput => LinkStatus::Bad,
                _ => return failed(url, k, LinkStatus::Bad, format!("could not be checked: {e}")),
            };
            failed(url, k, status, e.to_string())
        }
    }
}

/// Checks every link in `text`, in the order they appear.
pub async fn check_text(client: &Client, text: &str) -> Vec<LinkCheck> {
    let found = mega_proto::extract::extract_links(text);
    stream::iter(found)
        .map(|p| async move {
            match p {
                ParsedLink::Plain(link) => check_link(client, &link).await,
                protected @ ParsedLink::Protected(_) => failed(
                    protected.to_url(),
                    NodeKindDto::File,
                    LinkStatus::NeedsPassword,
                    "the link is protected by a password",
                ),
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// A link from the UI: a `#P!` link opened with its password, a keyless link given its key.
pub async fn resolve(text: &str, password: Option<&str>, key: Option<&str>) -> IpcResult<Link> {
    let bad = |m: String| IpcError::new(IpcErrorKind::BadLink, m);
    let link = match mega_api::resolve_link(text.trim(), password).await {
        Ok(l) => l,
        Err(e) if e.kind() == ErrorKind::Crypto && password.is_some() => {
            return Err(IpcError::new(IpcErrorKind::Auth, "wrong password for this link"))
        }
        Err(e) if e.kind() == ErrorKind::BadInput && password.is_none() && text.contains("#P!") => {
            return Err(IpcError::new(IpcErrorKind::NeedsPassword, "the link is protected by a password"))
        }
        Err(e) => return Err(bad(format!("not a MEGA link: {e}"))),
    };
    match key.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => {
            link.with_key(k.trim_start_matches(['#', '!'])).map_err(|_| bad("the key does not fit this link".into()))
        }
        None => Ok(link),
    }
}
