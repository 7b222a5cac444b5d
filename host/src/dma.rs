//! One driver for the Xilinx AXI DMA (PG021) in simple (direct register) mode, over a register
//! trait ([`DmaRegs`]) and a buffer trait ([`DmaBuffer`]): the same code drives the DMA of a Zynq
//! board (registers through a UIO node, buffers from u-dma-buf) and the DMA model of the
//! Verilator harness (hw/sim/bramble_harness.cpp).
//!
//! A transfer: reset the core when it was never used, failed last time or shows a status bit
//! left over (a reset of either channel resets both), set RS with the interrupts enabled, make the buffer visible to the
//! device (`sync_for_device`), start S2MM first (so no output beat ever waits for a receiver that
//! is not programmed yet) then MM2S, wait for IOC on both channels with a deadline (the interrupt
//! when the register side has one, a bounded poll otherwise), check the error bits, read back
//! S2MM_LENGTH (the bytes S2MM received up to TLAST), `sync_for_cpu`, copy the output out.
//!
//! The buffer holds the input at offset 0 and the output after it, aligned to
//! [`BUFFER_ALIGN`] bytes (a cache line on every Zynq, so the two regions never share a line).

use std::time::{Duration, Instant};

use crate::backend::Event;
use crate::error::{Error, Result};
use crate::stream::{Stream, StreamFault};

/// MM2S_DMACR: MM2S control.
pub const MM2S_DMACR: u32 = 0x00;
/// MM2S_DMASR: MM2S status.
pub const MM2S_DMASR: u32 = 0x04;
/// MM2S_SA: source address, bits 31:0.
pub const MM2S_SA: u32 = 0x18;
/// MM2S_SA_MSB: source address, bits 63:32 (address width > 32 only).
pub const MM2S_SA_MSB: u32 = 0x1C;
/// MM2S_LENGTH: bytes to send; writing it starts the transfer.
pub const MM2S_LENGTH: u32 = 0x28;
/// S2MM_DMACR: S2MM control.
pub const S2MM_DMACR: u32 = 0x30;
/// S2MM_DMASR: S2MM status.
pub const S2MM_DMASR: u32 = 0x34;
/// S2MM_DA: destination address, bits 31:0.
pub const S2MM_DA: u32 = 0x48;
/// S2MM_DA_MSB: destination address, bits 63:32.
pub const S2MM_DA_MSB: u32 = 0x4C;
/// S2MM_LENGTH: buffer bytes; writing it starts the transfer; after IOC it holds the bytes
/// received.
pub const S2MM_LENGTH: u32 = 0x58;

/// DMACR.RS: run/stop.
pub const CR_RS: u32 = 1 << 0;
/// DMACR.Reset: soft reset of the whole core (self-clearing).
pub const CR_RESET: u32 = 1 << 2;
/// DMACR.IOC_IrqEn.
pub const CR_IOC_IRQ_EN: u32 = 1 << 12;
/// DMACR.Err_IrqEn.
pub const CR_ERR_IRQ_EN: u32 = 1 << 14;
/// DMASR.Halted.
pub const SR_HALTED: u32 = 1 << 0;
/// DMASR.Idle.
pub const SR_IDLE: u32 = 1 << 1;
/// DMASR.DMAIntErr.
pub const SR_INT_ERR: u32 = 1 << 4;
/// DMASR.DMASlvErr.
pub const SR_SLV_ERR: u32 = 1 << 5;
/// DMASR.DMADecErr.
pub const SR_DEC_ERR: u32 = 1 << 6;
/// DMASR.IOC_Irq (write 1 clears).
pub const SR_IOC_IRQ: u32 = 1 << 12;
/// DMASR.Err_Irq (write 1 clears).
pub const SR_ERR_IRQ: u32 = 1 << 14;
/// The error bits of DMASR.
pub const SR_ERRORS: u32 = SR_INT_ERR | SR_SLV_ERR | SR_DEC_ERR | SR_ERR_IRQ;

/// Alignment of the output region in the buffer (and of every transfer's start address).
pub const BUFFER_ALIGN: u64 = 64;

