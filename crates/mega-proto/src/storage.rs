//! What the storage servers say (spec §5.2, §6.5): replies to upload chunk POSTs, the `?d=`
//! integrity query, node file-attribute strings and the records of a file-attribute download.

use crate::content::upload_checksum;
use crate::{b64, Error, ErrorCode, UserHandle};

/// The storage server's answer to one upload chunk POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkReply {
    /// Accepted; more chunks are expected (an empty body, or `0`).
    Continue,
    /// Every byte is in: the completion token, in the form `p`'s `h` takes.
    Done(String),
    /// An error code (`-3` retry, `-4` restart elsewhere, `-14` resend, ...).
    Error(ErrorCode),
}

impl ChunkReply {
    /// Classifies a reply body. A token that is already b64 text (legacy `u`, and the test
    /// server) is used verbatim; a binary token (SDK-style `u` with `v`) is b64-encoded.
    pub fn parse(body: &[u8]) -> Self {
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() || trimmed == b"0" {
            return ChunkReply::Continue;
        }
        if trimmed.len() <= 4 && trimmed[0] == b'-' && trimmed[1..].iter().all(u8::is_ascii_digit) && trimmed.len() > 1
        {
            let code = std::str::from_utf8(trimmed).ok().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
            return ChunkReply::Error(ErrorCode::from_code(code));
        }
        if body.iter().all(|&c| b64::is_b64_char(c) && c != b'+' && c != b'/') {
            ChunkReply::Done(String::from_utf8_lossy(body).into_owned())
        } else {
            ChunkReply::Done(b64::encode(body))
        }
    }
}

/// The optional `?d=` query of a chunk POST: the body's 12-byte XOR fold, b64.
pub fn upload_query(body: &[u8]) -> String {
    format!("?d={}", b64::encode(&upload_checksum(body)))
}

/// One entry of a node's `fa` string: `[cluster:]type*handle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileAttr {
    /// The storage cluster the server added, if any.
    pub cluster: Option<u32>,
    /// 0 thumbnail, 1 preview, others media.
    pub kind: u32,
    /// The file-attribute handle.
    pub handle: UserHandle,
}

/// Parses a node's `fa` string (`924:0*AbCdEfGhIjI/924:1*LmNoPqRsTuU`); malformed entries are
/// skipped.
pub fn parse_file_attrs(fa: &str) -> Vec<FileAttr> {
    fa.split('/')
        .filter_map(|e| {
            let (head, h) = e.split_once('*')?;
            let (cluster, kind) = match head.split_once(':') {
                Some((c, k)) => (Some(c.parse().ok()?), k),
                None => (None, head),
            };
            let handle = UserHandle::from_b64(h.get(..11)?).ok()?;
            Some(FileAttr { cluster, kind: kind.parse().ok()?, handle })
        })
        .collect()
}

/// Formats file attributes for a `p` or `pfa` command (`0*h/1*h`, no cluster).
pub fn format_file_attrs(attrs: &[(u32, UserHandle)]) -> String {
    attrs.iter().map(|(k, h)| format!("{k}*{h}")).collect::<Vec<_>>().join("/")
}

/// Splits a file-attribute download body into `(handle, encrypted data)` records:
/// `handle(8) || len(u32 little-endian) || data` (spec §6.5).
pub fn parse_file_attr_records(mut body: &[u8]) -> Result<Vec<(UserHandle, &[u8])>, Error> {
    let mut out = Vec::new();
    while !body.is_empty() {
        if body.len() < 12 {
            return Err(Error::malformed("file attribute records", "truncated header"));
        }
        let mut h = [0u8; 8];
        h.copy_from_slice(&body[..8]);
        let len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
        let rest = &body[12..];
        if rest.len() < len {
            return Err(Error::malformed("file attribute records", "truncated data"));
        }
        out.push((UserHandle(h), &rest[..len]));
        body = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_replies() {
        assert_eq!(ChunkReply::parse(b""), ChunkReply::Continue);
        assert_eq!(ChunkReply::parse(b"0"), ChunkReply::Continue);
        assert_eq!(ChunkReply::parse(b"-14"), ChunkReply::Error(ErrorCode::Key));
        assert_eq!(ChunkReply::parse(b"-4"), ChunkReply::Error(ErrorCode::RateLimit));
        let text = "AbCd".repeat(9);
        assert_eq!(ChunkReply::parse(text.as_bytes()), ChunkReply::Done(text));
        let bin = [0xffu8; 36];
        assert_eq!(ChunkReply::parse(&bin), ChunkReply::Done(b64::encode(&bin)));
    }

    #[test]
    fn fa_strings_and_records() {
        let fa = parse_file_attrs("924:0*AbCdEfGhIjI/924:1*LmNoPqRsTuU/junk/8*AbCdEfGhIjI");
        assert_eq!(fa.len(), 3);
        assert_eq!((fa[0].cluster, fa[0].kind), (Some(924), 0));
        assert_eq!((fa[2].cluster, fa[2].kind), (None, 8));
        assert_eq!(format_file_attrs(&[(0, fa[0].handle), (1, fa[1].handle)]), "0*AbCdEfGhIjI/1*LmNoPqRsTuU");
        let mut body = vec![1, 2, 3, 4, 5, 6, 7, 8, 3, 0, 0, 0, 9, 9, 9];
        let recs = parse_file_attr_records(&body).unwrap();
        assert_eq!(recs, vec![(UserHandle([1, 2, 3, 4, 5, 6, 7, 8]), &[9u8, 9, 9][..])]);
        body.pop();
        assert!(parse_file_attr_records(&body).is_err());
    }
}
