//! The one seeded random number generator.
//!
//! Every name suffix, UID, container id, MAC, PID, port and address that Kubernetes would pick at
//! random comes from here, so the same seed and inputs give byte-identical output. The state is
//! saved as seed + stream position, so it continues exactly across commands.
//!
//! This module must never be seeded from the OS or the clock.

use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// kube's `rand.String` alphabet: no vowels, no ambiguous characters.
const KUBE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A portable, serialisable ChaCha8 stream.
#[derive(Debug)]
pub struct SimRng {
    seed: u64,
    rng: ChaCha8Rng,
}

#[derive(Serialize, Deserialize)]
struct SimRngRepr {
    seed: u64,
    word_pos: String,
}

impl Clone for SimRng {
    fn clone(&self) -> SimRng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_word_pos(self.rng.get_word_pos());
        SimRng {
            seed: self.seed,
            rng,
        }
    }
}

impl Serialize for SimRng {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SimRngRepr {
            seed: self.seed,
            word_pos: self.rng.get_word_pos().to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SimRng {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SimRng, D::Error> {
        let repr = SimRngRepr::deserialize(d)?;
        let mut rng = SimRng::new(repr.seed);
        let pos: u128 = repr.word_pos.parse().map_err(serde::de::Error::custom)?;
        rng.rng.set_word_pos(pos);
        Ok(rng)
    }
}

impl SimRng {
    /// A generator at the start of `seed`'s stream.
    pub fn new(seed: u64) -> SimRng {
        SimRng {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform integer in `0..n` (`n > 0`), computed by multiply-shift so the sequence does
    /// not depend on rand's distribution algorithms.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// `n` characters of kube's name-suffix alphabet (`x2x7k`).
    pub fn kube_suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| KUBE_ALPHANUMS[self.below(KUBE_ALPHANUMS.len() as u64) as usize] as char)
            .collect()
    }

    /// `n` lowercase hex digits (container ids, image digests).
    pub fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8] = b"0123456789abcdef";
        (0..n)
            .map(|_| HEX[self.below(16) as usize] as char)
            .collect()
    }

    /// A random (version 4) UUID, as `metadata.uid` is.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        // Written digit by digit: every object and event gets one, so no per-byte `format!`.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(36);
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_exactly_after_a_round_trip() {
        let mut a = SimRng::new(42);
        a.next_u64();
        let json = serde_json::to_string(&a).unwrap();
        let mut b: SimRng = serde_json::from_str(&json).unwrap();
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(a.uuid().len(), 36);
        assert!(
            a.kube_suffix(5)
                .bytes()
                .all(|c| KUBE_ALPHANUMS.contains(&c))
        );
    }
}