/// Longest single wait for the interrupt before both status registers are read again.
const SLICE: Duration = Duration::from_millis(20);
/// Longest sleep of the bounded poll when there is no interrupt.
const MAX_POLL_SLEEP: Duration = Duration::from_millis(1);
/// How long a soft reset may take (PG021: a few clocks once outstanding transfers end).
const RESET_TIMEOUT: Duration = Duration::from_millis(100);

/// The AXI DMA's AXI4-Lite register space.
pub trait DmaRegs: Send {
    /// For messages.
    fn describe(&self) -> String;
    /// Reads the register at byte offset `offset` (PG021 offsets above).
    fn read32(&mut self, offset: u32) -> Result<u32>;
    /// Writes the register at byte offset `offset`.
    fn write32(&mut self, offset: u32, value: u32) -> Result<()>;
    /// Waits up to `timeout` for the S2MM interrupt (`s2mm_introut`, the one a UIO node carries;
    /// MM2S completion and errors are seen by reading DMASR). [`Event::Unsupported`] when there
    /// is no interrupt: the driver polls with a bounded sleep.
    fn wait_irq(&mut self, timeout: Duration) -> Result<Event> {
        let _ = timeout;
        Ok(Event::Unsupported)
    }
    /// For a simulator: clock cycles simulated so far.
    fn sim_cycles(&self) -> Option<u64> {
        None
    }
    /// For a model that can tell (a real core cannot before IOC): bytes (MM2S, S2MM) moved so
    /// far, a running count; the driver reports the difference over a stalled transfer.
    fn bytes_moved(&self) -> Option<(u64, u64)> {
        None
    }
}

/// Physically contiguous memory both the CPU and the DMA reach.
pub trait DmaBuffer: Send {
    /// For messages.
    fn describe(&self) -> String;
    /// The bus address of byte 0 as the DMA sees it.
    fn phys_addr(&self) -> u64;
    /// Bytes.
    fn size(&self) -> u64;
    /// Copies `data` into the buffer at `offset`.
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<()>;
    /// Copies from the buffer at `offset` into `out`.
    fn read(&mut self, offset: u64, out: &mut [u8]) -> Result<()>;
    /// Hands `len` bytes at `offset` to the device (clean the CPU cache for them).
    fn sync_for_device(&mut self, offset: u64, len: u64) -> Result<()>;
    /// Hands `len` bytes at `offset` back to the CPU (invalidate the CPU cache for them).
    fn sync_for_cpu(&mut self, offset: u64, len: u64) -> Result<()>;
}

/// How the DMA core was configured in the block design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaConfig {
    /// Width of the Buffer Length Register (`c_sg_length_width`, 8..=26): a transfer carries at
    /// most `2^length_bits - 1` bytes. The bundle's block design sets 26.
    pub length_bits: u32,
    /// Address width (`c_m_axi_mm2s_data_width`'s companion `c_addr_width`, 32..=64): above 32
    /// the `_MSB` address registers exist and are written.
    pub addr_bits: u32,
}

impl Default for DmaConfig {
    fn default() -> Self {
        // What the generated block design configures (bramble_abi::board, docs/vivado.md).
        DmaConfig {
            length_bits: bramble_abi::board::DMA_LENGTH_BITS,
            addr_bits: bramble_abi::board::DMA_ADDR_BITS,
        }
    }
}

impl DmaConfig {
    /// Largest transfer in bytes.
    pub fn max_length(&self) -> u64 {
        (1u64 << self.length_bits.clamp(8, 26)) - 1
    }
}

/// The driver: a DMA core and its buffer.
pub struct AxiDma<R: DmaRegs, B: DmaBuffer> {
    regs: R,
    buf: B,
    cfg: DmaConfig,
    /// Reset the core before the next transfer (never used, or the last transfer failed).
    needs_reset: bool,
}

impl<R: DmaRegs, B: DmaBuffer> std::fmt::Debug for AxiDma<R, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AxiDma")
            .field("regs", &self.regs.describe())
            .field("buffer", &self.buf.describe())
            .field("cfg", &self.cfg)
            .finish()
    }
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// DMASR in words, for errors.
pub fn describe_status(sr: u32) -> String {
    let mut parts = Vec::new();
    for (bit, name) in [
        (SR_HALTED, "Halted"),
        (SR_IDLE, "Idle"),
        (SR_INT_ERR, "DMAIntErr"),
        (SR_SLV_ERR, "DMASlvErr"),
        (SR_DEC_ERR, "DMADecErr"),
        (SR_IOC_IRQ, "IOC_Irq"),
        (SR_ERR_IRQ, "Err_Irq"),
    ] {
        if sr & bit != 0 {
            parts.push(name);
        }
    }
    if parts.is_empty() {
        format!("{sr:#010x} (running)")
    } else {
        format!("{sr:#010x} ({})", parts.join(" "))
    }
}

