//! Helpers shared by the integration tests.

use proptest::test_runner::RngSeed;

/// The proptest seed: fixed (`SME_COSIM_SEED`, default 1) so CI runs are
/// reproducible; `SME_COSIM_RANDOM=1` draws a fresh one.
pub fn rng_seed() -> RngSeed {
    if std::env::var_os("SME_COSIM_RANDOM").is_some() {
        return RngSeed::Random;
    }
    let seed = std::env::var("SME_COSIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    println!("proptest seed {seed} (SME_COSIM_SEED; SME_COSIM_RANDOM=1 for a fresh one)");
    RngSeed::Fixed(seed)
}
