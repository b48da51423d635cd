//! Chunk-level transfer primitives for the transfer engine: download URLs (own node, public
//! file, node in a folder link), ranged fetches decrypted with chunk MACs, upload URLs, one
//! chunk POST with its reply classified, and `p` to finish an upload. Plus whole-file
//! conveniences built from them for small files and tests.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use mega_proto::attr::Attributes;
use mega_proto::content::{ChunkBatch, ContentCipher, Direction};
use mega_proto::fingerprint::Fingerprint;
use mega_proto::storage::{upload_query, ChunkReply};
use mega_proto::{b64, chunks, ErrorCode, FileKey, NodeHandle};
use rand_core::RngCore;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::client::{read_limited, Auth, Client};
use crate::config::with_retries;
use crate::error::{Error, Result};
use crate::links::FolderLink;
use crate::ops::{add_put_reply, check_name};
use crate::tree::Tree;
use crate::Session;

/// A temporary download URL and the size of the file behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadUrl {
    /// The storage URL (opaque; ranges are appended as `/start-end`).
    pub url: String,
    /// The file size.
    pub size: u64,
}

/// Plaintext of whole chunks with their MACs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunks {
    /// Byte offset of `data` in the file (a chunk boundary).
    pub offset: u64,
    /// The decrypted bytes.
    pub data: Vec<u8>,
    /// The chunk MACs, in file order.
    pub macs: Vec<[u8; 16]>,
}

/// Chunks of one ranged download, decrypted and MACed as they arrive
/// ([`Client::open_chunks`]).
pub struct ChunkStream {
    resp: Option<reqwest::Response>,
    cipher: ContentCipher,
    size: u64,
    /// The chunk index at `offset`.
    index: u64,
    /// File offset of `buf[0]` (a chunk boundary).
    offset: u64,
    end: u64,
    buf: Vec<u8>,
    /// Storage handed back by the caller, for the bytes still to come.
    spare: Option<Vec<u8>>,
    patience: Duration,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream").field("offset", &self.offset).field("end", &self.end).finish_non_exhaustive()
    }
}

/// The most read of a storage server's answer to an upload: a completion token, an error code
/// or a file attribute's 8-byte handle.
const STORAGE_REPLY_LIMIT: u64 = 64 << 10;

/// A body that ended early: a broken connection in disguise, retried like one.
fn short_body() -> Error {
    Error::Status { context: "storage download (short body)", status: 503, time_left: None }
}

impl ChunkStream {
    /// The next whole chunks: all that is left once it has arrived, or, when the patience
    /// passed since the last hand-over, the whole chunks received so far (so a slow request
    /// still hands chunks over often, and a fast one hands over large runs, MACed
    /// interleaved). `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Chunks>> {
        if self.offset >= self.end {
            return Ok(None);
        }
        let since = tokio::time::Instant::now();
        if self.buf.capacity() == 0 {
            self.buf = self.spare.take().unwrap_or_default();
            self.buf.clear();
        }
        // Room for the rest of the range at once: no growing copies, and a recycled buffer of
        // a piece's size is reused as it is.
        self.buf.reserve_exact((self.end - self.offset) as usize - self.buf.len());
        loop {
            let have = self.offset + self.buf.len() as u64;
            if have >= self.end {
                return self.hand_over(chunks::chunk_index(self.end), self.end).map(Some);
            }
            // The last chunk boundary received whole.
            let mut whole = None;
            let mut i = self.index + 1;
            while chunks::chunk_start(i) <= have {
                whole = Some(i);
                i += 1;
            }
            let left = self.patience.saturating_sub(since.elapsed());
            if let (Some(i), true) = (whole, left.is_zero()) {
                return self.hand_over(i, chunks::chunk_start(i)).map(Some);
            }
            let resp = self.resp.as_mut().ok_or_else(short_body)?;
            let frame = if whole.is_some() {
                match tokio::time::timeout(left, resp.chunk()).await {
                    Ok(frame) => frame,
                    Err(_) => continue,
                }
            } else {
                resp.chunk().await
            };
            match frame.map_err(|e| Error::network("storage download", e))? {
                Some(bytes) if have + bytes.len() as u64 <= self.end => self.buf.extend_from_slice(&bytes),
                Some(_) => return Err(Error::protocol("storage download", "a longer body than asked for")),
                None => return Err(short_body()),
            }
        }
    }

    /// Decrypts and MACs the buffered bytes up to `end` (the start of chunk `index`, or the
    /// range's end) and hands them over.
    fn hand_over(&mut self, index: u64, end: u64) -> Result<Chunks> {
        let cut = (end - self.offset) as usize;
        let mut rest = Vec::new();
        if cut < self.buf.len() {
            rest = self.spare.take().unwrap_or_default();
            rest.clear();
            rest.reserve_exact((self.end - end) as usize);
            rest.extend_from_slice(&self.buf[cut..]);
            self.buf.truncate(cut);
        }
        let mut data = std::mem::replace(&mut self.buf, rest);
        let macs = process_chunks(&self.cipher, Direction::Decrypt, self.offset, &mut data, self.size)?;
        let offset = self.offset;
        (self.offset, self.index) = (end, index);
        Ok(Chunks { offset, data, macs })
    }

    /// Hands back the storage of chunks handed over earlier, once the caller is done with
    /// them: the stream fills it again instead of allocating, so a download's memory stays the
    /// size of the pieces in flight. One buffer is kept; others are dropped.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.as_ref().is_none_or(|s| s.capacity() < buf.capacity()) {
            self.spare = Some(buf);
        }
    }

    /// The storage the stream holds, for the next stream ([`ChunkStream::recycle`]).
    pub fn into_buffer(self) -> Option<Vec<u8>> {
        [self.spare, Some(self.buf)].into_iter().flatten().max_by_key(Vec::capacity).filter(|b| b.capacity() > 0)
    }
}