impl<R: DmaRegs, B: DmaBuffer> AxiDma<R, B> {
    /// A driver for the core behind `regs` using `buf`.
    pub fn new(regs: R, buf: B, cfg: DmaConfig) -> AxiDma<R, B> {
        AxiDma {
            regs,
            buf,
            cfg,
            needs_reset: true,
        }
    }

    /// The register side and the buffer, taken apart (e.g. to wrap one of them).
    pub fn into_parts(self) -> (R, B) {
        (self.regs, self.buf)
    }

    /// The register side.
    pub fn regs(&mut self) -> &mut R {
        &mut self.regs
    }

    /// The buffer.
    pub fn buffer(&mut self) -> &mut B {
        &mut self.buf
    }

    fn fail(&self, detail: String) -> Error {
        Error::Stream {
            backend: self.describe(),
            detail,
        }
    }

    /// Soft reset (DMACR.Reset, self-clearing), bounded by [`RESET_TIMEOUT`].
    pub fn reset(&mut self) -> Result<()> {
        self.regs.write32(MM2S_DMACR, CR_RESET)?;
        let began = Instant::now();
        loop {
            let busy = (self.regs.read32(MM2S_DMACR)? | self.regs.read32(S2MM_DMACR)?) & CR_RESET;
            if busy == 0 {
                self.needs_reset = false;
                return Ok(());
            }
            if began.elapsed() >= RESET_TIMEOUT {
                return Err(self.fail(format!(
                    "DMACR.Reset still set after {RESET_TIMEOUT:?}: the DMA core does not answer"
                )));
            }
            std::thread::sleep(Duration::from_micros(10));
        }
    }

