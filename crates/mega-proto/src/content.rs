//! Content crypto (spec §4.3, §4.4): AES-128-CTR, chunk MACs and the meta-MAC.
//!
//! A chunk MAC is a CBC-MAC: every AES call waits for the previous one, so one chunk keeps an
//! AES unit busy only a fraction of the time. [`ChunkBatch`] MACs up to a pipeline's width of
//! chunks side by side and fuses the CTR pass into the same sweep, so each 16-byte block is read
//! once, while it is in L1, and the AES units stay full. This is the fast path for the transfer
//! engine; [`ContentCipher::chunk_mac`] is the plain serial rule, kept as the reference.

use aes::cipher::{
    generic_array::GenericArray, typenum::Unsigned, BlockBackend, BlockClosure, BlockEncrypt, BlockSizeUser, KeyIvInit,
    ParBlocks, ParBlocksSizeUser, StreamCipher, StreamCipherSeek,
};
use aes::Aes128;

use crate::keys::FileKey;
use crate::{chunks, Error};

type Block = GenericArray<u8, aes::cipher::consts::U16>;
type Ctr = ctr::Ctr128BE<Aes128>;

/// A file's content cipher: its AES key and CTR nonce.
#[derive(Clone)]
pub struct ContentCipher {
    cipher: Aes128,
    key: [u8; 16],
    nonce: [u8; 8],
}

impl std::fmt::Debug for ContentCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentCipher(<redacted>)")
    }
}

impl Drop for ContentCipher {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
    }
}

impl ContentCipher {
    /// The cipher of a file key.
    pub fn new(key: &FileKey) -> Self {
        Self::from_parts(&key.aes_key, &key.nonce)
    }

    /// The cipher of an AES key and nonce (as generated for an upload).
    pub fn from_parts(aes_key: &[u8; 16], nonce: &[u8; 8]) -> Self {
        use aes::cipher::KeyInit;
        ContentCipher { cipher: Aes128::new(GenericArray::from_slice(aes_key)), key: *aes_key, nonce: *nonce }
    }

    /// The nonce.
    pub fn nonce(&self) -> [u8; 8] {
        self.nonce
    }

    fn initial_counter(&self) -> u128 {
        let mut iv = [0u8; 16];
        iv[..8].copy_from_slice(&self.nonce);
        u128::from_be_bytes(iv)
    }

    /// Encrypts or decrypts `data` in place; `data` starts at byte `offset` of the file (any
    /// offset: the counter is `nonce || offset/16`, the keystream is entered mid-block if needed).
    pub fn apply_ctr(&self, offset: u64, data: &mut [u8]) {
        let iv = self.initial_counter().to_be_bytes();
        let mut ctr = Ctr::new(GenericArray::from_slice(&self.key), GenericArray::from_slice(&iv));
        ctr.seek(offset);
        ctr.apply_keystream(data);
    }

    /// The chunk MAC of one chunk's plaintext, serially (the reference rule).
    pub fn chunk_mac(&self, plaintext: &[u8]) -> [u8; 16] {
        let mut mac = self.mac_iv();
        for block in plaintext.chunks(16) {
            xor_into(&mut mac, block);
            self.cipher.encrypt_block(&mut mac);
        }
        mac.into()
    }

    fn mac_iv(&self) -> Block {
        let mut iv = Block::default();
        iv[..8].copy_from_slice(&self.nonce);
        iv[8..].copy_from_slice(&self.nonce);
        iv
    }

    /// The meta-MAC of a file from its chunk MACs in file order (spec §4.4). An empty file has
    /// no chunks and a zero meta-MAC.
    pub fn meta_mac<'a>(&self, chunk_macs: impl IntoIterator<Item = &'a [u8; 16]>) -> [u8; 8] {
        let mut acc = Block::default();
        for mac in chunk_macs {
            xor_into(&mut acc, mac);
            self.cipher.encrypt_block(&mut acc);
        }
        let mut out = [0u8; 8];
        for i in 0..4 {
            out[i] = acc[i] ^ acc[i + 4];
            out[4 + i] = acc[8 + i] ^ acc[12 + i];
        }
        out
    }

    /// Decrypts a whole file held in memory and returns its chunk MACs (SDK layout).
    pub fn decrypt_file(&self, data: &mut [u8]) -> Vec<[u8; 16]> {
        self.process_file(data, Direction::Decrypt)
    }

    /// Encrypts a whole file held in memory and returns its chunk MACs (SDK layout).
    pub fn encrypt_file(&self, data: &mut [u8]) -> Vec<[u8; 16]> {
        self.process_file(data, Direction::Encrypt)
    }

    fn process_file(&self, data: &mut [u8], dir: Direction) -> Vec<[u8; 16]> {
        let size = data.len() as u64;
        let mut rest: &mut [u8] = data;
        let mut batch = ChunkBatch::new(self, dir);
        let mut macs = Vec::with_capacity(chunks::chunk_count(size) as usize);
        for range in chunks::chunks(size) {
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut((range.end - range.start) as usize);
            rest = tail;
            // Chunk starts are always 16-aligned.
            let _ = batch.push(range.start, chunk);
            if batch.is_full() {
                macs.extend(batch.run());
            }
        }
        macs.extend(batch.run());
        macs
    }
}

