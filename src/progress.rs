//! The one way library code reports progress: an explicit handle passed in
//! by the caller. The library never prints; the command line implements
//! [`Progress`] with progress bars, tests pass [`Silent`].

/// A progress sink for long library operations.
pub trait Progress: Sync {
    /// A new phase named `what`, with `len` steps if known (a spinner
    /// otherwise).
    fn start(&self, what: &str, len: Option<u64>);
    /// What the current step is working on (e.g. a layer name).
    fn message(&self, msg: &str);
    /// `n` more steps done.
    fn inc(&self, n: u64);
    /// The phase is over; clear any display.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn message(&self, _: &str) {}
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}