    /// The bus address of buffer byte `offset`, checked against the configured address width.
    fn bus_address(&self, offset: u64) -> Result<u64> {
        let limit = if self.cfg.addr_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.cfg.addr_bits) - 1
        };
        self.buf
            .phys_addr()
            .checked_add(offset)
            .filter(|&a| a <= limit)
            .ok_or(Error::AddressOverflow {
                what: "AXI DMA buffer address",
                base: self.buf.phys_addr(),
                offset,
                limit,
            })
    }

    fn set_address(&mut self, lo: u32, hi: u32, addr: u64) -> Result<()> {
        self.regs.write32(lo, addr as u32)?;
        if self.cfg.addr_bits > 32 {
            self.regs.write32(hi, (addr >> 32) as u32)?;
        }
        Ok(())
    }

    fn run(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, StreamFault> {
        let began = Instant::now();
        let in_len = input.len() as u64;
        let out_off = align_up(in_len, BUFFER_ALIGN);
        let out_len = output.len() as u64;
        if in_len == 0 || out_len == 0 {
            return Err(self
                .fail("a DMA transfer needs at least one byte each way".into())
                .into());
        }
        if out_off + out_len > self.buf.size() {
            return Err(self
                .fail(format!(
                    "{in_len} input and {out_len} output bytes do not fit the {}-byte buffer",
                    self.buf.size()
                ))
                .into());
        }
        let max = self.cfg.max_length();
        if in_len > max || out_len > max {
            return Err(self
                .fail(format!(
                    "a transfer of {} bytes exceeds the DMA's {}-bit length register ({max} bytes)",
                    in_len.max(out_len),
                    self.cfg.length_bits
                ))
                .into());
        }
        let src = self.bus_address(0)?;
        let dst = self.bus_address(out_off)?;
        self.bus_address(out_off + out_len - 1)?;

        // A status bit left over (an interrupt not acknowledged, an error) could end this wait
        // early: a core that is not clean is reset first, as is one never used or that failed.
        let stale = self.regs.read32(MM2S_DMASR)? | self.regs.read32(S2MM_DMASR)?;
        if self.needs_reset || stale & (SR_IOC_IRQ | SR_ERRORS) != 0 {
            self.reset()?;
        }
        // From here on, anything but a clean end leaves the core to be reset next time.
        self.needs_reset = true;
        let cr = CR_RS | CR_IOC_IRQ_EN | CR_ERR_IRQ_EN;
        self.regs.write32(S2MM_DMACR, cr)?;
        self.regs.write32(MM2S_DMACR, cr)?;
        // PG021: Halted clears a few clocks after RS is set.
        let began_rs = Instant::now();
        for ch in [MM2S_DMASR, S2MM_DMASR] {
            loop {
                let sr = self.regs.read32(ch)?;
                if sr & SR_HALTED == 0 {
                    break;
                }
                if began_rs.elapsed() >= RESET_TIMEOUT {
                    return Err(self
                        .fail(format!(
                            "{} still halted {RESET_TIMEOUT:?} after RS was set: DMASR {}",
                            if ch == MM2S_DMASR { "MM2S" } else { "S2MM" },
                            describe_status(sr)
                        ))
                        .into());
                }
                std::thread::sleep(Duration::from_micros(10));
            }
        }

        self.buf.write(0, input)?;
        self.buf.sync_for_device(0, in_len)?;
        // The output region too: no dirty line may be written back over what the DMA writes.
        self.buf.sync_for_device(out_off, out_len)?;

        let moved_before = self.regs.bytes_moved();
        self.set_address(S2MM_DA, S2MM_DA_MSB, dst)?;
        self.regs.write32(S2MM_LENGTH, out_len as u32)?;
        self.set_address(MM2S_SA, MM2S_SA_MSB, src)?;
        self.regs.write32(MM2S_LENGTH, in_len as u32)?;

        let deadline = began.checked_add(timeout);
        let mut sleep = Duration::from_micros(1);
        let mut fired_before = false;
        loop {
            let mm2s = self.regs.read32(MM2S_DMASR)?;
            let s2mm = self.regs.read32(S2MM_DMASR)?;
            if (mm2s | s2mm) & SR_ERRORS != 0 {
                return Err(self
                    .fail(format!(
                        "DMA error: MM2S_DMASR {}, S2MM_DMASR {}",
                        describe_status(mm2s),
                        describe_status(s2mm)
                    ))
                    .into());
            }
            if mm2s & SR_IOC_IRQ != 0 && s2mm & SR_IOC_IRQ != 0 {
                break;
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(d) if now < d => d - now,
                None => SLICE,
                Some(_) => {
                    let moved = match (moved_before, self.regs.bytes_moved()) {
                        (Some((m0, s0)), Some((m1, s1))) => Some((m1 - m0, s1 - s0)),
                        _ => None,
                    };
                    return Err(StreamFault::Timeout {
                        elapsed: now - began,
                        sent: moved
                            .map(|m| m.0)
                            .or((mm2s & SR_IOC_IRQ != 0).then_some(in_len)),
                        received: moved.map(|m| m.1),
                        detail: format!(
                            "MM2S {}, S2MM {}",
                            if mm2s & SR_IOC_IRQ != 0 {
                                format!("sent all {in_len} bytes")
                            } else {
                                format!("still sending {in_len} bytes")
                            },
                            format_args!("still receiving (at most {out_len} bytes)")
                        ),
                    });
                }
            };
            match self.regs.wait_irq(remaining.min(SLICE))? {
                Event::Quiet => {}
                // The first interrupt is believed at once; one that keeps firing without IOC (a
                // stand-in node, a shared line) falls back to the bounded poll.
                Event::Fired if !fired_before => fired_before = true,
                Event::Fired | Event::Unsupported => {
                    std::thread::sleep(sleep.min(remaining));
                    sleep = (sleep * 2).min(MAX_POLL_SLEEP);
                }
            }
        }
        self.regs.write32(S2MM_DMASR, SR_IOC_IRQ)?;
        self.regs.write32(MM2S_DMASR, SR_IOC_IRQ)?;
        let got = (self.regs.read32(S2MM_LENGTH)? as u64) & max;
        if got > out_len {
            return Err(self
                .fail(format!(
                    "S2MM_LENGTH reports {got} bytes received into a {out_len}-byte buffer"
                ))
                .into());
        }
        self.buf.sync_for_cpu(out_off, got)?;
        self.buf.read(out_off, &mut output[..got as usize])?;
        self.needs_reset = false;
        Ok(got as usize)
    }
}

