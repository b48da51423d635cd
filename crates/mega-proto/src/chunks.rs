//! Chunk layout (spec §4.4): 128 KiB, 256 KiB, ... up to 1 MiB over the first eight chunks, then
//! 1 MiB each. Chunk MACs, upload offsets and resume points all sit on these boundaries.

use std::ops::Range;

/// The segment size: the first chunk's length.
pub const SEGMENT: u64 = 131_072;
/// The steady chunk size, reached from the ninth chunk on.
pub const MAX_CHUNK: u64 = 8 * SEGMENT;
/// Offset where the growing chunks end: 36 segments.
const GROWTH_END: u64 = 36 * SEGMENT;

/// The start offset of chunk `index` (0-based).
pub fn chunk_start(index: u64) -> u64 {
    if index <= 8 {
        SEGMENT * index * (index + 1) / 2
    } else {
        GROWTH_END.saturating_add((index - 8).saturating_mul(MAX_CHUNK))
    }
}

/// The 0-based index of the chunk containing `offset`.
pub fn chunk_index(offset: u64) -> u64 {
    if offset >= GROWTH_END {
        8 + (offset - GROWTH_END) / MAX_CHUNK
    } else {
        (0..8).find(|&i| offset < chunk_start(i + 1)).unwrap_or(8)
    }
}

/// True if `offset` is a chunk boundary (where an upload POST may start).
pub fn is_boundary(offset: u64) -> bool {
    chunk_start(chunk_index(offset)) == offset
}

/// The number of chunks of a file of `size` bytes (0 for an empty file).
pub fn chunk_count(size: u64) -> u64 {
    if size == 0 {
        0
    } else {
        chunk_index(size - 1) + 1
    }
}

/// The byte range of chunk `index` in a file of `size` bytes (truncated at EOF).
pub fn chunk_range(index: u64, size: u64) -> Range<u64> {
    let start = chunk_start(index).min(size);
    let end = chunk_start(index + 1).min(size);
    start..end
}

/// The chunks of a file of `size` bytes, in order.
pub fn chunks(size: u64) -> impl Iterator<Item = Range<u64>> + Clone {
    (0..chunk_count(size)).map(move |i| chunk_range(i, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let starts: Vec<u64> = (0..11).map(chunk_start).collect();
        assert_eq!(starts, [0, 131072, 393216, 786432, 1310720, 1966080, 2752512, 3670016, 4718592, 5767168, 6815744]);
        for i in 0..40 {
            assert_eq!(chunk_index(chunk_start(i)), i);
            assert_eq!(chunk_index(chunk_start(i + 1) - 1), i);
        }
        assert_eq!(chunk_count(0), 0);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(131072), 1);
        assert_eq!(chunk_count(131073), 2);
        assert!(is_boundary(393216) && !is_boundary(393215));
        assert_eq!(chunk_index(u64::MAX), 8 + (u64::MAX - GROWTH_END) / MAX_CHUNK);
    }
}
