//! Public link commands: check, unlock, download, import, and browsing a folder link.

use mega_api::LinkKind;
use mega_proto::SubNode;
use mega_transfer::Conflict;
use tauri::State;

use crate::commands::transfers::download_dir;
use crate::dto::{FolderLinkDto, Handle, Handles, LinkCheck};
use crate::error::{IpcError, IpcErrorKind, IpcResult};
use crate::links::{check_link, check_text, resolve};
use crate::nodes::Dtos;
use crate::state::AppState;

/// Every MEGA link in a text, checked.
#[tauri::command]
pub async fn links_check(state: State<'_, AppState>, text: String) -> IpcResult<Vec<LinkCheck>> {
    let client = state.link_client().await?;
    Ok(check_text(&client, &text).await)
}

/// Opens a `#P!` link with its password, or gives a keyless link its key; then checks it.
#[tauri::command]
pub async fn links_unlock(
    state: State<'_, AppState>,
    link: String,
    password: Option<String>,
    key: Option<String>,
) -> IpcResult<LinkCheck> {
    let link = resolve(&link, password.as_deref(), key.as_deref()).await?;
    let client = state.link_client().await?;
    Ok(check_link(&client, &link).await)
}

/// Downloads links (files, or whole folders) into `dest`.
#[tauri::command]
pub async fn links_download(state: State<'_, AppState>, links: Vec<String>, dest: String) -> IpcResult<Vec<String>> {
    if links.is_empty() {
        return Err(IpcError::invalid("no links given"));
    }
    let dir = download_dir(&state, Some(dest))?;
    let signed = state.signed().await?;
    let mut resolved = Vec::with_capacity(links.len());
    for l in &links {
        resolved.push(resolve(l, None, None).await?);
    }
    let mut ids = Vec::new();
    for link in resolved {
        ids.extend(signed.engine.download_link(&link, &dir, Conflict::Rename).await?);
    }
    Ok(ids)
}

/// Imports links into a folder of the account (no data moves: the server copies).
#[tauri::command]
pub async fn links_import(state: State<'_, AppState>, links: Vec<String>, parent: Handle) -> IpcResult<()> {
    let parent = parent.0;
    if links.is_empty() {
        return Err(IpcError::invalid("no links given"));
    }
    let signed = state.signed().await?;
    let client = signed.session.client().clone();
    for l in &links {
        let link = resolve(l, None, None).await?;
        match link.kind {
            LinkKind::File => {
                let file = client.open_file_link(&link).await?;
                let mut tree = signed.tree.lock().await;
                signed.session.import_file(&mut tree, &file, parent, None).await?;
            }
            LinkKind::Folder => {
                let folder = client.open_folder_link(&link)?;
                let folder_tree = folder.fetch_tree().await?;
                let root =
                    folder_tree.root().ok_or_else(|| IpcError::new(IpcErrorKind::BadLink, "an empty folder link"))?;
                let mut tree = signed.tree.lock().await;
                signed.session.import_from_folder(&mut tree, &folder, &folder_tree, root, parent).await?;
            }
        }
    }
    Ok(())
}

/// Every node of a public folder, to pick from.
#[tauri::command]
pub async fn folder_link_open(state: State<'_, AppState>, link: String) -> IpcResult<FolderLinkDto> {
    let link = resolve(&link, None, None).await?;
    if link.kind != LinkKind::Folder {
        return Err(IpcError::new(IpcErrorKind::BadLink, "not a folder link"));
    }
    let client = state.link_client().await?;
    let tree = client.open_folder_link(&link)?.fetch_tree().await?;
    let d = Dtos::new(&tree);
    let root = tree.root().ok_or_else(|| IpcError::new(IpcErrorKind::BadLink, "an empty folder link"))?;
    let nodes = tree.subtree(root).into_iter().filter(|h| *h != root).filter_map(|h| d.by_handle(h).ok()).collect();
    Ok(FolderLinkDto { link: link.to_url(), root: d.by_handle(root)?, nodes })
}

/// Downloads chosen nodes of a public folder into `dest`.
#[tauri::command]
pub async fn folder_link_download(
    state: State<'_, AppState>,
    link: String,
    handles: Handles,
    dest: String,
) -> IpcResult<Vec<String>> {
    let link = resolve(&link, None, None).await?;
    let picked = handles.0;
    let dir = download_dir(&state, Some(dest))?;
    let signed = state.signed().await?;
    let client = signed.session.client().clone();
    let tree = client.open_folder_link(&link)?.fetch_tree().await?;
    let mut ids = Vec::new();
    for h in picked {
        let n = tree.node(h)?;
        let sub = if n.is_file() { SubNode::File(h) } else { SubNode::Folder(h) };
        let mut one = link.clone();
        one.sub = Some(sub);
        ids.extend(signed.engine.download_link(&one, &dir, Conflict::Rename).await?);
    }
    Ok(ids)
}