impl<R: DmaRegs, B: DmaBuffer> AxiDma<R, B> {
    /// MM2S alone: `input` from the start of the buffer to the accelerator's `s_axis`, nothing
    /// received (the weight loader). Same checks, reset rule and bounded wait as a transfer.
    fn send_only(&mut self, input: &[u8], timeout: Duration) -> Result<(), StreamFault> {
        let began = Instant::now();
        let in_len = input.len() as u64;
        if in_len == 0 {
            return Err(self
                .fail("a DMA send needs at least one byte".into())
                .into());
        }
        if in_len > self.buf.size() || in_len > self.cfg.max_length() {
            return Err(self
                .fail(format!(
                    "a send of {in_len} bytes exceeds the {}-byte buffer or the DMA's {}-bit \
                     length register",
                    self.buf.size(),
                    self.cfg.length_bits
                ))
                .into());
        }
        let src = self.bus_address(0)?;
        self.bus_address(in_len - 1)?;
        let stale = self.regs.read32(MM2S_DMASR)? | self.regs.read32(S2MM_DMASR)?;
        if self.needs_reset || stale & (SR_IOC_IRQ | SR_ERRORS) != 0 {
            self.reset()?;
        }
        self.needs_reset = true;
        self.regs
            .write32(MM2S_DMACR, CR_RS | CR_IOC_IRQ_EN | CR_ERR_IRQ_EN)?;
        loop {
            let sr = self.regs.read32(MM2S_DMASR)?;
            if sr & SR_HALTED == 0 {
                break;
            }
            if began.elapsed() >= RESET_TIMEOUT {
                return Err(self
                    .fail(format!(
                        "MM2S still halted {RESET_TIMEOUT:?} after RS was set: DMASR {}",
                        describe_status(sr)
                    ))
                    .into());
            }
            std::thread::sleep(Duration::from_micros(10));
        }
        self.buf.write(0, input)?;
        self.buf.sync_for_device(0, in_len)?;
        let moved_before = self.regs.bytes_moved();
        self.set_address(MM2S_SA, MM2S_SA_MSB, src)?;
        self.regs.write32(MM2S_LENGTH, in_len as u32)?;
        let deadline = began.checked_add(timeout);
        let mut sleep = Duration::from_micros(1);
        let mut fired_before = false;
        loop {
            let mm2s = self.regs.read32(MM2S_DMASR)?;
            if mm2s & SR_ERRORS != 0 {
                return Err(self
                    .fail(format!("DMA error: MM2S_DMASR {}", describe_status(mm2s)))
                    .into());
            }
            if mm2s & SR_IOC_IRQ != 0 {
                break;
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(d) if now < d => d - now,
                None => SLICE,
                Some(_) => {
                    let sent = match (moved_before, self.regs.bytes_moved()) {
                        (Some((m0, _)), Some((m1, _))) => Some(m1 - m0),
                        _ => None,
                    };
                    return Err(StreamFault::Timeout {
                        elapsed: now - began,
                        sent,
                        received: None,
                        detail: format!("MM2S still sending {in_len} bytes"),
                    });
                }
            };
            match self.regs.wait_irq(remaining.min(SLICE))? {
                Event::Quiet => {}
                Event::Fired if !fired_before => fired_before = true,
                Event::Fired | Event::Unsupported => {
                    std::thread::sleep(sleep.min(remaining));
                    sleep = (sleep * 2).min(MAX_POLL_SLEEP);
                }
            }
        }
        self.regs.write32(MM2S_DMASR, SR_IOC_IRQ)?;
        self.needs_reset = false;
        Ok(())
    }
}

impl<R: DmaRegs, B: DmaBuffer> Stream for AxiDma<R, B> {
    fn describe(&self) -> String {
        format!("axi-dma {} + {}", self.regs.describe(), self.buf.describe())
    }

