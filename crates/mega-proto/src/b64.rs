//! MEGA's base64 variant ("b64", spec §1.4) and a32 word arrays.
//!
//! Encoding is strict: base64url without padding. Decoding is as lenient as the official
//! clients: `+` and `/` are read as `-` and `_`, decoding stops at the first character outside
//! the alphabet (so `=`, `!`, `#` end it), and leftover bits of a final partial group are
//! ignored.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};

use crate::Error;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Encodes bytes as MEGA b64 (base64url, no padding).
pub fn encode(bytes: &[u8]) -> String {
    STRICT.encode(bytes)
}

/// Is `c` in the b64 alphabet as the lenient decoder reads it (`+` and `/` included)?
pub fn is_b64_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+' | b'/')
}

/// The number of leading characters of `s` that the lenient decoder consumes.
pub fn b64_prefix_len(s: &str) -> usize {
    s.bytes().take_while(|&c| is_b64_char(c)).count()
}

/// Decodes MEGA b64 leniently, exactly as the official clients do.
///
/// Never fails: decoding stops at the first character outside the alphabet, and a final group of
/// a single character (6 bits, not a whole byte) contributes nothing.
pub fn decode(s: &str) -> Vec<u8> {
    let n = b64_prefix_len(s);
    let mut text: Vec<u8> = s.as_bytes()[..n]
        .iter()
        .map(|&c| match c {
            b'+' => b'-',
            b'/' => b'_',
            c => c,
        })
        .collect();
    if text.len() % 4 == 1 {
        text.pop();
    }
    // The text is alphabet-only, unpadded and never 1 mod 4, with trailing bits allowed:
    // the engine cannot reject it.
    LENIENT.decode(&text).unwrap_or_default()
}

/// Decodes b64 that must hold exactly `N` bytes (a handle, a key).
///
/// Lenient on the alphabet like [`decode`], but the whole string must be consumed and give
/// exactly `N` bytes, so a truncated or over-long value is an error, never a short key.
pub fn decode_exact<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], Error> {
    if b64_prefix_len(s) != s.len() {
        return Err(Error::Base64 { what });
    }
    let bytes = decode(s);
    if s.len() != encoded_len(N) {
        return Err(Error::Length { what, expected: N, got: bytes.len() });
    }
    bytes.try_into().map_err(|v: Vec<u8>| Error::Length { what, expected: N, got: v.len() })
}

/// Decodes b64 with no stray characters (the whole string must be in the alphabet).
pub fn decode_all(s: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    if b64_prefix_len(s) != s.len() || s.len() % 4 == 1 {
        return Err(Error::Base64 { what });
    }
    Ok(decode(s))
}

/// The length of the unpadded b64 encoding of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Bytes to a32: big-endian 32-bit words, the last one zero-padded on the right.
pub fn to_a32(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_be_bytes(w)
        })
        .collect()
}

/// a32 to bytes: each word big-endian.
pub fn from_a32(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_rules() {
        assert_eq!(decode("AP8Q+/=="), vec![0x00, 0xff, 0x10, 0xfb]);
        assert_eq!(decode("AP8Q!rest"), vec![0x00, 0xff, 0x10]);
        assert_eq!(decode("A"), Vec::<u8>::new());
        assert_eq!(decode("AAAAA"), vec![0, 0, 0]);
        assert_eq!(decode("#"), Vec::<u8>::new());
    }

    #[test]
    fn exact_lengths() {
        assert_eq!(decode_exact::<6>("V_R4zAAH", "handle").unwrap(), [0x57, 0xf4, 0x78, 0xcc, 0, 7]);
        assert!(decode_exact::<6>("V_R4zAA", "handle").is_err());
        assert!(decode_exact::<6>("V_R4zAAHx", "handle").is_err());
        assert!(decode_exact::<6>("V_R4zA=H", "handle").is_err());
    }

    #[test]
    fn a32_pads_right() {
        assert_eq!(to_a32(&[1, 2, 3, 4, 5]), vec![0x0102_0304, 0x0500_0000]);
        assert_eq!(from_a32(&[0x93c4_67e3]), vec![0x93, 0xc4, 0x67, 0xe3]);
    }
}
