//! Session commands: sign in (password, 2FA, the keyring, the demo drive) and out.

use mega_api::Login;
use tauri::{AppHandle, Runtime, State};
use tuatara_core::vault::{Last, NoKeyring};

use crate::dto::{Account, AppInfo, LoginStep};
use crate::error::{IpcError, IpcResult};
use crate::state::{AppState, PendingLogin};

/// Version, default API URL, whether the demo drive is available.
#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        default_api_url: mega_api::DEFAULT_API_URL.to_string(),
        demo_available: true,
    }
}

/// Signs in from the keyring (or reopens the demo drive), without a password. `None`: there
/// is nothing to restore, or the saved session expired (it is forgotten).
#[tauri::command]
pub async fn session_restore<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> IpcResult<Option<Account>> {
    if let Some(signed) = state.signed.read().await.as_ref() {
        return Ok(Some(signed.account.clone()));
    }
    let last = state.vault.last();
    let Some(api_url) = last.api_url else {
        return match last.demo {
            true => crate::demo::open(&app, &state).await.map(Some),
            false => Ok(None),
        };
    };
    let client = state.client(&api_url)?;
    match state.vault.resume(&client, NoKeyring::KeepNothing).await {
        Ok(session) => state.sign_in(&app, session, &api_url, last.demo, true).await.map(Some),
        Err(tuatara_core::Error::Api(e)) if e.kind() == mega_api::ErrorKind::SessionExpired => {
            // The login screen it is; a keyring that will not let go is only worth a warning.
            if let Err(e) = state.vault.forget(&api_url) {
                log::warn!("the expired session could not be forgotten: {e}");
            }
            state.vault.set_last(&Last::default())?;
            Ok(None)
        }
        Err(e @ tuatara_core::Error::Api(_)) => Err(e.into()),
        Err(e) => {
            log::info!("no saved session to restore ({e})");
            Ok(None)
        }
    }
}

/// Signs in with e-mail and password.
#[tauri::command]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    email: String,
    password: String,
    remember: bool,
    api_url: Option<String>,
) -> IpcResult<LoginStep> {
    let email = email.trim();
    if email.is_empty() || password.is_empty() {
        return Err(IpcError::invalid("enter an e-mail and a password"));
    }
    let api_url = api_url.filter(|u| !u.trim().is_empty()).unwrap_or_else(|| mega_api::DEFAULT_API_URL.into());
    let client = state.client(&api_url)?;
    match client.login(email, &password).await? {
        Login::Done(session) => {
            let api_url = client.api_url().to_string();
            let account = state.sign_in(&app, session, &api_url, false, remember).await?;
            Ok(LoginStep::SignedIn { account })
        }
        Login::NeedsMfa(mfa) => {
            let api_url = client.api_url().to_string();
            *state.pending.lock().await = Some(PendingLogin { mfa, remember, api_url, client });
            Ok(LoginStep::NeedsMfa)
        }
    }
}

/// Completes a login with its two-factor code (the key derivation is not repeated). A wrong
/// code keeps the login waiting for another.
#[tauri::command]
pub async fn submit_mfa<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, code: String) -> IpcResult<Account> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IpcError::invalid("the code has six digits"));
    }
    let mut pending = state.pending.lock().await;
    let p = pending.as_ref().ok_or_else(|| IpcError::invalid("no login is waiting for a code"))?;
    let session = p.mfa.complete(code).await.map_err(|e| match e.kind() {
        mega_api::ErrorKind::MfaRequired => IpcError::new(crate::error::IpcErrorKind::Auth, "wrong code"),
        _ => e.into(),
    })?;
    let p = pending.take().ok_or_else(|| IpcError::internal("login vanished"))?;
    drop(pending);
    state.sign_in(&app, session, p.client.api_url(), false, p.remember).await
}

/// Starts the embedded demo server (data in the app's data dir) and signs in to it.
#[tauri::command]
pub async fn open_demo<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> IpcResult<Account> {
    crate::demo::open(&app, &state).await
}

/// Signs out: the session ends on the server and leaves the keyring.
#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> IpcResult<()> {
    *state.pending.lock().await = None;
    let Some(old) = state.sign_out().await else { return Ok(()) };
    if old.account.remembered {
        // The entry holds this very session, which the logout ends.
        state.vault.forget_account(&old.account.api_url, &old.account.email)?;
    }
    state.vault.set_last(&Last::default())?;
    if let Err(e) = old.session.clone().logout().await {
        log::warn!("the server did not confirm the logout: {e}");
    }
    Ok(())
}