/// Checks a whole file's chunk MACs (in file order) against the meta-MAC in its key.
pub fn verify_meta_mac(key: &FileKey, macs: &[[u8; 16]]) -> Result<()> {
    if ContentCipher::new(key).meta_mac(macs) == key.meta_mac {
        Ok(())
    } else {
        Err(Error::Mac)
    }
}

/// The byte range of chunks `first..end` (indices) of a file of `size` bytes.
pub fn chunk_span(chunk_indices: Range<u64>, size: u64) -> Range<u64> {
    let start = chunks::chunk_start(chunk_indices.start).min(size);
    let end = chunks::chunk_start(chunk_indices.end).min(size);
    start..end
}

/// What the storage server said to one chunk POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkAck {
    /// Accepted; more chunks are expected.
    Continue,
    /// Every byte is in: the completion token for [`Session::finish_upload`].
    Done(String),
}

/// The key material of a new upload: a random AES key and nonce. Encrypts chunks and collects
/// their MACs into the file key.
pub struct UploadCipher {
    aes_key: Zeroizing<[u8; 16]>,
    nonce: [u8; 8],
    cipher: ContentCipher,
}

impl std::fmt::Debug for UploadCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadCipher(<redacted>)")
    }
}

impl Default for UploadCipher {
    fn default() -> Self {
        Self::new()
    }
}

impl UploadCipher {
    /// Fresh random key material.
    pub fn new() -> Self {
        let mut aes_key = Zeroizing::new([0u8; 16]);
        let mut nonce = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut aes_key[..]);
        rand_core::OsRng.fill_bytes(&mut nonce);
        let cipher = ContentCipher::from_parts(&aes_key, &nonce);
        UploadCipher { aes_key, nonce, cipher }
    }

    /// The key material of an upload in progress, to continue it after a restart (the
    /// transfer journal keeps it, as the upload cannot be finished without it).
    pub fn from_parts(aes_key: [u8; 16], nonce: [u8; 8]) -> Self {
        let cipher = ContentCipher::from_parts(&aes_key, &nonce);
        UploadCipher { aes_key: Zeroizing::new(aes_key), nonce, cipher }
    }

    /// The AES key and nonce (see [`UploadCipher::from_parts`]).
    pub fn parts(&self) -> (Zeroizing<[u8; 16]>, [u8; 8]) {
        (self.aes_key.clone(), self.nonce)
    }

    /// Encrypts whole chunks in place: `data` starts at chunk boundary `offset` of a file of
    /// `size` bytes and ends at a chunk boundary or the end. Returns their MACs in order.
    pub fn encrypt_chunks(&self, offset: u64, data: &mut [u8], size: u64) -> Result<Vec<[u8; 16]>> {
        process_chunks(&self.cipher, Direction::Encrypt, offset, data, size)
    }

    /// The file key, from every chunk MAC of the file in order.
    pub fn file_key(&self, macs: &[[u8; 16]]) -> FileKey {
        FileKey { aes_key: *self.aes_key, nonce: self.nonce, meta_mac: self.cipher.meta_mac(macs) }
    }
}

