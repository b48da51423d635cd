//! Drive commands: listings, search, thumbnails, properties and operations on nodes.

use base64::Engine as _;
use mega_api::tree::{Keep, Numbering};
use tauri::State;
use tuatara_core::dedupe::{dedupe, Decision, Mode, Options};

use crate::dto::{DuplicateMode, Handle, Handles, LinkDto, Listing, MaybeHandle, NodeDto, Properties, Quota, Roots};
use crate::error::{IpcError, IpcResult};
use crate::nodes::Dtos;
use crate::state::AppState;

/// Storage and transfer quota.
#[tauri::command]
pub async fn quota(state: State<'_, AppState>) -> IpcResult<Quota> {
    let q = state.signed().await?.session.quota().await?;
    Ok(Quota {
        storage_used: q.storage_used,
        storage_total: q.storage_max,
        transfer_used: q.transfer_used,
        transfer_total: q.transfer_max,
        transfer_wait_seconds: q.transfer_time_left.map(|d| d.as_secs()),
    })
}

/// The cloud drive, the rubbish bin and the incoming shares.
#[tauri::command]
pub async fn roots(state: State<'_, AppState>) -> IpcResult<Roots> {
    let signed = state.signed().await?;
    let tree = signed.tree.lock().await;
    let d = Dtos::new(&tree);
    let missing = || IpcError::internal("the account has no cloud drive or rubbish bin");
    Ok(Roots {
        cloud: d.by_handle(tree.root().ok_or_else(missing)?)?,
        rubbish: d.by_handle(tree.rubbish().ok_or_else(missing)?)?,
        shares: tree.incoming_shares().iter().filter_map(|h| d.by_handle(*h).ok()).collect(),
    })
}

/// A folder with its path and children.
#[tauri::command]
pub async fn list_folder(state: State<'_, AppState>, handle: Handle) -> IpcResult<Listing> {
    let h = handle.0;
    let signed = state.signed().await?;
    let tree = signed.tree.lock().await;
    let d = Dtos::new(&tree);
    let folder = d.by_handle(h)?;
    if folder.kind != crate::dto::NodeKindDto::Folder {
        return Err(IpcError::invalid(format!("{} is a file", folder.name)));
    }
    Ok(Listing { path: d.path(h), children: tree.children(h).map(|n| d.node(n)).collect(), folder })
}

/// The folders in a folder (the sidebar's tree, one level at a time).
#[tauri::command]
pub async fn subfolders(state: State<'_, AppState>, handle: Handle) -> IpcResult<Vec<NodeDto>> {
    let h = handle.0;
    let signed = state.signed().await?;
    let tree = signed.tree.lock().await;
    let d = Dtos::new(&tree);
    d.by_handle(h)?;
    Ok(tree.children(h).filter(|n| n.is_container()).map(|n| d.node(n)).collect())
}

/// Most results `search` gives.
const SEARCH_LIMIT: usize = 1000;

/// Nodes whose name contains `query` (case-insensitive), or matches it as a glob when it has
/// `*` or `?`; below `under`, else in the whole account.
#[tauri::command]
pub async fn search(state: State<'_, AppState>, query: String, under: MaybeHandle) -> IpcResult<Vec<NodeDto>> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Err(IpcError::invalid("enter something to search for"));
    }
    let under = under.0;
    let signed = state.signed().await?;
    let tree = signed.tree.lock().await;
    let d = Dtos::new(&tree);
    let glob = query.contains(['*', '?']);
    let hits = tree
        .nodes()
        .filter(|n| !n.kind().is_root() && n.is_decrypted())
        .filter(|n| under.is_none_or(|u| n.handle() != u && tree.is_within(n.handle(), u)))
        .filter(|n| {
            let name = n.name().to_lowercase();
            if glob {
                mega_api::tree::glob_match(&query, &name)
            } else {
                name.contains(&query)
            }
        })
        .take(SEARCH_LIMIT)
        .map(|n| d.node(n))
        .collect();
    Ok(hits)
}

/// A file's thumbnail as a `data:` URL, or `None` when it has none.
#[tauri::command]
pub async fn thumbnail(state: State<'_, AppState>, handle: Handle) -> IpcResult<Option<String>> {
    picture(&state, handle, mega_api::FileAttribute::Thumbnail).await
}

/// A file's stored thumbnail or preview as a `data:` URL, or `None` when it has none.
pub(crate) async fn picture(
    state: &AppState,
    handle: Handle,
    which: mega_api::FileAttribute,
) -> IpcResult<Option<String>> {
    let signed = state.signed().await?;
    let thumbnails = tuatara_core::thumbnails::Thumbnails::new(&state.dirs);
    let jpeg = thumbnails.get(&signed.session, &signed.tree, handle.0, which).await?;
    Ok(jpeg.map(|j| format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(j))))
}

