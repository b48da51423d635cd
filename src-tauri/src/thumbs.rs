//! Thumbnails from file attributes (MEGA-PROTOCOL.md 6.5): `ufa` with the attribute's handle
//! gives a URL; a POST of the raw 8-byte handle answers `handle || len (u32 LE) || data`, the
//! data AES-CBC encrypted with the node's folded key. Shown as `data:` URLs and cached (the
//! plain JPEG) in the data dir by attribute handle, so each is fetched once.

use std::path::Path;

use base64::Engine as _;
use mega_api::NodeHandle;
use serde_json::json;

use crate::error::{IpcError, IpcResult};
use crate::state::Signed;

/// The handle of the type-0 (thumbnail) attribute in a node's `fa` string.
pub fn thumbnail_handle(fa: &str) -> Option<&str> {
    fa.split('/').find_map(|part| {
        let typed = part.rsplit_once(':').map_or(part, |(_, t)| t);
        typed.strip_prefix("0*").filter(|h| h.len() == 11)
    })
}

/// The records of a file-attribute answer: the data of the one with `handle`.
fn find_record<'a>(body: &'a [u8], handle: &[u8; 8]) -> Option<&'a [u8]> {
    let mut rest = body;
    while rest.len() >= 12 {
        let len = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize;
        let data = rest.get(12..12 + len)?;
        if &rest[..8] == handle {
            return Some(data);
        }
        rest = &rest[12 + len..];
    }
    None
}

fn data_url(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))
}

/// A node's thumbnail, or `None` when it has none.
pub async fn thumbnail(cache: &Path, signed: &Signed, h: NodeHandle) -> IpcResult<Option<String>> {
    let (fah, key) = {
        let tree = signed.tree.lock().await;
        let n = tree.node(h)?;
        let Some(fah) = n.file_attributes().and_then(thumbnail_handle).map(str::to_string) else { return Ok(None) };
        let key = n.file_key().ok_or_else(|| IpcError::new(crate::error::IpcErrorKind::Crypto, "no key"))?;
        (fah, key)
    };
    let cached = cache.join(format!("{fah}.jpg"));
    if let Ok(jpeg) = std::fs::read(&cached) {
        return Ok(Some(data_url(&jpeg)));
    }
    let raw = mega_proto::b64::decode_exact::<8>(&fah, "file attribute handle")
        .map_err(|_| IpcError::internal("a damaged file attribute handle"))?;
    let r = signed.session.command(json!({"a": "ufa", "fah": fah, "ssl": 0, "r": 1})).await?;
    let url = r.get("p").and_then(|p| p.as_str()).ok_or_else(|| IpcError::internal("no thumbnail URL"))?;
    let network = |e: reqwest::Error| IpcError {
        kind: crate::error::IpcErrorKind::Network,
        message: format!("thumbnail: {}", e.without_url()),
        retryable: true,
    };
    let body = reqwest::Client::new()
        .post(url)
        .body(raw.to_vec())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(network)?
        .bytes()
        .await
        .map_err(network)?;
    let data = find_record(&body, &raw).ok_or_else(|| IpcError::not_found("the thumbnail is gone"))?;
    let mut jpeg = mega_proto::attr::decrypt_file_attribute(data, &key.attr_key())
        .map_err(|_| IpcError::new(crate::error::IpcErrorKind::Crypto, "the thumbnail does not decrypt"))?;
    while jpeg.last() == Some(&0) {
        jpeg.pop();
    }
    if std::fs::create_dir_all(cache).is_ok() {
        let _ = tuatara_core::files::write_atomic(&cached, &jpeg);
    }
    Ok(Some(data_url(&jpeg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_handles_and_records() {
        assert_eq!(thumbnail_handle("924:0*AbCdEfGhIjK/924:1*LmNoPqRsTuV"), Some("AbCdEfGhIjK"));
        assert_eq!(thumbnail_handle("0*AbCdEfGhIjK"), Some("AbCdEfGhIjK"));
        assert_eq!(thumbnail_handle("924:1*LmNoPqRsTuV"), None);
        let mut body = Vec::new();
        for (h, d) in [([1u8; 8], &b"one"[..]), ([2u8; 8], &b"second"[..])] {
            body.extend_from_slice(&h);
            body.extend_from_slice(&(d.len() as u32).to_le_bytes());
            body.extend_from_slice(d);
        }
        assert_eq!(find_record(&body, &[2u8; 8]), Some(&b"second"[..]));
        assert_eq!(find_record(&body, &[3u8; 8]), None);
        assert_eq!(find_record(&body[..5], &[1u8; 8]), None);
    }
}
