//! Public link commands: check (ledger-aware), unlock, download (recorded in the links ledger),
//! import, browsing a folder link, and saving a list of links; the Links page's "Received" (the
//! ledger, re-checked) and "Shared by me" (what the account exported, with each link's status).
//! The links engine and the ledger are `tuatara_core::links`.

use mega_api::{Link, LinkKind};
use tauri::State;
use tuatara_core::links::{self, CheckOptions, Checked, Ledger, LinkStatus as Status, Opened};

use crate::commands::transfers::download_dir;
use crate::dto::{
    FolderLinkDto, Handle, Handles, HealthChange, LinkCheck, LinkStatus, ListFormat, NodeKindDto, ReceivedLink,
    SharedLinkCheck, SharedLinkDto,
};
use crate::error::{IpcError, IpcErrorKind, IpcResult};
use crate::nodes::Dtos;
use crate::state::AppState;

/// The links ledger, shared with `tuatara-cli links get`.
fn dto(c: Checked) -> LinkCheck {
    let status = match c.status {
        Status::Alive => LinkStatus::Alive,
        Status::Done => LinkStatus::Done,
        Status::Removed => LinkStatus::Removed,
        Status::Blocked => LinkStatus::Blocked,
        Status::NeedsKey => LinkStatus::NeedsKey,
        Status::NeedsPassword => LinkStatus::NeedsPassword,
        Status::Changed => LinkStatus::Changed,
        _ => LinkStatus::Bad,
    };
    let kind = kind_dto(c.kind);
    LinkCheck { link: c.url, kind, status, name: c.name, size: c.size, message: c.message, warning: c.warning }
}

/// A folder link's kind, or a file's (also when not known).
fn kind_dto(kind: Option<LinkKind>) -> NodeKindDto {
    match kind {
        Some(LinkKind::Folder) => NodeKindDto::Folder,
        _ => NodeKindDto::File,
    }
}

/// A link from the UI, ready to open (no password, no key given apart).
async fn resolve(link: &str) -> IpcResult<Link> {
    Ok(links::resolve(link, None, None).await?)
}

/// Every MEGA link in a text (or a csv/json links file of an export, whose files are compared
/// with what the links point at now: `changed`), checked; those the links ledger knows as
/// downloaded are `done`. `keys`: a key file's text (`HANDLE KEY` a line) for links that came
/// without their keys; the checks' links carry the keys it gave them, ready to download.
/// `password` opens every `#P!` link of the batch (asked once): those it opens come back
/// alive as plain links, ready to download; those it does not stay `needsPassword`, saying so.
#[tauri::command]
pub async fn links_check(
    state: State<'_, AppState>,
    text: String,
    keys: Option<String>,
    password: Option<String>,
) -> IpcResult<Vec<LinkCheck>> {
    let client = state.link_client().await?;
    let keys = keys.filter(|k| !k.trim().is_empty()).map(|k| links::KeyFile::parse(&k)).transpose()?;
    let entries = links::read_list(&text, keys.as_ref())?;
    let ledger = Ledger::open(state.dirs.ledger())?;
    let password = password.filter(|p| !p.is_empty());
    let opts = CheckOptions { ledger: Some(&ledger), password: password.as_deref(), ..Default::default() };
    let checked = links::check_list(&client, &entries, opts, &mut |_| {}).await;
    Ok(checked
        .into_iter()
        .zip(&entries)
        .map(|(c, e)| {
            // A `#P!` link the password opened is given as the link it opens to; one it does
            // not open still waits for its password.
            let protected = matches!(e.link, links::ParsedLink::Protected(_));
            let opened = c.link.as_ref().filter(|_| protected).map(Link::to_url);
            let wrong = protected && password.is_some() && opened.is_none() && c.status == Status::Bad;
            let c = dto(c);
            let link = opened.unwrap_or_else(|| e.link.to_url());
            match wrong {
                true => {
                    LinkCheck { link, status: LinkStatus::NeedsPassword, message: Some("wrong password".into()), ..c }
                }
                false => LinkCheck { link, ..c },
            }
        })
        .collect())
}