/// CTR and chunk MACs over whole chunks, eight interleaved at a time.
fn process_chunks(
    cipher: &ContentCipher,
    dir: Direction,
    offset: u64,
    data: &mut [u8],
    size: u64,
) -> Result<Vec<[u8; 16]>> {
    let end = offset + data.len() as u64;
    if !chunks::is_boundary(offset) || end > size || (end != size && !chunks::is_boundary(end)) {
        return Err(Error::BadInput("a chunk range must start and end on chunk boundaries".into()));
    }
    let ranges: Vec<Range<u64>> = chunks::chunks(size).filter(|r| r.start >= offset && r.end <= end).collect();
    let mut macs = Vec::with_capacity(ranges.len());
    let mut rest: &mut [u8] = data;
    for group in ranges.chunks(ChunkBatch::WIDTH) {
        let mut batch = ChunkBatch::new(cipher, dir);
        for r in group {
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut((r.end - r.start) as usize);
            rest = tail;
            batch.push(r.start, chunk)?;
        }
        macs.extend(batch.run());
    }
    Ok(macs)
}

/// The node a `p` of one file created.
fn first_created(created: Vec<NodeHandle>) -> Result<NodeHandle> {
    created.first().copied().ok_or(Error::protocol("p", "no node created"))
}

/// Reads a `g` reply: the URL and size, or the error it embeds.
fn download_reply(r: &Value) -> Result<DownloadUrl> {
    if let Some(e) = r.get("e").and_then(Value::as_i64).filter(|&e| e < 0) {
        let time_left = r.get("tl").and_then(Value::as_u64);
        return Err(Error::Api { context: "g", code: ErrorCode::from_code(e), time_left });
    }
    if r.get("d").is_some() {
        return Err(Error::api("g", ErrorCode::Blocked));
    }
    let url = match r.get("g") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).ok_or(Error::protocol("g", "no URL"))?.to_string(),
        _ => return Err(Error::protocol("g", "no URL")),
    };
    Ok(DownloadUrl { url, size: r.get("s").and_then(Value::as_u64).unwrap_or(0) })
}

impl Client {
    async fn download_url_as(&self, auth: &Auth, mut cmd: Value) -> Result<DownloadUrl> {
        cmd["g"] = json!(1);
        cmd["ssl"] = json!(self.ssl());
        download_reply(&self.command_batched(auth, cmd).await?)
    }

    /// A download URL for a public file link's handle.
    pub async fn public_download_url(&self, public_handle: NodeHandle) -> Result<DownloadUrl> {
        self.download_url_as(&Auth::Anonymous, json!({"a": "g", "p": public_handle.to_b64()})).await
    }