/// A chunk MAC computed as the chunk streams in, piece by piece (the serial rule).
#[derive(Clone)]
pub struct ChunkMac {
    cipher: Aes128,
    state: Block,
    pending: [u8; 16],
    filled: usize,
}

impl ChunkMac {
    /// Starts the MAC of one chunk of the file `cipher` belongs to.
    pub fn new(cipher: &ContentCipher) -> Self {
        ChunkMac { cipher: cipher.cipher.clone(), state: cipher.mac_iv(), pending: [0; 16], filled: 0 }
    }

    /// Adds plaintext.
    pub fn update(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let take = (16 - self.filled).min(data.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < 16 {
                return;
            }
            xor16(&mut self.state, &self.pending);
            self.cipher.encrypt_block(&mut self.state);
            self.filled = 0;
        }
        let mut blocks = data.chunks_exact(16);
        for b in &mut blocks {
            xor16(&mut self.state, b);
            self.cipher.encrypt_block(&mut self.state);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The chunk's MAC (a final partial block is zero-padded).
    pub fn finish(mut self) -> [u8; 16] {
        if self.filled > 0 {
            xor_into(&mut self.state, &self.pending[..self.filled]);
            self.cipher.encrypt_block(&mut self.state);
        }
        self.state.into()
    }
}

impl std::fmt::Debug for ChunkMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChunkMac(<redacted>)")
    }
}

/// Whether a batch encrypts (MAC the plaintext, then encrypt) or decrypts (decrypt, then MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plaintext in, ciphertext out (upload).
    Encrypt,
    /// Ciphertext in, plaintext out (download).
    Decrypt,
}

/// Several chunks of one file, CTR-processed and MACed interleaved in one pass.
///
/// Push chunks (each whole, starting at a chunk's 16-aligned offset), then [`ChunkBatch::run`]
/// returns their MACs in push order. Any number of chunks works; the speed-up comes from
/// [`ChunkBatch::WIDTH`] chunks at a time.
pub struct ChunkBatch<'c, 'd> {
    cipher: &'c ContentCipher,
    dir: Direction,
    lanes: Vec<Lane<'d>>,
}

struct Lane<'d> {
    data: &'d mut [u8],
    counter: u128,
}

impl<'c, 'd> ChunkBatch<'c, 'd> {
    /// How many chunks fill the AES pipeline (AES-NI runs 8 blocks at once).
    pub const WIDTH: usize = 8;

    /// An empty batch.
    pub fn new(cipher: &'c ContentCipher, dir: Direction) -> Self {
        ChunkBatch { cipher, dir, lanes: Vec::with_capacity(Self::WIDTH) }
    }

    /// Adds a chunk that starts at byte `offset` of the file. The offset must be 16-aligned.
    pub fn push(&mut self, offset: u64, data: &'d mut [u8]) -> Result<(), Error> {
        if offset % 16 != 0 {
            return Err(Error::malformed("chunk offset", "not a multiple of 16"));
        }
        let counter = self.cipher.initial_counter().wrapping_add((offset / 16) as u128);
        self.lanes.push(Lane { data, counter });
        Ok(())
    }

    /// True once the batch holds [`ChunkBatch::WIDTH`] chunks.
    pub fn is_full(&self) -> bool {
        self.lanes.len() >= Self::WIDTH
    }

    /// Processes every pushed chunk in place and returns their MACs, in push order; the batch
    /// is empty afterwards.
    pub fn run(&mut self) -> Vec<[u8; 16]> {
        let mut macs = Vec::with_capacity(self.lanes.len());
        let lanes = std::mem::take(&mut self.lanes);
        let mut lanes = lanes.into_iter();
        loop {
            let group: Vec<Lane<'d>> = lanes.by_ref().take(Self::WIDTH).collect();
            if group.is_empty() {
                break;
            }
            let mut out = vec![[0u8; 16]; group.len()];
            self.cipher.cipher.encrypt_with_backend(Sweep {
                lanes: group,
                macs: &mut out,
                iv: self.cipher.mac_iv(),
                dir: self.dir,
            });
            macs.extend(out);
        }
        macs
    }
}