/// Path, counts and sizes below a node, and its link when exported.
#[tauri::command]
pub async fn properties(state: State<'_, AppState>, handle: Handle) -> IpcResult<Properties> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    let node = Dtos::new(&tree).by_handle(h)?;
    let (mut files, mut folders, mut total_size) = (0, 0, 0);
    for n in tree.subtree(h).into_iter().filter_map(|x| tree.get(x)) {
        if n.is_file() {
            files += 1;
            total_size += n.size();
        } else if n.handle() != h {
            folders += 1;
        }
    }
    let path = tree.path(h).unwrap_or_default();
    // Exporting an exported node again gives its link back (same handle, same key).
    let link = if node.exported { Some(signed.session.export(&mut tree, h).await?.to_url()) } else { None };
    Ok(Properties { node, path, files, folders, total_size, link })
}

/// Creates a folder.
#[tauri::command]
pub async fn mkdir(state: State<'_, AppState>, parent: Handle, name: String) -> IpcResult<NodeDto> {
    let parent = parent.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    if tree.children_named(parent, name.trim()).next().is_some() {
        return Err(IpcError::new(crate::error::IpcErrorKind::Exists, format!("{:?} exists already", name.trim())));
    }
    let h = signed.session.mkdir(&mut tree, parent, name.trim()).await?;
    Dtos::new(&tree).by_handle(h)
}

/// Renames a node.
#[tauri::command]
pub async fn rename(state: State<'_, AppState>, handle: Handle, name: String) -> IpcResult<()> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    Ok(signed.session.rename(&mut tree, h, name.trim()).await?)
}

/// Moves nodes into a folder.
#[tauri::command]
pub async fn move_nodes(state: State<'_, AppState>, handles: Handles, target: Handle) -> IpcResult<()> {
    let (list, target) = (handles.0, target.0);
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    for h in list {
        signed.session.move_node(&mut tree, h, target).await?;
    }
    Ok(())
}

/// Moves nodes to the rubbish bin.
#[tauri::command]
pub async fn trash(state: State<'_, AppState>, handles: Handles) -> IpcResult<()> {
    let list = handles.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    for h in list {
        signed.session.trash(&mut tree, h).await?;
    }
    Ok(())
}

/// Puts nodes back from the rubbish bin where they were.
#[tauri::command]
pub async fn restore(state: State<'_, AppState>, handles: Handles) -> IpcResult<()> {
    let list = handles.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    for h in list {
        signed.session.restore(&mut tree, h).await?;
    }
    Ok(())
}

/// Deletes nodes for good; only what is in the rubbish bin.
#[tauri::command]
pub async fn delete_forever(state: State<'_, AppState>, handles: Handles) -> IpcResult<()> {
    let list = handles.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    let rubbish = tree.rubbish();
    if let Some(h) = list.iter().find(|h| !rubbish.is_some_and(|r| **h != r && tree.is_within(**h, r))) {
        return Err(IpcError::invalid(format!("{h} is not in the rubbish bin: move it there first")));
    }
    for h in list {
        signed.session.remove(&mut tree, h).await?;
    }
    Ok(())
}

/// Exports a node; with a password, the link is a `#P!` link.
#[tauri::command]
pub async fn get_link(state: State<'_, AppState>, handle: Handle, password: Option<String>) -> IpcResult<LinkDto> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    let link = signed.session.export(&mut tree, h).await?;
    match password.filter(|p| !p.is_empty()) {
        Some(p) => Ok(LinkDto {
            link: mega_api::protect_link(&link, &p).await?,
            link_without_key: link.url_without_key(),
            key: String::new(),
        }),
        None => Ok(LinkDto {
            link: link.to_url(),
            link_without_key: link.url_without_key(),
            key: link.key_b64().unwrap_or_default(),
        }),
    }
}

/// Removes a node's public link (a folder's share with it): the link stops working.
#[tauri::command]
pub async fn link_remove(state: State<'_, AppState>, handle: Handle) -> IpcResult<()> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    Ok(signed.session.unexport(&mut tree, h).await?)
}

/// One file link per file below a folder.
#[tauri::command]
pub async fn export_folder_links(state: State<'_, AppState>, handle: Handle) -> IpcResult<Vec<String>> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    let exported = tuatara_core::links::export_files(&signed.session, &mut tree, h, |_, _| {}).await;
    Ok(exported.map_err(|h| h.source)?.into_iter().map(|e| e.link).collect())
}

/// Resolves the duplicate names in a folder (folders of one name are merged first where one is kept;
/// nothing is deleted for good).
#[tauri::command]
pub async fn resolve_duplicates(state: State<'_, AppState>, handle: Handle, mode: DuplicateMode) -> IpcResult<()> {
    let h = handle.0;
    let signed = state.signed().await?;
    let mut tree = signed.tree.lock().await;
    let options = Options {
        mode: match mode {
            DuplicateMode::Rename => Mode::Rename,
            DuplicateMode::Newest => Mode::Keep(Keep::Newest),
            DuplicateMode::Oldest => Mode::Keep(Keep::Oldest),
            DuplicateMode::Largest => Mode::Keep(Keep::Largest),
        },
        recursive: false,
        dry_run: false,
        permanent: false,
        numbering: Numbering::Parenthesised,
        rename_first: false,
    };
    let no_questions = |_: &str, _: &[&mega_api::Node]| Ok(Decision::Skip);
    dedupe(&signed.session, &mut tree, h, options, no_questions, |_| {}).await.map_err(|h| h.source)?;
    Ok(())
}