    /// Fetches ciphertext bytes `range` (end exclusive) from a storage URL, as
    /// `{url}/{start}-{end-1}`. Retries network failures, 5xx and short bodies; 509 is
    /// [`crate::ErrorKind::Quota`] with the time left, 403/404 [`crate::ErrorKind::Expired`].
    pub async fn fetch_range(&self, url: &str, range: Range<u64>) -> Result<Vec<u8>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let want = (range.end - range.start) as usize;
        let config = self.config().clone();
        with_retries(config.retry, "storage download", None, || async {
            let resp = self.get_range(url, &range).await?;
            let body = read_limited(resp, "storage download", want as u64).await?;
            if body.len() != want {
                return Err(short_body());
            }
            Ok(body)
        })
        .await
    }

    /// One ranged GET of a storage URL, its status checked (the body not read yet).
    async fn get_range(&self, url: &str, range: &Range<u64>) -> Result<reqwest::Response> {
        let target = format!("{url}/{}-{}", range.start, range.end - 1);
        let resp = self
            .http()
            .get(&target)
            .timeout(self.config().storage_timeout)
            .send()
            .await
            .map_err(|e| Error::network("storage download", e))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let time_left = resp
                .headers()
                .get("x-mega-time-left")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            return Err(Error::Status { context: "storage download", status, time_left });
        }
        Ok(resp)
    }

    /// Fetches chunks `chunk_indices` of a file, decrypts them and computes their MACs.
    pub async fn fetch_chunks(&self, url: &DownloadUrl, key: &FileKey, chunk_indices: Range<u64>) -> Result<Chunks> {
        let span = chunk_span(chunk_indices, url.size);
        let mut data = self.fetch_range(&url.url, span.clone()).await?;
        let macs = process_chunks(&ContentCipher::new(key), Direction::Decrypt, span.start, &mut data, url.size)?;
        Ok(Chunks { offset: span.start, data, macs })
    }

    /// Opens chunks `chunk_indices` of a file as one request whose chunks are handed over as
    /// they arrive ([`ChunkStream::next`]): a transfer cut off half-way keeps the whole chunks
    /// it got. Opening retries like [`Client::fetch_range`]; a failure after that is returned
    /// by `next` (the caller fetches the rest again).
    pub async fn open_chunks(
        &self,
        url: &DownloadUrl,
        key: &FileKey,
        chunk_indices: Range<u64>,
        patience: Duration,
    ) -> Result<ChunkStream> {
        let span = chunk_span(chunk_indices.clone(), url.size);
        let resp = if span.is_empty() {
            None
        } else {
            let config = self.config().clone();
            Some(with_retries(config.retry, "storage download", None, || self.get_range(&url.url, &span)).await?)
        };
        Ok(ChunkStream {
            resp,
            cipher: ContentCipher::new(key),
            size: url.size,
            index: chunk_indices.start,
            offset: span.start,
            end: span.end,
            buf: Vec::new(),
            spare: None,
            patience,
        })
    }

    /// Downloads a whole file into memory, verifying its meta-MAC (for small files; the
    /// transfer engine fetches chunk ranges in parallel instead).
    pub async fn download_all(&self, url: &DownloadUrl, key: &FileKey) -> Result<Vec<u8>> {
        let count = chunks::chunk_count(url.size);
        let mut data = Vec::with_capacity(url.size as usize);
        let mut macs = Vec::with_capacity(count as usize);
        let mut i = 0;
        while i < count {
            let end = (i + 8).min(count);
            let part = self.fetch_chunks(url, key, i..end).await?;
            data.extend_from_slice(&part.data);
            macs.extend(part.macs);
            i = end;
        }
        verify_meta_mac(key, &macs)?;
        Ok(data)
    }

    /// Sends one request's worth of ciphertext (one or more whole chunks from chunk boundary
    /// `offset`) to an upload URL, with the `?d=` integrity check. Retries network failures,
    /// 5xx, `-3` and `-14`; `-4`/`-5`/`-8` are [`crate::ErrorKind::RestartUpload`] or
    /// [`crate::ErrorKind::Expired`].
    ///
    /// The body is shared with reqwest, not copied (also on a retry): a caller that keeps a
    /// clone of it gets its storage back with [`bytes::Bytes::try_into_mut`] once this returns.
    pub async fn send_chunk(&self, upload_url: &str, offset: u64, ciphertext: impl Into<Bytes>) -> Result<ChunkAck> {
        let ciphertext: Bytes = ciphertext.into();
        let target = format!("{upload_url}/{offset}{}", upload_query(&ciphertext));
        let config = self.config().clone();
        let ciphertext = &ciphertext;
        with_retries(config.retry, "storage upload", None, || async {
            // Sending the body may take long on a slow line: no idle timeout, the storage one.
            let resp = self
                .http_without_idle()
                .post(&target)
                .timeout(config.storage_timeout)
                .body(ciphertext.clone())
                .send()
                .await
                .map_err(|e| Error::network("storage upload", e))?;
            if !resp.status().is_success() {
                return Err(Error::Status {
                    context: "storage upload",
                    status: resp.status().as_u16(),
                    time_left: None,
                });
            }
            let text = read_limited(resp, "storage upload", STORAGE_REPLY_LIMIT).await?;
            match ChunkReply::parse(&text) {
                ChunkReply::Continue => Ok(ChunkAck::Continue),
                ChunkReply::Done(token) => Ok(ChunkAck::Done(token)),
                ChunkReply::Error(code) => Err(Error::api("storage upload", code)),
            }
        })
        .await
    }
}

