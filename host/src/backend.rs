//! The backend trait: 32-bit access to the accelerator's register space, bulk transfers with a
//! default word-by-word implementation, and an optional interrupt wait. Everything above it (the
//! driver sequence in `device.rs`) is shared by every backend.

use std::time::Duration;

use crate::error::{Error, Result};

/// What happened during [`Backend::wait_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The interrupt (or the backend's equivalent) fired: check STATUS.
    Fired,
    /// The backend waited the whole slice and nothing fired.
    Quiet,
    /// The backend has no interrupt path; the caller polls STATUS (with a deadline).
    Unsupported,
}

/// One way of reaching the accelerator's AXI4-Lite register space.
///
/// Offsets are byte offsets from the start of the accelerator's address space (window 0 at 0).
/// Implementations check alignment and bounds with [`check_access`] before touching anything.
pub trait Backend: Send {
    /// A short description for messages, e.g. `uio /dev/uio0`.
    fn describe(&self) -> String;

    /// Bytes of address space this backend can reach (at least the manifest's four windows).
    fn size(&self) -> u64;

    /// Reads the 32-bit word at `offset`.
    fn read32(&mut self, offset: u64) -> Result<u32>;

    /// Writes the 32-bit word at `offset`.
    fn write32(&mut self, offset: u64, value: u32) -> Result<()>;

    /// Reads consecutive words starting at `offset`. Backends with a faster path override this.
    fn read_words(&mut self, offset: u64, out: &mut [u32]) -> Result<()> {
        check_access(offset, out.len(), self.size())?;
        for (i, w) in out.iter_mut().enumerate() {
            *w = self.read32(offset + 4 * i as u64)?;
        }
        Ok(())
    }

    /// Writes consecutive words starting at `offset`. Backends with a faster path override this.
    fn write_words(&mut self, offset: u64, data: &[u32]) -> Result<()> {
        check_access(offset, data.len(), self.size())?;
        for (i, w) in data.iter().enumerate() {
            self.write32(offset + 4 * i as u64, *w)?;
        }
        Ok(())
    }

    /// True when [`Backend::wait_event`] can report the device's interrupt, so the driver sets
    /// CONTROL.IRQ_ENABLE when it starts a run.
    fn has_interrupt(&self) -> bool {
        false
    }

    /// Waits up to `timeout` for the done interrupt. Never blocks longer than `timeout`.
    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        let _ = timeout;
        Ok(Event::Unsupported)
    }

    /// For a simulator: clock cycles simulated so far (reported in timeout errors).
    fn sim_cycles(&self) -> Option<u64> {
        None
    }
}

impl<B: Backend + ?Sized> Backend for Box<B> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read32(&mut self, offset: u64) -> Result<u32> {
        (**self).read32(offset)
    }
    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        (**self).write32(offset, value)
    }
    fn read_words(&mut self, offset: u64, out: &mut [u32]) -> Result<()> {
        (**self).read_words(offset, out)
    }
    fn write_words(&mut self, offset: u64, data: &[u32]) -> Result<()> {
        (**self).write_words(offset, data)
    }
    fn has_interrupt(&self) -> bool {
        (**self).has_interrupt()
    }
    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        (**self).wait_event(timeout)
    }
    fn sim_cycles(&self) -> Option<u64> {
        (**self).sim_cycles()
    }
}

/// Checks that `words` 32-bit words at byte `offset` are aligned and inside `limit` bytes.
pub fn check_access(offset: u64, words: usize, limit: u64) -> Result<()> {
    if offset % 4 != 0 {
        return Err(Error::Unaligned { offset });
    }
    let end = (words as u64)
        .checked_mul(4)
        .and_then(|n| offset.checked_add(n));
    match end {
        Some(end) if end <= limit && offset < limit.max(1) => Ok(()),
        _ => Err(Error::OutOfRange {
            offset,
            words: words.max(1),
            limit,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_checks() {
        check_access(0, 1, 0x4000).unwrap();
        check_access(0x3FFC, 1, 0x4000).unwrap();
        check_access(0x3FF0, 4, 0x4000).unwrap();
        assert!(matches!(
            check_access(2, 1, 0x4000),
            Err(Error::Unaligned { offset: 2 })
        ));
        assert!(matches!(
            check_access(0x4000, 1, 0x4000),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            check_access(0x3FF4, 4, 0x4000),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            check_access(u64::MAX - 3, 2, 0x4000),
            Err(Error::OutOfRange { .. })
        ));
        let msg = check_access(6, 1, 0x4000).unwrap_err().to_string();
        assert!(msg.contains("offset must be a multiple of 4"), "{msg}");
    }
}