/// The fused CTR + CBC-MAC sweep over up to a pipeline's width of lanes, run inside the AES
/// backend so no per-call dispatch happens in the inner loop.
struct Sweep<'m, 'd> {
    lanes: Vec<Lane<'d>>,
    macs: &'m mut [[u8; 16]],
    iv: Block,
    dir: Direction,
}

impl BlockSizeUser for Sweep<'_, '_> {
    type BlockSize = aes::cipher::consts::U16;
}

impl BlockClosure for Sweep<'_, '_> {
    fn call<B: BlockBackend<BlockSize = Self::BlockSize>>(mut self, backend: &mut B) {
        let par = <B as ParBlocksSizeUser>::ParBlocksSize::USIZE;
        let n = self.lanes.len();
        let mut states: ParBlocks<B> = Default::default();
        let mut keystream: ParBlocks<B> = Default::default();
        if par < n {
            // A backend narrower than the batch: do the lanes one by one.
            for (lane, mac) in self.lanes.iter_mut().zip(self.macs.iter_mut()) {
                let mut state = self.iv;
                serial_lane(backend, lane, &mut state, self.dir, &mut keystream);
                *mac = state.into();
            }
            return;
        }
        for s in states.iter_mut().take(n) {
            *s = self.iv;
        }
        let blocks: Vec<usize> = self.lanes.iter().map(|l| l.data.len().div_ceil(16)).collect();
        let longest = blocks.iter().copied().max().unwrap_or(0);
        // Fast phase: the whole strides of full blocks that every lane has. No per-lane checks,
        // 16-byte XORs as u128, one backend call per `par` blocks.
        let common = self.lanes.iter().map(|l| l.data.len() / 16).min().unwrap_or(0);
        let fast_end = if n > 1 { common / par * par } else { 0 };
        // The MAC steps form one dependency chain; the CTR work of a neighbouring stride is
        // independent of it, so it is spread between the steps to fill the AES units while
        // the chain waits.
        let strides = fast_end / par;
        let decrypt = self.dir == Direction::Decrypt;
        // Counter blocks are written a whole stride before the AES call reads them: written as
        // two 8-byte halves, they could not be forwarded to a 16-byte load still in flight.
        let mut counters: Vec<ParBlocks<B>> = vec![Default::default(); if strides > 0 { n } else { 0 }];
        if decrypt && strides > 0 {
            fill_counters(&mut counters, &self.lanes, 0);
            for (lane, ks) in self.lanes.iter_mut().zip(counters.iter_mut()) {
                backend.proc_par_blocks(ks.into());
                xor_stride(lane, 0, ks);
            }
        }
        for stride in 0..strides {
            let start = stride * par;
            // Decrypt runs one stride ahead, encrypt one behind.
            let ctr_stride_at = match (decrypt, stride) {
                (true, s) if s + 1 < strides => Some(start + par),
                (false, s) if s > 0 => Some(start - par),
                _ => None,
            };
            if let Some(at) = ctr_stride_at {
                fill_counters(&mut counters, &self.lanes, at);
            }
            for j in 0..par {
                let b = start + j;
                for (state, lane) in states.iter_mut().zip(self.lanes.iter()) {
                    xor16(state, &lane.data[b * 16..b * 16 + 16]);
                }
                backend.proc_par_blocks((&mut states).into());
                if let (Some(at), Some(lane), Some(ks)) = (ctr_stride_at, self.lanes.get_mut(j), counters.get_mut(j)) {
                    backend.proc_par_blocks(ks.into());
                    xor_stride(lane, at, ks);
                }
            }
        }
        if !decrypt && strides > 0 {
            fill_counters(&mut counters, &self.lanes, fast_end - par);
            for (lane, ks) in self.lanes.iter_mut().zip(counters.iter_mut()) {
                backend.proc_par_blocks(ks.into());
                xor_stride(lane, fast_end - par, ks);
            }
        }
        let mut start = fast_end;
        for ((mac, state), &nb) in self.macs.iter_mut().zip(states.iter()).zip(&blocks) {
            if fast_end > 0 && nb == fast_end {
                *mac = (*state).into();
            }
        }
        // General phase: ragged ends, lanes dropping out as they finish.
        while start < longest {
            let stride_end = (start + par).min(longest);
            if self.dir == Direction::Decrypt {
                for (l, lane) in self.lanes.iter_mut().enumerate() {
                    if start < blocks[l] {
                        ctr_stride(backend, lane, start, stride_end.min(blocks[l]), &mut keystream);
                    }
                }
            }
            for b in start..stride_end {
                let mut active = 0;
                for ((state, lane), &nb) in states.iter_mut().zip(self.lanes.iter()).zip(&blocks) {
                    if b < nb {
                        let end = ((b + 1) * 16).min(lane.data.len());
                        xor_into(state, &lane.data[b * 16..end]);
                        active += 1;
                    }
                }
                if active > 1 {
                    backend.proc_par_blocks((&mut states).into());
                } else {
                    for (state, &nb) in states.iter_mut().zip(&blocks) {
                        if b < nb {
                            backend.proc_block(state.into());
                        }
                    }
                }
                // A lane's state is final after its last block; later calls overwrite it.
                for ((mac, state), &nb) in self.macs.iter_mut().zip(states.iter()).zip(&blocks) {
                    if b + 1 == nb {
                        *mac = (*state).into();
                    }
                }
            }
            if self.dir == Direction::Encrypt {
                for (l, lane) in self.lanes.iter_mut().enumerate() {
                    if start < blocks[l] {
                        ctr_stride(backend, lane, start, stride_end.min(blocks[l]), &mut keystream);
                    }
                }
            }
            start = stride_end;
        }
        // Empty lanes (a 0-byte chunk never occurs in a file, but stay defined): MAC = IV.
        for (mac, _) in self.macs.iter_mut().zip(&blocks).filter(|(_, &nb)| nb == 0) {
            *mac = self.iv.into();
        }
    }
}