    fn max_vectors(&self, in_bytes: usize, out_bytes: usize) -> usize {
        let (i, o) = (in_bytes.max(1) as u64, out_bytes.max(1) as u64);
        // The largest n whose layout fits: inputs at 0, outputs at align_up(n * i).
        let size = self.buf.size();
        let mut by_buffer = size / (i + o);
        // Alignment adds under BUFFER_ALIGN bytes, so this steps back at most 64 times.
        while by_buffer > 0 && align_up(by_buffer * i, BUFFER_ALIGN) + by_buffer * o > size {
            by_buffer -= 1;
        }
        let by_length = self.cfg.max_length() / i.max(o);
        by_buffer.min(by_length).min(usize::MAX as u64) as usize
    }

    fn transfer(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, StreamFault> {
        self.run(input, output, timeout)
    }

    fn send(&mut self, input: &[u8], timeout: Duration) -> Result<(), StreamFault> {
        self.send_only(input, timeout)
    }

    fn max_send_bytes(&self) -> usize {
        let by_buffer = self.buf.size() / BUFFER_ALIGN * BUFFER_ALIGN;
        by_buffer.min(self.cfg.max_length()).min(usize::MAX as u64) as usize
    }

    fn sim_cycles(&self) -> Option<u64> {
        self.regs.sim_cycles()
    }
}

/// A buffer in process memory with a made-up bus address: for the fake accelerator and tests.
#[derive(Debug, Clone)]
pub struct MemBuffer {
    pub phys: u64,
    pub bytes: Vec<u8>,
}

impl DmaBuffer for MemBuffer {
    fn describe(&self) -> String {
        format!("memory buffer at {:#x}", self.phys)
    }
    fn phys_addr(&self) -> u64 {
        self.phys
    }
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let r = range(offset, data.len(), self.bytes.len())?;
        self.bytes[r].copy_from_slice(data);
        Ok(())
    }
    fn read(&mut self, offset: u64, out: &mut [u8]) -> Result<()> {
        let r = range(offset, out.len(), self.bytes.len())?;
        out.copy_from_slice(&self.bytes[r]);
        Ok(())
    }
    fn sync_for_device(&mut self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }
    fn sync_for_cpu(&mut self, _offset: u64, _len: u64) -> Result<()> {
        Ok(())
    }
}

/// `offset..offset+len` as a range inside `size` bytes, or an error.
pub(crate) fn range(offset: u64, len: usize, size: usize) -> Result<std::ops::Range<usize>> {
    let start = usize::try_from(offset).ok();
    match start.and_then(|s| s.checked_add(len).map(|e| (s, e))) {
        Some((s, e)) if e <= size => Ok(s..e),
        _ => Err(Error::OutOfRange {
            offset,
            words: len.div_ceil(4),
            limit: size as u64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bramble_abi::board::Batch;
    use bramble_abi::stream::Packing;

    /// Registers that are never touched: only the buffer arithmetic is under test.
    struct NoRegs;
    impl DmaRegs for NoRegs {
        fn describe(&self) -> String {
            "none".into()
        }
        fn read32(&mut self, _: u32) -> Result<u32> {
            Ok(0)
        }
        fn write32(&mut self, _: u32, _: u32) -> Result<()> {
            Ok(())
        }
    }

    /// The u-dma-buf the generated overlay declares (`Batch::udmabuf_bytes`) holds the batch
    /// the overlay is sized for (`Batch::vectors`) in this driver's layout (inputs from 0,
    /// outputs from the next BUFFER_ALIGN boundary), within the DMA's length register.
    #[test]
    fn the_overlay_buffer_holds_its_batch() {
        for (tdata, act, inp, out) in [
            (32, 16, 16, 5),
            (64, 8, 784, 10),
            (32, 16, 1024, 1024),
            (64, 16, 60_000, 60_000),
        ] {
            let p = Packing::new(tdata, act).unwrap();
            let b = Batch::new(&p, inp, out);
            let buf = MemBuffer {
                phys: 0x1000_0000,
                bytes: vec![0; b.udmabuf_bytes() as usize],
            };
            let dma = AxiDma::new(NoRegs, buf, DmaConfig::default());
            let fits = dma.max_vectors(b.in_vector_bytes as usize, b.out_vector_bytes as usize);
            assert!(
                fits as u64 >= b.vectors(),
                "{inp}x{out}: the buffer holds {fits} vectors, the overlay promises {}",
                b.vectors()
            );
        }
    }
}
