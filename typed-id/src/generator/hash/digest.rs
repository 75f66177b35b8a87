//! The hashed text and its SHA-256, laid out by hand: `title|created_by|timestamp_ns|`
//! is written once into padded SHA-256 blocks on the stack, and each candidate only
//! writes its nonce, the padding byte and the length before one call of the
//! compression function (the one `unsafe` cast is in [`Blocks::message`]).

use sha2::digest::generic_array::GenericArray;
use sha2::digest::typenum::U64;
use sha2::{Digest, Sha256};

use super::super::system_now_ns;
use crate::codec::{decimal_len, digits8, put_decimal};

/// Inputs up to this size are hashed from one stack buffer: with a nonce of up to 10
/// digits, the 0x80 byte and the 8-byte length they fit two SHA-256 blocks. Longer
/// ones go through a hash state cloned per nonce.
const INLINE_INPUT: usize = 128 - 10 - 1 - 8;

/// What a content hash is computed from: `title|created_by|timestamp_ns|nonce`.
///
/// ```
/// use typed_id::generator::HashInput;
///
/// let input = HashInput::new("Fix the login bug", "alice", 1_735_689_600_123_456_789);
/// // The value behind nonce 0, for reproducing an ID by hand.
/// let v = input.digest_value(0);
/// assert_eq!(v, input.digest_value(0));
/// assert_ne!(v, input.digest_value(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HashInput<'a> {
    /// The element's title.
    pub title: &'a str,
    /// Who created it.
    pub created_by: &'a str,
    /// Creation time in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
}

impl<'a> HashInput<'a> {
    /// An input with an explicit creation time.
    #[must_use]
    pub fn new(title: &'a str, created_by: &'a str, timestamp_ns: u64) -> Self {
        HashInput {
            title,
            created_by,
            timestamp_ns,
        }
    }

    /// An input created now (system clock).
    #[must_use]
    pub fn now(title: &'a str, created_by: &'a str) -> Self {
        let ns = u64::try_from(system_now_ns()).unwrap_or(u64::MAX);
        Self::new(title, created_by, ns)
    }

    /// The first 8 bytes, big-endian, of SHA-256(`title|created_by|timestamp_ns|nonce`).
    #[must_use]
    pub fn digest_value(&self, nonce: u32) -> u64 {
        Prepared::new(self, &mut Blocks::new()).value(nonce)
    }
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The stack buffer a short input is hashed from: the two blocks the message and its
/// padding are laid out in.
pub(super) struct Blocks([[u8; 64]; 2]);

impl Blocks {
    #[inline]
    pub(super) fn new() -> Self {
        Blocks([[0; 64]; 2])
    }

    #[inline]
    fn bytes(&mut self) -> &mut [u8] {
        self.0.as_flattened_mut()
    }

    /// The first `count` blocks, as the compression function takes them.
    #[inline]
    fn message(&self, count: usize) -> &[GenericArray<u8, U64>] {
        let blocks = &self.0[..count];
        // SAFETY: `GenericArray<u8, U64>` is `#[repr(transparent)]` over nested
        // `#[repr(C)]` pairs of `u8`: the layout of `[u8; 64]` (size 64, alignment 1,
        // checked below), so a slice of one is a slice of the other. (`sha2` casts the
        // same way in the other direction inside `compress256`.) One call for both
        // blocks instead of one per block spares the SHA-NI code a second load and
        // shuffle of the state.
        unsafe { core::slice::from_raw_parts(blocks.as_ptr().cast(), blocks.len()) }
    }
}

const _: () =
    assert!(size_of::<GenericArray<u8, U64>>() == 64 && align_of::<GenericArray<u8, U64>>() == 1);

/// The hash input up to and including the `|` before the nonce, ready for many nonces.
///
/// Short inputs are laid out directly as padded SHA-256 blocks and run through the
/// compression function: the same SHA-256 as `Sha256::digest`, without copying the
/// message into the hasher's buffer or serializing the 24 output bytes never used.
pub(super) enum Prepared<'b> {
    /// Inputs that fit two blocks with the nonce and padding, laid out in the caller's
    /// buffer (so the bytes are never moved); `len` bytes of message so far.
    Inline { blocks: &'b mut Blocks, len: usize },
    /// Longer inputs: the hash state after the shared part.
    Long(Sha256),
}

impl<'b> Prepared<'b> {
    #[inline(always)]
    pub(super) fn new(input: &HashInput<'_>, blocks: &'b mut Blocks) -> Self {
        let (title, by) = (input.title.as_bytes(), input.created_by.as_bytes());
        let ts_len = decimal_len(input.timestamp_ns);
        let total = title.len() + by.len() + ts_len + 3;
        if total <= INLINE_INPUT {
            // In message order, the timestamp as whole words (see `put_decimal`); the
            // nonce and the padding follow per candidate (`value`).
            let buf = blocks.bytes();
            let ts_at = title.len() + 1 + by.len() + 1;
            let ts_end = ts_at + ts_len;
            buf[..title.len()].copy_from_slice(title);
            buf[title.len()] = b'|';
            buf[title.len() + 1..ts_at - 1].copy_from_slice(by);
            buf[ts_at - 1] = b'|';
            put_decimal(input.timestamp_ns, ts_len, &mut buf[ts_at..]);
            buf[ts_end] = b'|';
            Prepared::Inline {
                blocks,
                len: ts_end + 1,
            }
        } else {
            let mut digits = [0u8; 24];
            let ts = decimal(input.timestamp_ns, &mut digits);
            let parts: [&[u8]; 6] = [title, b"|", by, b"|", ts, b"|"];
            let mut h = Sha256::new();
            for part in parts {
                h.update(part);
            }
            Prepared::Long(h)
        }
    }

