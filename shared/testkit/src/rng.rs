//! The random sources of tests: [`SeededRng`], deterministic (SplitMix64)
//! so tests that mint ids and tokens are reproducible, and [`FailingRng`],
//! one that has no entropy to give. Not cryptographic — tests only.

use std::sync::{Mutex, PoisonError};

use sealpost_ports::{PortError, Rng};

/// Deterministic [`Rng`]: the same seed gives the same bytes.
#[derive(Debug)]
pub struct SeededRng {
    state: Mutex<u64>,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }

    fn next_u64(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Default for SeededRng {
    fn default() -> Self {
        Self::new(0x5EA1_9057)
    }
}

impl Rng for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// An [`Rng`] whose every `fill` fails with [`PortError::Rng`], for the
/// paths that must stop when the platform's random source does.
#[derive(Debug, Default, Clone, Copy)]
pub struct FailingRng;

impl Rng for FailingRng {
    fn fill(&self, _: &mut [u8]) -> Result<(), PortError> {
        Err(PortError::Rng("no entropy".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_ids_and_different_seeds_differ() {
        let (a, b, c) = (SeededRng::new(1), SeededRng::new(1), SeededRng::new(2));
        let ids_a: Vec<String> = (0..3).map(|_| a.id().unwrap()).collect();
        let ids_b: Vec<String> = (0..3).map(|_| b.id().unwrap()).collect();
        assert_eq!(ids_a, ids_b);
        assert_ne!(ids_a[0], ids_a[1]);
        assert_ne!(ids_a[0], c.id().unwrap());
        assert_eq!(ids_a[0].len(), 32);
    }

    #[test]
    fn splitmix64_matches_the_reference_output() {
        // Reference: first output of SplitMix64 seeded with 0.
        let r = SeededRng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn a_failing_source_fails_every_fill_with_an_rng_error() {
        assert!(matches!(
            FailingRng.fill(&mut [0u8; 4]),
            Err(PortError::Rng(_))
        ));
        assert!(matches!(FailingRng.id(), Err(PortError::Rng(_))));
    }
}