/// Counter blocks for `par` blocks of every lane from block `at`.
#[inline(always)]
fn fill_counters<P: aes::cipher::ArrayLength<Block>>(
    counters: &mut [GenericArray<Block, P>],
    lanes: &[Lane<'_>],
    at: usize,
) {
    for (ks, lane) in counters.iter_mut().zip(lanes) {
        for (i, block) in ks.iter_mut().enumerate() {
            *block = GenericArray::from(lane.counter.wrapping_add((at + i) as u128).to_be_bytes());
        }
    }
}

/// XORs a stride of keystream (whole blocks) into a lane from block `at`.
#[inline(always)]
fn xor_stride<P: aes::cipher::ArrayLength<Block>>(lane: &mut Lane<'_>, at: usize, ks: &GenericArray<Block, P>) {
    let data = &mut lane.data[at * 16..(at + ks.len()) * 16];
    for (block, k) in data.chunks_exact_mut(16).zip(ks.iter()) {
        xor16_mut(block, k);
    }
}

/// Applies the keystream to blocks `from..to` of a lane (at most one backend-width).
fn ctr_stride<B: BlockBackend<BlockSize = aes::cipher::consts::U16>>(
    backend: &mut B,
    lane: &mut Lane<'_>,
    from: usize,
    to: usize,
    keystream: &mut ParBlocks<B>,
) {
    for (i, ks) in keystream.iter_mut().enumerate().take(to - from) {
        *ks = GenericArray::from(lane.counter.wrapping_add((from + i) as u128).to_be_bytes());
    }
    backend.proc_par_blocks(keystream.into());
    for (i, ks) in keystream.iter().enumerate().take(to - from) {
        let b = from + i;
        let end = ((b + 1) * 16).min(lane.data.len());
        let block = &mut lane.data[b * 16..end];
        if let Ok(block) = <&mut [u8; 16]>::try_from(&mut *block) {
            for i in 0..16 {
                block[i] ^= ks[i];
            }
        } else {
            for (byte, k) in block.iter_mut().zip(ks.iter()) {
                *byte ^= k;
            }
        }
    }
}

fn serial_lane<B: BlockBackend<BlockSize = aes::cipher::consts::U16>>(
    backend: &mut B,
    lane: &mut Lane<'_>,
    state: &mut Block,
    dir: Direction,
    keystream: &mut ParBlocks<B>,
) {
    let par = <B as ParBlocksSizeUser>::ParBlocksSize::USIZE;
    let blocks = lane.data.len().div_ceil(16);
    let mut start = 0;
    while start < blocks {
        let end = (start + par).min(blocks);
        if dir == Direction::Decrypt {
            ctr_stride(backend, lane, start, end, keystream);
        }
        for b in start..end {
            let stop = ((b + 1) * 16).min(lane.data.len());
            xor_into(state, &lane.data[b * 16..stop]);
            backend.proc_block(state.into());
        }
        if dir == Direction::Encrypt {
            ctr_stride(backend, lane, start, end, keystream);
        }
        start = end;
    }
}

/// `acc ^= data` for a whole 16-byte block. Written as a byte loop over fixed arrays so it
/// compiles to one 16-byte SIMD XOR: the MAC state then goes back to memory as a single 16-byte
/// store, which the AES call's 16-byte load can forward (two 8-byte stores could not, and that
/// stall would sit on the MAC's dependency chain).
#[inline(always)]
fn xor16(acc: &mut Block, data: &[u8]) {
    let Ok(d) = <&[u8; 16]>::try_from(data) else { return xor_into(acc, data) };
    let a: &mut [u8; 16] = acc.as_mut();
    for i in 0..16 {
        a[i] ^= d[i];
    }
}

#[inline(always)]
fn xor16_mut(data: &mut [u8], k: &Block) {
    if let Ok(d) = <&mut [u8; 16]>::try_from(&mut *data) {
        for i in 0..16 {
            d[i] ^= k[i];
        }
    }
}

fn xor_into(acc: &mut Block, data: &[u8]) {
    for (a, d) in acc.iter_mut().zip(data) {
        *a ^= d;
    }
}

/// The optional upload integrity check (`?d=`, spec §5.2): the body XOR-folded into 12 bytes.
pub fn upload_checksum(body: &[u8]) -> [u8; 12] {
    // Folded 96 bytes (eight 12-byte rows) at a time as machine words, which the compiler
    // vectorises; byte `i` of a block is still byte `i % 12` of the fold, as 96 is a multiple
    // of 12. A byte at a time, this was a third of an upload's CPU.
    const BLOCK: usize = 96;
    let mut wide = [0u64; BLOCK / 8];
    let blocks = body.chunks_exact(BLOCK);
    let tail = blocks.remainder();
    for block in blocks {
        for (w, b) in wide.iter_mut().zip(block.chunks_exact(8)) {
            *w ^= u64::from_ne_bytes(b.try_into().expect("8 bytes"));
        }
    }
    let mut crc = [0u8; 12];
    let folded = wide.iter().flat_map(|w| w.to_ne_bytes());
    for (i, b) in folded.chain(tail.iter().copied()).enumerate() {
        crc[i % 12] ^= b;
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> ContentCipher {
        ContentCipher::from_parts(&[7; 16], &[1, 2, 3, 4, 5, 6, 7, 8])
    }

    #[test]
    fn upload_checksum_matches_the_byte_fold_at_every_length() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        for len in (0..300).chain([959, 960, 961, 1000]) {
            let mut want = [0u8; 12];
            for (i, b) in data[..len].iter().enumerate() {
                want[i % 12] ^= b;
            }
            assert_eq!(upload_checksum(&data[..len]), want, "length {len}");
        }
    }

    #[test]
    fn batch_matches_serial_on_ragged_lanes() {
        let c = cipher();
        let sizes = [131072usize, 5, 16, 17, 300, 0, 4096, 33, 1000, 70000];
        let plain: Vec<Vec<u8>> = sizes.iter().map(|&n| (0..n).map(|i| (i * 13 + n) as u8).collect()).collect();
        let mut bufs = plain.clone();
        let mut batch = ChunkBatch::new(&c, Direction::Encrypt);
        let mut off = 0u64;
        let mut offs = vec![];
        for b in bufs.iter_mut() {
            offs.push(off);
            batch.push(off, b).unwrap();
            off += 1 << 20;
        }
        let macs = batch.run();
        for i in 0..sizes.len() {
            assert_eq!(macs[i], c.chunk_mac(&plain[i]), "lane {i}");
            let mut expect = plain[i].clone();
            c.apply_ctr(offs[i], &mut expect);
            assert_eq!(bufs[i], expect, "lane {i}");
        }
    }

    #[test]
    fn streaming_mac_matches_serial() {
        let c = cipher();
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for split in [0usize, 1, 15, 16, 17, 500, 999, 1000] {
            let mut m = ChunkMac::new(&c);
            m.update(&data[..split]);
            for piece in data[split..].chunks(3) {
                m.update(piece);
            }
            assert_eq!(m.finish(), c.chunk_mac(&data), "split {split}");
        }
    }

    #[test]
    fn misaligned_push_is_an_error() {
        let c = cipher();
        let mut d = [0u8; 4];
        assert!(ChunkBatch::new(&c, Direction::Decrypt).push(8, &mut d).is_err());
    }
}