/// Opens a `#P!` link with its password, or gives a keyless link its key; then checks it.
#[tauri::command]
pub async fn links_unlock(
    state: State<'_, AppState>,
    link: String,
    password: Option<String>,
    key: Option<String>,
) -> IpcResult<LinkCheck> {
    let client = state.link_client().await?;
    Ok(dto(links::unlock(&client, &link, password.as_deref(), key.as_deref()).await?))
}

/// Downloads links (files, or whole folders) into `dest`; how each ends is recorded in the
/// links ledger.
#[tauri::command]
pub async fn links_download(state: State<'_, AppState>, links: Vec<String>, dest: String) -> IpcResult<Vec<String>> {
    if links.is_empty() {
        return Err(IpcError::invalid("no links given"));
    }
    let dir = download_dir(&state, Some(dest))?;
    let signed = state.signed().await?;
    let mut resolved = Vec::with_capacity(links.len());
    for l in &links {
        resolved.push(resolve(l).await?);
    }
    let mut ledger = Ledger::open(state.dirs.ledger())?;
    let queued = links::queue_links(signed.session.client(), &signed.engine, &resolved, &dir).await?;
    let ids = queued.ids();
    let engine = signed.engine.clone();
    // Until the jobs end, or the sign-in does (paused jobs end no wait; the next sign-in
    // resumes them from the journal).
    signed.spawn(async move {
        if let Err(e) = queued.record(&engine, &mut ledger).await {
            log::warn!("the links ledger could not be written: {e}");
        }
    });
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
    for l in &links {
        let link = resolve(l).await?;
        match links::open_link(signed.session.client(), &link).await? {
            Opened::File(file) => {
                let mut tree = signed.tree.lock().await;
                signed.session.import_file(&mut tree, &file, parent, None).await?;
            }
            Opened::Folder { folder, tree: folder_tree, node } => {
                let mut tree = signed.tree.lock().await;
                signed.session.import_from_folder(&mut tree, &folder, &folder_tree, node, parent).await?;
            }
        }
    }
    Ok(())
}

/// Every node of a public folder, to pick from.
#[tauri::command]
pub async fn folder_link_open(state: State<'_, AppState>, link: String) -> IpcResult<FolderLinkDto> {
    let link = resolve(&link).await?;
    if link.kind != LinkKind::Folder {
        return Err(IpcError::new(IpcErrorKind::BadLink, "not a folder link"));
    }
    let client = state.link_client().await?;
    let Opened::Folder { tree, node: root, .. } = links::open_link(&client, &link).await? else {
        return Err(IpcError::new(IpcErrorKind::BadLink, "not a folder link"));
    };
    let d = Dtos::new(&tree);
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
    let link = resolve(&link).await?;
    let picked = handles.0;
    let dir = download_dir(&state, Some(dest))?;
    let signed = state.signed().await?;
    Ok(links::queue_nodes(signed.session.client(), &signed.engine, &link, &picked, &dir).await?)
}

/// Writes a list of links (an exported folder's, say) to a file, one a line, atomically and
/// readable by its owner only (the links carry their keys).
#[tauri::command]
pub async fn links_save(path: String, links: Vec<String>) -> IpcResult<()> {
    if path.trim().is_empty() {
        return Err(IpcError::invalid("no file given"));
    }
    Ok(links::save_list(std::path::Path::new(&path), &links)?)
}