impl Session {
    /// A download URL for one of the account's files.
    pub async fn download_url(&self, h: NodeHandle) -> Result<DownloadUrl> {
        self.client.download_url_as(&self.auth(), json!({"a": "g", "n": h.to_b64()})).await
    }

    /// Downloads a whole file of the tree into memory, MAC-verified (small files).
    pub async fn download_bytes(&self, tree: &Tree, h: NodeHandle) -> Result<Vec<u8>> {
        let key = tree.node(h)?.file_key().ok_or_else(|| Error::BadInput(format!("{h} is not a decrypted file")))?;
        let url = self.download_url(h).await?;
        self.client.download_all(&url, &key).await
    }

    /// An upload URL for a file of `size` bytes (`u`).
    pub async fn upload_url(&self, size: u64) -> Result<String> {
        let cmd = json!({"a": "u", "s": size, "ssl": self.client.ssl()});
        let r = self.client.command_batched(&self.auth(), cmd).await?;
        r.get("p").and_then(Value::as_str).map(str::to_string).ok_or(Error::protocol("u", "no upload URL"))
    }

    /// Finishes an upload: the node (`p`) with the completion token, the encrypted name and
    /// fingerprint (`c`, with the mtime), and the file key wrapped with the master key.
    pub async fn finish_upload(
        &self,
        tree: &mut Tree,
        parent: NodeHandle,
        token: &str,
        name: &str,
        key: &FileKey,
        fingerprint: Option<&Fingerprint>,
    ) -> Result<NodeHandle> {
        let cmd = self.finish_command(tree, parent, token, name, key, fingerprint)?;
        let reply = self.client.command_batched(&self.auth(), cmd).await?;
        first_created(add_put_reply(tree, &reply)?)
    }

    /// [`Session::finish_upload`] on a shared tree, locked only to build the command and to
    /// add the new node: many uploads finishing at once share their `p` requests.
    pub async fn finish_upload_shared(
        &self,
        tree: &tokio::sync::Mutex<Tree>,
        parent: NodeHandle,
        token: &str,
        name: &str,
        key: &FileKey,
        fingerprint: Option<&Fingerprint>,
    ) -> Result<NodeHandle> {
        let cmd = self.finish_command(&*tree.lock().await, parent, token, name, key, fingerprint)?;
        let reply = self.client.command_batched(&self.auth(), cmd).await?;
        first_created(add_put_reply(&mut *tree.lock().await, &reply)?)
    }

    fn finish_command(
        &self,
        tree: &Tree,
        parent: NodeHandle,
        token: &str,
        name: &str,
        key: &FileKey,
        fingerprint: Option<&Fingerprint>,
    ) -> Result<Value> {
        check_name(name)?;
        let mut attrs = Attributes::with_name(name);
        if let Some(fp) = fingerprint {
            attrs.set_fingerprint(&fp.to_attr());
        }
        let node_key = Zeroizing::new(key.to_node_key());
        let entry = json!({
            "h": token,
            "t": 0,
            "a": attrs.encrypt_b64(&key.attr_key()),
            "k": b64::encode(&self.master().wrap(&node_key[..])?),
        });
        let keys = [(token.to_string(), node_key.to_vec())];
        self.put_command(tree, parent, vec![entry], &keys)
    }

    /// Uploads bytes held in memory as a file (small files; the transfer engine streams and
    /// parallelises the same primitives).
    pub async fn upload_bytes(
        &self,
        tree: &mut Tree,
        parent: NodeHandle,
        name: &str,
        data: &[u8],
        mtime: i64,
    ) -> Result<NodeHandle> {
        check_name(name)?;
        let size = data.len() as u64;
        let url = self.upload_url(size).await?;
        let cipher = UploadCipher::new();
        let mut macs = Vec::new();
        let mut token = None;
        let ranges: Vec<Range<u64>> = chunks::chunks(size).collect();
        for group in ranges.chunks(8) {
            let span = group[0].start..group[group.len() - 1].end;
            let mut buf = data[span.start as usize..span.end as usize].to_vec();
            macs.extend(cipher.encrypt_chunks(span.start, &mut buf, size)?);
            if let ChunkAck::Done(t) = self.client.send_chunk(&url, span.start, buf).await? {
                token = Some(t);
            }
        }
        if size == 0 {
            if let ChunkAck::Done(t) = self.client.send_chunk(&url, 0, Vec::new()).await? {
                token = Some(t);
            }
        }
        let token = token.ok_or(Error::protocol("storage upload", "no completion token after the last chunk"))?;
        let key = cipher.file_key(&macs);
        let fp = Fingerprint::of(data, mtime);
        self.finish_upload(tree, parent, &token, name, &key, Some(&fp)).await
    }
}

