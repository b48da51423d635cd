//! The demo drive: `mega-testserver`'s demo account served on 127.0.0.1 from the app's data
//! dir, so the app can be tried (and screenshotted) without a MEGA account or a network.

use mega_testserver::{demo, Config, TestServer};
use tauri::{AppHandle, Runtime};
use tuatara_core::vault::Last;

use crate::dto::Account;
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// Starts the server once (seeding the demo drive on first use), signs in, and notes that the
/// demo is what the next start reopens.
pub async fn open<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> IpcResult<Account> {
    let url = {
        let mut server = state.demo.lock().await;
        if server.is_none() {
            let started = TestServer::start_with(Config { listen: None, data: Some(state.dirs.demo()) }).await?;
            // Seeding encrypts a few hundred MB the first time; off the async threads.
            tokio::task::block_in_place(|| started.seed_demo())
                .map_err(|e| IpcError::internal(format!("the demo drive could not be made: {e}")))?;
            *server = Some(started);
        }
        server.as_ref().map(|s| s.url().to_string()).ok_or_else(|| IpcError::internal("no demo server"))?
    };
    let client = state.client(&url)?;
    let session = client.login(demo::EMAIL, demo::PASSWORD).await?.session()?;
    let account = state.sign_in(app, session, &url, true, false).await?;
    state.vault.set_last(&Last { api_url: None, demo: true })?;
    Ok(account)
}
