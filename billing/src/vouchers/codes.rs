//! Voucher codes: what a person types, and the only form the database keeps.
//!
//! A code is 17 random characters and one check character from an alphabet of 31 with no
//! look-alikes (no 0/O, 1/I/L), shown in three groups of six: `K7QM2X-9TRP4H-WC8N3F`. That is
//! 17 × log2(31) ≈ 84 bits of randomness. The check character makes the weighted sum of the
//! 18 values (weights 1..=18) divisible by 31; 31 is prime and every weight is below it, so
//! any single wrong character and any swap of two characters is caught without a lookup.
//!
//! The database holds only HMAC-SHA256(server key, space id ‖ normalized code): a copy of it
//! reveals no code, and the same code in two spaces hashes differently.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use spaces_tenants::TenantId;

/// The 31 characters of a code, in value order.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Random characters in a code.
pub const RANDOM_CHARS: usize = 17;
/// Characters in a code, the check character included.
pub const CODE_CHARS: usize = RANDOM_CHARS + 1;
const GROUP: usize = 6;

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character's value for the 17 values before it: the weighted sum of all 18 is
/// 0 mod 31, so check = −S × 18⁻¹ (18 × 19 = 342 = 11 × 31 + 1).
fn check_value(values: &[u32]) -> u32 {
    let s: u32 = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u32 + 1) * v)
        .sum::<u32>()
        % 31;
    ((31 - s) % 31) * 19 % 31
}

/// A code in its canonical form: 18 characters of the alphabet, no separators, check
/// character verified.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl fmt::Debug for Code {
    // A code is a bearer secret: it never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(…)")
    }
}

/// Why a typed code is not a code at all (answered `mistyped`, before any lookup).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mistyped {
    /// Not 18 characters once spaces and hyphens are removed.
    Length,
    /// A character outside the alphabet (0, O, 1, I, L, punctuation..).
    Character,
    /// The check character does not match.
    Check,
}

impl Code {
    /// Reads a code as a person typed it: any case, with or without spaces and hyphens.
    pub fn parse(typed: &str) -> Result<Self, Mistyped> {
        let mut canonical = String::with_capacity(CODE_CHARS);
        let mut values = Vec::with_capacity(CODE_CHARS);
        for c in typed.chars() {
            if c == '-' || c == ' ' || c == '\u{a0}' {
                continue;
            }
            if values.len() == CODE_CHARS {
                return Err(Mistyped::Length);
            }
            let up = c.to_ascii_uppercase();
            let v = u8::try_from(up)
                .ok()
                .and_then(value_of)
                .ok_or(Mistyped::Character)?;
            values.push(v);
            canonical.push(up);
        }
        if values.len() != CODE_CHARS {
            return Err(Mistyped::Length);
        }
        if check_value(&values[..RANDOM_CHARS]) != values[RANDOM_CHARS] {
            return Err(Mistyped::Check);
        }
        Ok(Self(canonical))
    }

    /// The code as printed for people: three groups of six.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(CODE_CHARS + 2);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % GROUP == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// The 18 characters without separators.
    pub fn canonical(&self) -> &str {
        &self.0
    }
}

/// Draws `n` new codes from the operating system's random source.
pub fn generate(n: usize) -> Result<Vec<Code>, getrandom::Error> {
    let mut codes = Vec::with_capacity(n);
    // Rejection sampling keeps every character uniform: bytes of 248 and above (8 × 31) are
    // drawn again. About 3 % are, so one refill per few codes at most.
    let mut pool = vec![0u8; 64 * 1024];
    let mut at = pool.len();
    for _ in 0..n {
        let mut values = [0u32; CODE_CHARS];
        let mut i = 0;
        while i < RANDOM_CHARS {
            if at == pool.len() {
                getrandom::fill(&mut pool)?;
                at = 0;
            }
            let b = pool[at];
            at += 1;
            if b < 248 {
                values[i] = u32::from(b % 31);
                i += 1;
            }
        }
        values[RANDOM_CHARS] = check_value(&values[..RANDOM_CHARS]);
        codes.push(Code(
            values
                .iter()
                .map(|v| ALPHABET[*v as usize] as char)
                .collect(),
        ));
    }
    Ok(codes)
}