    /// The first 8 digest bytes (big-endian) for `nonce`.
    #[inline(always)]
    pub(super) fn value(&mut self, nonce: u32) -> u64 {
        match self {
            Prepared::Inline { blocks, len } => {
                let len = *len;
                let (tail, digits) = nonce_tail(nonce);
                let end = len + digits;
                let count = if end < 56 { 1 } else { 2 };
                let buf = blocks.bytes();
                // Every byte after the message is zero except the ones the tail store
                // below rewrites and the length field: a one-block length left by an
                // earlier, shorter nonce sits in the padding of a two-block message.
                if count == 2 && len <= 56 {
                    buf[56..64].fill(0);
                }
                // The nonce, 0x80 and zeros, in one 16-byte store (len + 16 <= 125).
                buf[len..len + 16].copy_from_slice(&tail);
                let last = count * 64;
                buf[last - 8..last].copy_from_slice(&(end as u64 * 8).to_be_bytes());
                let mut state = SHA256_H0;
                sha2::compress256(&mut state, blocks.message(count));
                (u64::from(state[0]) << 32) | u64::from(state[1])
            }
            Prepared::Long(h) => {
                let mut digits = [0u8; 24];
                let nonce = decimal(u64::from(nonce), &mut digits);
                let digest = h.clone().chain_update(nonce).finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                u64::from_be_bytes(first)
            }
        }
    }
}

/// Decimal digits of `v`, written into `out`.
#[inline]
fn decimal(v: u64, out: &mut [u8; 24]) -> &[u8] {
    let len = decimal_len(v);
    put_decimal(v, len, out);
    &out[..len]
}

/// What follows the `|` before the nonce: the nonce's digits (at most 10), SHA-256's
/// 0x80 padding byte, and zeros, as 16 bytes; and the number of digits.
#[inline(always)]
fn nonce_tail(nonce: u32) -> ([u8; 16], usize) {
    if nonce < 10 {
        // Almost every ID is found with the first nonce.
        let mut tail = [0u8; 16];
        tail[0] = b'0' + nonce as u8;
        tail[1] = 0x80;
        return (tail, 1);
    }
    let digits = decimal_len(u64::from(nonce));
    let mut text = [0u8; 16];
    text[..8].copy_from_slice(&digits8(nonce / 100_000_000));
    text[8..].copy_from_slice(&digits8(nonce % 100_000_000));
    // Drop the leading zeros by shifting the digits to the front, then add 0x80.
    let tail = (u128::from_le_bytes(text) >> (8 * (16 - digits))) | (0x80 << (8 * digits));
    (tail.to_le_bytes(), digits)
}

/// `value mod 36^len` as exactly `len` lowercase base36 digits, like
/// [`codec::encode_base36_fixed`](crate::codec::encode_base36_fixed): the last `len`
/// base36 digits of `value` are those of `value mod 36^len`, so no division by a
/// run-time modulus is needed (division by the constant 36 is a multiplication).
#[inline(always)]
pub(super) fn base36_fixed(mut value: u64, len: u8, out: &mut [u8]) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for slot in out[..usize::from(len)].iter_mut().rev() {
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
}

#[cfg(test)]
mod tests {
    use super::super::length::LEN_MAX;
    use super::*;