impl Session {
    /// Attaches file attributes (type 0: a 120x120 JPEG thumbnail, type 1: a JPEG preview of at
    /// most 1000 px) to one of the account's files: each is encrypted with the file's key,
    /// uploaded (`ufa` and a POST of the bytes, answered by an 8-byte handle), then attached with
    /// `pfa`. Returns the node's new `fa` string.
    pub async fn put_file_attributes(&self, h: NodeHandle, key: &FileKey, attrs: &[(u32, Vec<u8>)]) -> Result<String> {
        let mut handles = Vec::with_capacity(attrs.len());
        for (kind, plain) in attrs {
            let data = mega_proto::attr::encrypt_file_attribute(plain, &key.attr_key());
            let cmd = json!({"a": "ufa", "s": data.len(), "ssl": self.client.ssl()});
            let body = self.file_attribute_post(cmd, data, "file attribute upload").await?;
            if body.len() != 8 {
                return Err(Error::protocol("file attribute upload", "the answer is not an 8-byte handle"));
            }
            let handle = b64::encode(&body);
            handles.push(format!("{kind}*{handle}"));
        }
        let cmd = json!({"a": "pfa", "n": h.to_b64(), "fa": handles.join("/")});
        let r = self.client.command_batched(&self.auth(), cmd).await?;
        r.as_str().map(str::to_string).ok_or(Error::protocol("pfa", "no fa string"))
    }
}

impl Session {
    /// A file attribute of one of the account's files, decrypted (MEGA-PROTOCOL.md 6.5). `fa`
    /// is the node's attribute string and `key` its file key. `None` when the node has no
    /// attribute of that type. The attribute's handle goes to `ufa` for a URL; a POST of the
    /// raw handle answers records of `handle || length (u32 LE) || data`, the data AES-CBC
    /// encrypted with the folded key.
    pub async fn file_attribute(&self, fa: &str, which: FileAttribute, key: &FileKey) -> Result<Option<Vec<u8>>> {
        let Some(fah) = which.handle_in(fa) else { return Ok(None) };
        let raw = b64::decode_exact::<8>(fah, "file attribute handle")?;
        let cmd = json!({"a": "ufa", "fah": fah, "ssl": self.client.ssl(), "r": 1});
        let body = self.file_attribute_post(cmd, raw.to_vec(), "file attribute download").await?;
        let data =
            find_record(&body, &raw).ok_or(Error::protocol("file attribute download", "no record for the handle"))?;
        let mut plain = mega_proto::attr::decrypt_file_attribute(data, &key.attr_key())?;
        // The cipher pads to whole blocks with zeros; a JPEG ends with its EOI marker.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        Ok(Some(plain))
    }

    /// `ufa` for a file attribute server's URL, then a POST of `body` there (retried by the
    /// client's policy): its answer.
    async fn file_attribute_post(&self, ufa: Value, body: Vec<u8>, context: &'static str) -> Result<Vec<u8>> {
        let r = self.client.command_batched(&self.auth(), ufa).await?;
        let url = r.get("p").and_then(Value::as_str).ok_or(Error::protocol("ufa", "no URL"))?.to_string();
        let config = self.client.config().clone();
        let body = Bytes::from(body);
        with_retries(config.retry, context, None, || async {
            let resp = self
                .client
                .http_without_idle()
                .post(&url)
                .timeout(config.storage_timeout)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| Error::network(context, e))?;
            let status = resp.status().as_u16();
            if !resp.status().is_success() {
                return Err(Error::Status { context, status, time_left: None });
            }
            read_limited(resp, context, STORAGE_REPLY_LIMIT).await
        })
        .await
    }
}

/// A file attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAttribute {
    /// Type 0: a 120x120 JPEG.
    Thumbnail,
    /// Type 1: a JPEG of at most 1000 px on its longer side.
    Preview,
}

impl FileAttribute {
    /// The type number.
    pub fn kind(self) -> u32 {
        match self {
            FileAttribute::Thumbnail => 0,
            FileAttribute::Preview => 1,
        }
    }

