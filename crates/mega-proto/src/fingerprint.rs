//! The fingerprint attribute `c` (spec §3.4): 16 bytes of sparse CRCs plus the mtime.
//!
//! Large files are sampled, not read whole: 4 × 32 blocks of 64 bytes spread evenly over the
//! file. [`sample_ranges`] says which bytes, so a caller can read only those.

use crate::{b64, Error};

/// A file fingerprint: content CRCs and modification time (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The 16 CRC bytes.
    pub crc: [u8; 16],
    /// The modification time, unix seconds.
    pub mtime: i64,
}

/// Files up to this size have their four CRCs over whole quarters.
const DENSE_MAX: u64 = 8192;
const BLOCKS: u64 = 32;
const BLOCK: u64 = 64;

/// The byte ranges `(offset, len)` the fingerprint of a file of `size` bytes reads, in order.
pub fn sample_ranges(size: u64) -> Vec<(u64, usize)> {
    if size <= DENSE_MAX {
        return if size == 0 { vec![] } else { vec![(0, size as usize)] };
    }
    (0..4u64 * BLOCKS).map(|k| (((size - BLOCK) as u128 * k as u128 / 127) as u64, BLOCK as usize)).collect()
}

/// Computes the CRC part from the file's bytes, read through `read_at(offset, buf)`, which must
/// fill `buf` from `offset`. Only [`sample_ranges`] are read.
pub fn crc_with<E>(size: u64, mut read_at: impl FnMut(u64, &mut [u8]) -> Result<(), E>) -> Result<[u8; 16], E> {
    let mut crc = [0u8; 16];
    if size <= 16 {
        read_at(0, &mut crc[..size as usize])?;
        return Ok(crc);
    }
    if size <= DENSE_MAX {
        let mut data = vec![0u8; size as usize];
        read_at(0, &mut data)?;
        for i in 0..4usize {
            let from = i * data.len() / 4;
            let to = (i + 1) * data.len() / 4;
            crc[i * 4..i * 4 + 4].copy_from_slice(&crc32fast::hash(&data[from..to]).to_be_bytes());
        }
        return Ok(crc);
    }
    let ranges = sample_ranges(size);
    let mut block = [0u8; BLOCK as usize];
    for (i, group) in ranges.chunks(BLOCKS as usize).enumerate() {
        let mut h = crc32fast::Hasher::new();
        for &(offset, len) in group {
            read_at(offset, &mut block[..len])?;
            h.update(&block[..len]);
        }
        crc[i * 4..i * 4 + 4].copy_from_slice(&h.finalize().to_be_bytes());
    }
    Ok(crc)
}

/// The CRC part of in-memory content.
pub fn crc_of(data: &[u8]) -> [u8; 16] {
    let r: Result<_, std::convert::Infallible> = crc_with(data.len() as u64, |off, buf| {
        let off = off as usize;
        buf.copy_from_slice(&data[off..off + buf.len()]);
        Ok(())
    });
    r.unwrap_or_default()
}

impl Fingerprint {
    /// The fingerprint of in-memory content with an mtime.
    pub fn of(data: &[u8], mtime: i64) -> Self {
        Fingerprint { crc: crc_of(data), mtime }
    }

    /// The `c` attribute: `b64(crc16 || n || n little-endian mtime bytes)`.
    pub fn to_attr(&self) -> String {
        let le = (self.mtime as u64).to_le_bytes();
        let n = 8 - le.iter().rev().take_while(|&&b| b == 0).count();
        let mut out = Vec::with_capacity(25);
        out.extend_from_slice(&self.crc);
        out.push(n as u8);
        out.extend_from_slice(&le[..n]);
        b64::encode(&out)
    }

    /// Parses a `c` attribute.
    pub fn parse(c: &str) -> Result<Self, Error> {
        let raw = b64::decode_all(c, "fingerprint")?;
        if raw.len() < 17 {
            return Err(Error::malformed("fingerprint", "shorter than 17 bytes"));
        }
        let n = raw[16] as usize;
        if n > 8 || raw.len() != 17 + n {
            return Err(Error::malformed("fingerprint", "bad mtime length"));
        }
        let mut crc = [0u8; 16];
        crc.copy_from_slice(&raw[..16]);
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(&raw[17..]);
        Ok(Fingerprint { crc, mtime: u64::from_le_bytes(le) as i64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for mtime in [0i64, 1, 255, 256, 1_700_000_000, 1 << 40, -1] {
            let f = Fingerprint { crc: [9; 16], mtime };
            assert_eq!(Fingerprint::parse(&f.to_attr()).unwrap(), f);
        }
        assert!(Fingerprint::parse("AAAA").is_err());
    }

    #[test]
    fn sparse_reads_only_samples() {
        let size = 1_000_000u64;
        let mut read = 0usize;
        let _ = crc_with::<()>(size, |_, buf| {
            read += buf.len();
            Ok(())
        });
        assert_eq!(read, 128 * 64);
    }
}
