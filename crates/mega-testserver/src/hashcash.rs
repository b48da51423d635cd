//! The hashcash gate on logins (spec §1.8): when switched on, a batch with `us0` or a login `us`
//! needs a solved challenge in its `X-Hashcash` header, else it gets HTTP 402 and a new one.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mega_proto::hashcash::{self, Challenge};
use serde_json::Value;

use crate::store::{now, random};
use crate::App;

/// How long an issued token stays valid (seconds).
const TOKEN_TTL: i64 = 300;

fn is_login(cmds: &[Value]) -> bool {
    cmds.iter().any(|c| match c.get("a").and_then(Value::as_str) {
        Some("us0") => true,
        Some("us") => c.get("user").is_some(),
        _ => false,
    })
}

/// `None` when the request may go on; otherwise the 402 reply with a fresh challenge.
pub(crate) fn gate(app: &App, headers: &HeaderMap, cmds: &[Value]) -> Option<Response> {
    if !is_login(cmds) {
        return None;
    }
    let easiness = app.store.lock().unwrap_or_else(|e| e.into_inner()).hashcash?;
    let answer = headers.get("x-hashcash").and_then(|h| h.to_str().ok()).and_then(|h| hashcash::parse_response(h).ok());
    if let Some((token, prefix)) = answer {
        // Single use: the token is spent whether or not the prefix is right.
        let issued = app.store.lock().unwrap_or_else(|e| e.into_inner()).challenges.remove(&token);
        if issued.is_some_and(|t| now() - t < TOKEN_TTL) && hashcash::verify(&token, easiness, prefix) {
            return None;
        }
    }
    let token: [u8; 48] = random();
    let timestamp = now();
    {
        let mut store = app.store.lock().unwrap_or_else(|e| e.into_inner());
        store.challenges.retain(|_, t| timestamp - *t < TOKEN_TTL);
        store.challenges.insert(token, timestamp);
    }
    let header = Challenge { easiness, timestamp: timestamp as u64, token }.to_header();
    Some((StatusCode::PAYMENT_REQUIRED, [("X-Hashcash", header)], "").into_response())
}
