//! The viewer's stream server and the window's content security policy: the server
//! (`tuatara_core::serve::Streams`, loopback, any free port) is bound before the window is
//! built, so that the CSP the window gets names exactly its origin, `http://127.0.0.1:PORT`,
//! for the directives the viewer needs (`img-src` for pictures, `media-src` for `<video>` and
//! `<audio>`) and nothing more: no wildcard, no other port, no other directive. Text comes over
//! IPC (`stream_text`), so `connect-src` stays as it was.

use std::collections::HashMap;

use tauri::utils::config::{Csp, CspDirectiveSources};
use tauri::Runtime;
use tuatara_core::serve::{ServeOptions, Streams};

/// The directives the stream origin is added to.
pub const STREAM_DIRECTIVES: &[&str] = &["img-src", "media-src"];

/// The stream server, bound now (on Tauri's runtime, where it keeps serving); `None` (logged)
/// when no loopback port could be had: the viewer then binds one at its first use, which the
/// window's CSP does not name (pictures and players stay empty; the actions still work).
pub fn bind_streams() -> Option<Streams> {
    match tauri::async_runtime::block_on(Streams::bind(ServeOptions::default())) {
        Ok(s) => Some(s),
        Err(e) => {
            log::warn!("the viewer's stream server could not start: {e}");
            None
        }
    }
}

/// Adds `origin` to the CSP's [`STREAM_DIRECTIVES`] (a directive the CSP leaves out starts from
/// `'self'`, as `default-src` gave it).
pub fn allow_stream_origin<R: Runtime>(context: &mut tauri::Context<R>, origin: &str) {
    let security = &mut context.config_mut().app.security;
    let Some(csp) = security.csp.take() else { return };
    let mut map: HashMap<String, CspDirectiveSources> = csp.into();
    for directive in STREAM_DIRECTIVES {
        map.entry((*directive).to_string())
            .or_insert_with(|| CspDirectiveSources::List(vec!["'self'".to_string()]))
            .push(origin);
    }
    security.csp = Some(Csp::DirectiveMap(map));
}
