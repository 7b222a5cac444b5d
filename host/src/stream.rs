//! The stream path of a backend: one bounded transfer that sends a batch's packed input beats to
//! the accelerator's `s_axis` and receives its `m_axis` beats up to TLAST (docs/register-map.md
//! "Streams"). [`crate::Device::run_batch`] programs the accelerator's stream registers around it;
//! implementations move bytes only: [`crate::dma::AxiDma`] (Xilinx AXI DMA, simple mode, on Zynq
//! and in the Verilator harness), [`crate::xdma::XdmaStream`] (XDMA in AXI4-Stream mode) and the
//! fake accelerator's model ([`crate::fake`]).

use std::time::Duration;

use crate::error::Error;

/// Why a transfer did not complete.
#[derive(Debug)]
pub enum StreamFault {
    /// The deadline passed first. `sent` / `received`: bytes the transport knows it moved (`None`
    /// when it cannot tell, e.g. a DMA channel still running), `detail` its state in words.
    Timeout {
        elapsed: Duration,
        sent: Option<u64>,
        received: Option<u64>,
        detail: String,
    },
    /// The transport failed (a DMA error bit, an I/O error, a short transfer).
    Failed(Error),
}

impl From<Error> for StreamFault {
    fn from(e: Error) -> Self {
        StreamFault::Failed(e)
    }
}

/// A way to stream bytes through the accelerator.
pub trait Stream: Send {
    /// For messages, e.g. `axi-dma uio /dev/uio1 + udmabuf /dev/udmabuf0`.
    fn describe(&self) -> String;

    /// The most vectors one [`Stream::transfer`] can carry, for vectors of `in_bytes` input and
    /// `out_bytes` output bytes (a buffer size or a DMA length register bounds it); at least 1
    /// when the transport can carry one vector at all, else 0.
    fn max_vectors(&self, in_bytes: usize, out_bytes: usize) -> usize;

    /// Sends `input` (whole beats, TLAST on its last beat) and receives into `output` until the
    /// accelerator's TLAST or until `output` is full, within `timeout`. Returns the bytes
    /// received. Never blocks much longer than `timeout`.
    fn transfer(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, StreamFault>;

    /// Sends `input` (whole beats) to the accelerator's `s_axis` and expects nothing back: the
    /// weight loader's path ([`crate::Device::load_weights`]). At most
    /// [`Stream::max_send_bytes`] bytes; never blocks much longer than `timeout`.
    fn send(&mut self, input: &[u8], timeout: Duration) -> Result<(), StreamFault> {
        let _ = (input, timeout);
        Err(StreamFault::Failed(Error::Stream {
            backend: self.describe(),
            detail: "this stream path cannot send without receiving (no weight loading)".into(),
        }))
    }

    /// The most bytes one [`Stream::send`] carries (a buffer size or a DMA length register).
    fn max_send_bytes(&self) -> usize {
        0
    }

    /// For a simulator: clock cycles simulated so far (reported in stall errors).
    fn sim_cycles(&self) -> Option<u64> {
        None
    }
}