    /// The handle of this attribute in a node's `fa` string (`[user:]type*handle/...`): what
    /// names its (immutable) data, so a good cache key.
    pub fn handle_in(self, fa: &str) -> Option<&str> {
        let prefix = format!("{}*", self.kind());
        fa.split('/').find_map(|part| {
            let typed = part.rsplit_once(':').map_or(part, |(_, t)| t);
            typed.strip_prefix(prefix.as_str()).filter(|h| h.len() == 11)
        })
    }
}

/// The data of the record for `handle` in a file-attribute answer.
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

impl FolderLink {
    /// A download URL for a file inside the folder link.
    pub async fn download_url(&self, h: NodeHandle) -> Result<DownloadUrl> {
        self.client.download_url_as(&self.auth(), json!({"a": "g", "n": h.to_b64()})).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_handles_and_records() {
        use FileAttribute::{Preview, Thumbnail};
        assert_eq!(Thumbnail.handle_in("924:0*AbCdEfGhIjK/924:1*LmNoPqRsTuV"), Some("AbCdEfGhIjK"));
        assert_eq!(Preview.handle_in("924:0*AbCdEfGhIjK/924:1*LmNoPqRsTuV"), Some("LmNoPqRsTuV"));
        assert_eq!(Thumbnail.handle_in("0*AbCdEfGhIjK"), Some("AbCdEfGhIjK"));
        assert_eq!(Thumbnail.handle_in("924:1*LmNoPqRsTuV"), None);
        assert_eq!(Thumbnail.handle_in("10*LmNoPqRsTuV"), None);
        assert_eq!(Thumbnail.handle_in("0*short"), None);
        let mut body = Vec::new();
        for (h, d) in [([1u8; 8], &b"one"[..]), ([2u8; 8], &b"second"[..])] {
            body.extend_from_slice(&h);
            body.extend_from_slice(&(d.len() as u32).to_le_bytes());
            body.extend_from_slice(d);
        }
        assert_eq!(find_record(&body, &[2u8; 8]), Some(&b"second"[..]));
        assert_eq!(find_record(&body, &[3u8; 8]), None);
        assert_eq!(find_record(&body[..5], &[1u8; 8]), None);
        assert_eq!(find_record(&body[..20], &[2u8; 8]), None, "a record cut short");
    }

    #[test]
    fn upload_cipher_round_trips_through_download_decryption() {
        let size = 1_500_000u64;
        let plain: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let up = UploadCipher::new();
        let mut enc = plain.clone();
        let macs = up.encrypt_chunks(0, &mut enc, size).unwrap();
        let key = up.file_key(&macs);
        assert_ne!(enc, plain);
        // Decrypt in two pieces along chunk boundaries, as ranged fetches would.
        let cut = chunks::chunk_start(3) as usize;
        let mut a = enc[..cut].to_vec();
        let mut b = enc[cut..].to_vec();
        let c = ContentCipher::new(&key);
        let mut all = process_chunks(&c, Direction::Decrypt, 0, &mut a, size).unwrap();
        all.extend(process_chunks(&c, Direction::Decrypt, cut as u64, &mut b, size).unwrap());
        assert_eq!([a, b].concat(), plain);
        verify_meta_mac(&key, &all).unwrap();
        all.swap(0, 1);
        assert!(matches!(verify_meta_mac(&key, &all), Err(Error::Mac)));
        assert!(process_chunks(&c, Direction::Decrypt, 5, &mut [0u8; 16], size).is_err());
        assert_eq!(chunk_span(0..2, 200_000), 0..200_000);
        assert_eq!(chunk_span(1..2, 1_000_000), 131_072..393_216);
    }

    #[test]
    fn g_replies() {
        let r = download_reply(&json!({"g": "http://x/dl/1", "s": 5})).unwrap();
        assert_eq!(r, DownloadUrl { url: "http://x/dl/1".into(), size: 5 });
        let e = download_reply(&json!({"e": -17, "tl": 30})).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Quota { time_left: Some(std::time::Duration::from_secs(30)) });
        assert_eq!(download_reply(&json!({"d": 1, "g": "x"})).unwrap_err().kind(), crate::ErrorKind::Blocked);
        assert!(download_reply(&json!({"s": 1})).is_err());
    }
}