/// The server's key for code hashes (`SPACES_VOUCHER_KEY_FILE`). Never printed.
#[derive(Clone)]
pub struct VoucherKey([u8; 32]);

impl fmt::Debug for VoucherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VoucherKey(…)")
    }
}

impl VoucherKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)?;
        Ok(Self(k))
    }

    /// The key as 64 hex digits, the form its file holds.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Reads the hex form (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.trim().as_bytes();
        if s.len() != 64 {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, pair) in s.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            k[i] = (hi * 16 + lo) as u8;
        }
        Some(Self(k))
    }

    /// What the database keeps for `code` in `space`.
    pub fn hash(&self, space: TenantId, code: &Code) -> String {
        // A 32-byte key is always a valid HMAC key; the Err arm cannot happen.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(space.uuid().as_bytes());
        mac.update(code.canonical().as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_reads_back_in_every_written_form() {
        for code in generate(200).unwrap() {
            let g = code.grouped();
            assert_eq!(g.len(), 20);
            assert_eq!(g.matches('-').count(), 2);
            assert_eq!(Code::parse(&g).unwrap(), code);
            assert_eq!(Code::parse(code.canonical()).unwrap(), code);
            assert_eq!(Code::parse(&g.to_lowercase()).unwrap(), code);
            assert_eq!(Code::parse(&g.replace('-', " ")).unwrap(), code);
        }
    }

    #[test]
    fn every_single_typo_and_every_adjacent_swap_is_caught() {
        let code = generate(1).unwrap().remove(0);
        let chars: Vec<u8> = code.canonical().bytes().collect();
        for i in 0..CODE_CHARS {
            for a in ALPHABET.iter().filter(|a| **a != chars[i]) {
                let mut typo = chars.clone();
                typo[i] = *a;
                let typed = String::from_utf8(typo).unwrap();
                assert_eq!(Code::parse(&typed), Err(Mistyped::Check), "{typed}");
            }
        }
        for i in 0..CODE_CHARS - 1 {
            if chars[i] == chars[i + 1] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            let typed = String::from_utf8(swapped).unwrap();
            assert_eq!(Code::parse(&typed), Err(Mistyped::Check), "{typed}");
        }
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_mistyped() {
        let code = generate(1).unwrap().remove(0);
        let mut with_o = code.canonical().to_owned();
        with_o.replace_range(0..1, "O");
        assert_eq!(Code::parse(&with_o), Err(Mistyped::Character));
        assert_eq!(Code::parse(&code.canonical()[..17]), Err(Mistyped::Length));
        assert_eq!(
            Code::parse(&format!("{}2", code.canonical())),
            Err(Mistyped::Length)
        );
        assert_eq!(Code::parse(""), Err(Mistyped::Length));
    }

    #[test]
    fn characters_are_spread_over_the_whole_alphabet() {
        let mut seen = [0usize; 31];
        for code in generate(2000).unwrap() {
            for c in code.canonical().bytes().take(RANDOM_CHARS) {
                seen[value_of(c).unwrap() as usize] += 1;
            }
        }
        // 34,000 draws, about 1,097 per character: each well above half of that.
        assert!(seen.iter().all(|n| *n > 548), "{seen:?}");
    }

    #[test]
    fn the_hash_depends_on_the_key_and_the_space() {
        let code = generate(1).unwrap().remove(0);
        let k1 = VoucherKey::from_bytes([1; 32]);
        let k2 = VoucherKey::from_bytes([2; 32]);
        let a = TenantId::new();
        let b = TenantId::new();
        assert_eq!(k1.hash(a, &code), k1.hash(a, &code));
        assert_ne!(k1.hash(a, &code), k2.hash(a, &code));
        assert_ne!(k1.hash(a, &code), k1.hash(b, &code));
        assert_eq!(k1.hash(a, &code).len(), 64);
        let back = VoucherKey::from_hex(&k1.to_hex()).unwrap();
        assert_eq!(back.hash(a, &code), k1.hash(a, &code));
        assert!(!k1.hash(a, &code).contains(code.canonical()));
    }
}