/// Exports a folder as a links file saved at `path`: a link per file (or, with `as_folder`, the
/// folder's one link), in `format` (csv and json carry each file's path, size, fingerprint and
/// mtime). With `key_file` the links are written without their keys, the keys to that file
/// (`HANDLE KEY` a line); with `password` every link is a `#P!` link. Both files are the user's
/// alone. Returns how many links were written.
#[tauri::command]
pub async fn links_export_save(
    state: State<'_, AppState>,
    handle: Handle,
    path: String,
    format: ListFormat,
    key_file: Option<String>,
    password: Option<String>,
    as_folder: bool,
) -> IpcResult<usize> {
    use tuatara_core::links::{ExportOptions, Keys, ListFormat as Format};
    let path = path.trim();
    if path.is_empty() {
        return Err(IpcError::invalid("no file given"));
    }
    let key_file = key_file.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    let keys = Keys::choose(key_file.is_some(), password)?;
    let format = match format {
        ListFormat::Plain => Format::Plain,
        ListFormat::Csv => Format::Csv,
        ListFormat::Json => Format::Json,
    };
    let signed = state.signed().await?;
    let list = {
        let mut tree = signed.tree.lock().await;
        let opts = ExportOptions { keys, as_folder };
        links::export_list(&signed.session, &mut tree, handle.0, &opts, |_, _| {}).await.map_err(|h| h.source)?
    };
    list.save(format, std::path::Path::new(path), key_file.as_deref().map(std::path::Path::new))?;
    Ok(list.entries.len())
}

/// Every link of the links ledger ("Received"), by name: how its download ended and what the
/// re-checks found.
#[tauri::command]
pub fn links_received(state: State<'_, AppState>) -> IpcResult<Vec<ReceivedLink>> {
    let ledger = Ledger::open(state.dirs.ledger())?;
    Ok(received(&ledger))
}

/// Re-checks every link of the ledger now (by public handle: no key is kept), records what was
/// found, and returns the ledger as [`links_received`] does.
#[tauri::command]
pub async fn links_received_check(state: State<'_, AppState>) -> IpcResult<Vec<ReceivedLink>> {
    let client = state.link_client().await?;
    let mut ledger = Ledger::open(state.dirs.ledger())?;
    links::recheck_ledger(&client, &mut ledger, &mut |_| {}).await?;
    Ok(received(&ledger))
}

/// Forgets links of the ledger by id (a later download takes them again).
#[tauri::command]
pub fn links_received_forget(state: State<'_, AppState>, ids: Vec<String>) -> IpcResult<()> {
    let mut ledger = Ledger::open(state.dirs.ledger())?;
    ledger.forget(&ids)?;
    Ok(())
}

fn received(ledger: &Ledger) -> Vec<ReceivedLink> {
    let mut out: Vec<ReceivedLink> = ledger
        .entries()
        .iter()
        .map(|(id, e)| {
            let health = ledger.health(id);
            ReceivedLink {
                id: id.clone(),
                kind: kind_dto(links::link_of_id(id).map(|l| l.kind)),
                name: e.name.clone(),
                size: e.size,
                downloaded: e.status == links::LedgerStatus::Done,
                error: e.error.clone(),
                health: health.map(|h| h.status.into()),
                checked_at: health.map(|h| h.at),
                reason: health.and_then(|h| h.reason.clone()),
                history: health
                    .map(|h| h.history.iter().map(|c| HealthChange { at: c.at, status: c.status.into() }).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Every link this account has exported ("Shared by me"), by path, with its key where the
/// tree holds it.
#[tauri::command]
pub async fn links_shared(state: State<'_, AppState>) -> IpcResult<Vec<SharedLinkDto>> {
    let signed = state.signed().await?;
    let shared = links::shared_links(&*signed.tree.lock().await);
    Ok(shared
        .into_iter()
        .map(|s| SharedLinkDto {
            handle: s.node.to_b64(),
            kind: kind_dto(Some(s.kind)),
            link: if s.link.key.is_some() { s.link.to_url() } else { s.link.url_without_key() },
            link_without_key: s.link.url_without_key(),
            key: s.link.key_b64(),
            name: s.name,
            path: s.path,
            size: s.size,
        })
        .collect())
}

/// What the service says now of every link this account has exported: alive, removed,
/// taken down.
#[tauri::command]
pub async fn links_shared_check(state: State<'_, AppState>) -> IpcResult<Vec<SharedLinkCheck>> {
    let signed = state.signed().await?;
    let shared = links::shared_links(&*signed.tree.lock().await);
    let found = links::check_shared(signed.session.client(), &shared, &mut |_| {}).await;
    Ok(shared
        .iter()
        .zip(found)
        .map(|(s, (status, reason))| SharedLinkCheck { handle: s.node.to_b64(), status: status.into(), reason })
        .collect())
}