    #[test]
    fn digest_value_is_sha256_of_the_documented_text() {
        let input = HashInput::new("Fix | it", "bob", 42);
        let digest = Sha256::digest(b"Fix | it|bob|42|7");
        let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
        assert_eq!(input.digest_value(7), expected);
        // Every message length around the one/two-block boundary and the inline limit,
        // with nonces of different lengths reusing one buffer.
        for title_len in 0..=120 {
            let title = "t".repeat(title_len);
            let input = HashInput::new(&title, "bob", 42);
            let mut blocks = Blocks::new();
            let mut prepared = Prepared::new(&input, &mut blocks);
            for nonce in [1_000_000_000, 0, 99, 7, u32::MAX] {
                let text = format!("{title}|bob|42|{nonce}");
                let digest = Sha256::digest(text.as_bytes());
                let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
                assert_eq!(prepared.value(nonce), expected, "{text}");
            }
        }
        // Timestamps of every digit count, and nonces in increasing order as the
        // generator uses them (a buffer reused across one- and two-block messages).
        let stamps = (0..20)
            .map(|k| 10u64.pow(k))
            .chain([0, 9, 99, 42, u64::MAX]);
        for ts in stamps {
            for title_len in [0, 1, 23, 30, 31, 32, 33, 40, 70, 80] {
                let title = "é".repeat(title_len / 2) + &"t".repeat(title_len % 2);
                let input = HashInput::new(&title, "ann", ts);
                let mut blocks = Blocks::new();
                let mut prepared = Prepared::new(&input, &mut blocks);
                for nonce in (0..=12).chain([99, 100, 123_456_789, 1_000_000_000]) {
                    let text = format!("{title}|ann|{ts}|{nonce}");
                    let digest = Sha256::digest(text.as_bytes());
                    let expected = u64::from_be_bytes(digest[..8].try_into().unwrap());
                    assert_eq!(prepared.value(nonce), expected, "{text}");
                }
            }
        }
        // Long inputs take the incremental path and agree.
        let title = "x".repeat(500);
        let long = HashInput::new(&title, "bob", 0);
        let text = format!("{title}|bob|0|12");
        let digest = Sha256::digest(text.as_bytes());
        assert_eq!(
            long.digest_value(12),
            u64::from_be_bytes(digest[..8].try_into().unwrap())
        );
        for v in [
            0,
            7,
            10,
            99,
            100,
            101,
            12_345,
            1_735_689_600_123_456_789,
            u64::MAX,
        ] {
            assert_eq!(decimal(v, &mut [0; 24]), v.to_string().as_bytes());
        }
    }

    #[test]
    fn nonce_tail_is_the_digits_then_padding() {
        for nonce in (0..=1_000).chain([9_999_999, 123_456_789, 1_000_000_000, u32::MAX]) {
            let (tail, digits) = nonce_tail(nonce);
            let text = nonce.to_string();
            assert_eq!(digits, text.len());
            assert_eq!(&tail[..digits], text.as_bytes());
            assert_eq!(tail[digits], 0x80);
            assert!(tail[digits + 1..].iter().all(|&b| b == 0), "{nonce}");
        }
    }

    #[test]
    fn base36_matches_the_codec() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let edges = [
            0,
            35,
            36,
            36u64.pow(4) - 1,
            36u64.pow(8) - 1,
            36u64.pow(8),
            u64::MAX,
        ];
        for i in 0..10_000u64 {
            x = x.rotate_left(17) ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let x = edges.get(i as usize).copied().unwrap_or(x);
            for len in 1..=LEN_MAX {
                let expected = crate::codec::encode_base36_fixed(x, usize::from(len)).unwrap();
                let mut out = [0u8; 8];
                base36_fixed(x, len, &mut out);
                assert_eq!(&out[..usize::from(len)], expected.as_bytes());
            }
        }
    }
}
