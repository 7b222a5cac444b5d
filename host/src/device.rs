//! `Device`: the one driver sequence every backend uses (identify, write inputs, start, wait, read
//! outputs and cycles), over a [`Backend`]. Shaped like PYNQ/XRT: open, run, wait with a
//! `Duration`, read back; `Run` is the handle of a started run.
//!
//! Batches stream (docs/register-map.md "Streams") when a [`Stream`] is attached: the inputs are
//! packed with `bramble_abi::stream::Packing`, the stream registers programmed around one
//! transfer per chunk that fits the transport, and the outputs unpacked; without a stream a batch
//! runs vector by vector through the register windows.
//!
//! Weights (register map v4, docs/host.md "Weights"): a run-time-weights design gets its image
//! with [`Device::load_weights`] over the same stream, checked before it is sent and read back
//! (WHASH) after; every run first checks that WHASH is the bundle's image CRC.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::backend::{check_access, Backend, Event};
use crate::error::{Error, Result};
use crate::manifest::{
    Bundle, CONTROL_IRQ_ENABLE, CONTROL_START, MAGIC, REGMAP_VERSION, STATUS_BUSY, STATUS_DONE,
    STATUS_IRQ_PENDING,
};
use crate::stream::{Stream, StreamFault};
use bramble_abi::numeric;
use bramble_abi::regs::{self, geometry, sizes};
use bramble_abi::weights::{Image, Mem};

/// What a weight load did ([`Device::load_weights`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WeightsLoaded {
    /// Image words sent (WWORDS agreed).
    pub words: u64,
    /// The image's CRC-32, read back from WHASH.
    pub crc32: u32,
    /// Host wall-clock time of the load.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// The identification block as read from a device (docs/register-map.md, 0x000..0x01C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub magic: u32,
    pub version: u32,
    pub hash: u64,
    pub geometry: u32,
    pub sizes: u32,
    pub in_base: u32,
    pub out_base: u32,
}

impl Identity {
    /// Reads the identification block through `backend`, checking each access against `space`
    /// bytes.
    pub fn read(backend: &mut dyn Backend, space: u64) -> Result<Identity> {
        let mut rd = |off: u64| -> Result<u32> {
            check_access(off, 1, space)?;
            backend.read32(off)
        };
        Ok(Identity {
            magic: rd(regs::MAGIC_REG.offset)?,
            version: rd(regs::VERSION.offset)?,
            hash: rd(regs::HASH_LO.offset)? as u64 | ((rd(regs::HASH_HI.offset)? as u64) << 32),
            geometry: rd(regs::GEOMETRY.offset)?,
            sizes: rd(regs::SIZES.offset)?,
            in_base: rd(regs::IN_BASE.offset)?,
            out_base: rd(regs::OUT_BASE.offset)?,
        })
    }

    /// PEs (`GEOMETRY[7:0]`).
    pub fn pes(&self) -> u32 {
        geometry::unpack(self.geometry).0
    }
    /// Layers (`GEOMETRY[15:8]`).
    pub fn layers(&self) -> u32 {
        geometry::unpack(self.geometry).1
    }
    /// Activation bits (`GEOMETRY[23:16]`).
    pub fn act_bits(&self) -> u32 {
        geometry::unpack(self.geometry).2
    }
    /// Input size (`SIZES[15:0]`).
    pub fn in_size(&self) -> u32 {
        sizes::unpack(self.sizes).0 as u32
    }
    /// Output size (`SIZES[31:16]`).
    pub fn out_size(&self) -> u32 {
        sizes::unpack(self.sizes).1 as u32
    }

    /// Compares every field with the bundle; the first difference is the error, naming the field
    /// with the expected and found values.
    pub fn check(&self, bundle: &Bundle) -> Result<()> {
        let m = bundle.manifest();
        fn hex(v: u64) -> String {
            format!("{v:#x}")
        }
        type Check = (&'static str, u64, u64, fn(u64) -> String);
        let checks: [Check; 11] = [
            ("MAGIC", MAGIC as u64, self.magic as u64, hex),
            ("VERSION", REGMAP_VERSION as u64, self.version as u64, |v| {
                v.to_string()
            }),
            (
                if m.runtime_weights() {
                    "geometry hash (HASH_HI:HASH_LO)"
                } else {
                    "network hash (HASH_HI:HASH_LO)"
                },
                m.rtl_hash_u64(),
                self.hash,
                |v| format!("{v:016x}"),
            ),
            ("GEOMETRY PEs", m.pes as u64, self.pes() as u64, |v| {
                v.to_string()
            }),
            (
                "GEOMETRY layers",
                m.layers.len() as u64,
                self.layers() as u64,
                |v| v.to_string(),
            ),
            (
                "GEOMETRY act_bits",
                m.act_bits as u64,
                self.act_bits() as u64,
                |v| v.to_string(),
            ),
            ("GEOMETRY[31:24]", 0, (self.geometry >> 24) as u64, hex),
            (
                "SIZES input",
                m.input.size as u64,
                self.in_size() as u64,
                |v| v.to_string(),
            ),
            (
                "SIZES output",
                m.output.size as u64,
                self.out_size() as u64,
                |v| v.to_string(),
            ),
            ("IN_BASE", m.in_base(), self.in_base as u64, hex),
            ("OUT_BASE", m.out_base(), self.out_base as u64, hex),
        ];
        for (field, expected, found, show) in checks {
            if expected != found {
                let mut found_s = show(found);
                if field == "MAGIC" && found == 0xFFFF_FFFF {
                    found_s.push_str(" (all ones: nothing answers at this address?)");
                }
                return Err(Error::Mismatch {
                    field,
                    expected: show(expected),
                    found: found_s,
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magic = self.magic.to_le_bytes();
        let printable = magic.iter().all(|b| b.is_ascii_graphic());
        writeln!(
            f,
            "MAGIC     {:#010x}{}",
            self.magic,
            if printable {
                format!(" ({})", String::from_utf8_lossy(&magic))
            } else {
                String::new()
            }
        )?;
        writeln!(f, "VERSION   {}", self.version)?;
        writeln!(f, "HASH      {:016x}", self.hash)?;
        writeln!(
            f,
            "GEOMETRY  {} PEs, {} layers, {}-bit activations",
            self.pes(),
            self.layers(),
            self.act_bits()
        )?;
        writeln!(
            f,
            "SIZES     {} inputs, {} outputs",
            self.in_size(),
            self.out_size()
        )?;
        writeln!(f, "IN_BASE   {:#x}", self.in_base)?;
        write!(f, "OUT_BASE  {:#x}", self.out_base)
    }
}

/// A finished run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// CYCLES: clock cycles from START to DONE, measured by the device.
    pub cycles: u64,
    /// Host wall-clock time spent in `wait`.
    pub elapsed: Duration,
}

/// Outputs of one inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    /// Raw output integers (sign-extended `act_bits`).
    pub raw: Vec<i64>,
    /// `raw / 2^output.frac_bits`.
    pub values: Vec<f64>,
    /// CYCLES of the run.
    pub cycles: u64,
}

/// Outputs of a batch; serialises as the JSON `bramble sim` / `bramble-host run --json` print:
/// `{"outputs": [[f64]], "raw": [[i64]], "cycles": [u64], "total_cycles": u64}`
/// (`total_cycles` only for a streamed batch).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Batch {
    pub outputs: Vec<Vec<f64>>,
    pub raw: Vec<Vec<i64>>,
    /// Compute cycles of each vector (CYCLES, or the stream's cycles beat).
    pub cycles: Vec<u64>,
    /// A streamed batch: the sum over its transfers of TOTAL (clock cycles from the first input
    /// beat to the last output beat of the transfer). `None` for a batch run through the windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_cycles: Option<u64>,
}

impl Batch {
    fn push(&mut self, o: Output) {
        self.outputs.push(o.values);
        self.raw.push(o.raw);
        self.cycles.push(o.cycles);
    }

    /// Appends `other` (the next part of the same input file): outputs in order, total cycles
    /// added.
    pub fn extend(&mut self, other: Batch) {
        self.outputs.extend(other.outputs);
        self.raw.extend(other.raw);
        self.cycles.extend(other.cycles);
        self.total_cycles = match (self.total_cycles, other.total_cycles) {
            (None, t) | (t, None) => t,
            (Some(a), Some(b)) => Some(a + b),
        };
    }
}

/// An opened, identified accelerator. Dropping it releases the backend (mapping, files, model).
pub struct Device {
    bundle: Bundle,
    backend: Box<dyn Backend>,
    identity: Identity,
    stream: Option<Box<dyn Stream>>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("bundle", &self.bundle.dir())
            .field("backend", &self.backend.describe())
            .finish()
    }
}

/// Longest single sleep while polling STATUS without an interrupt.
const MAX_POLL_SLEEP: Duration = Duration::from_millis(1);
/// Longest single interrupt wait before STATUS is re-read.
const EVENT_SLICE: Duration = Duration::from_millis(50);

impl Device {
    /// Opens the device behind `backend` for `bundle`: checks that the backend reaches the whole
    /// address space, reads the identification block and refuses any mismatch with the manifest.
    pub fn open(bundle: Bundle, backend: Box<dyn Backend>) -> Result<Device> {
        let mut backend = backend;
        if backend.size() < bundle.address_space() {
            return Err(Error::MapTooSmall {
                path: backend.describe().into(),
                size: backend.size(),
                needed: bundle.address_space(),
            });
        }
        let identity = Identity::read(backend.as_mut(), bundle.address_space())?;
        identity.check(&bundle)?;
        Ok(Device {
            bundle,
            backend,
            identity,
            stream: None,
        })
    }

    /// Streams batches through `stream` from now on ([`Device::run_batch`]). The STREAM register
    /// must report the bundle's TDATA and lane widths.
    pub fn attach_stream(&mut self, stream: Box<dyn Stream>) -> Result<()> {
        let want = self.bundle.manifest().stream_format();
        let found = self.read_register(regs::STREAM.offset)?;
        if found != want {
            return Err(Error::Mismatch {
                field: "STREAM (TDATA and lane bits)",
                expected: format!("{want:#x}"),
                found: format!("{found:#x}"),
            });
        }
        self.stream = Some(stream);
        Ok(())
    }

    /// True when batches stream ([`Device::attach_stream`]).
    pub fn has_stream(&self) -> bool {
        self.stream.is_some()
    }

    /// The attached stream's description.
    pub fn stream_describe(&self) -> Option<String> {
        self.stream.as_ref().map(|s| s.describe())
    }

    /// The bundle this device was checked against.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The identification block read at open.
    pub fn identity(&self) -> Identity {
        self.identity
    }

    /// The backend's description (`uio /dev/uio0`, `verilator ...`).
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// For a simulator: clock cycles simulated so far, bus traffic included (for throughput
    /// figures); `None` on hardware.
    pub fn sim_cycles(&self) -> Option<u64> {
        self.backend.sim_cycles()
    }

    /// Reads a 32-bit register (any window) at a byte offset, checked against the address space.
    pub fn read_register(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.bundle.address_space())?;
        self.backend.read32(offset)
    }

    /// Writes a 32-bit register (any window) at a byte offset, checked against the address space.
    pub fn write_register(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.bundle.address_space())?;
        self.backend.write32(offset, value)
    }

    /// STATUS.
    pub fn status(&mut self) -> Result<u32> {
        let off = regs::STATUS.offset;
        let status = self.read_register(off)?;
        // Bits above IRQ_PENDING are reserved and read 0; all ones is a dead bus.
        if status & !0x7 != 0 {
            return Err(Error::Backend {
                backend: self.describe(),
                detail: format!(
                    "STATUS reads {status:#010x}, reserved bits set: the device is not responding"
                ),
            });
        }
        Ok(status)
    }

    /// CYCLES of the last run (CYCLES_HI:CYCLES_LO, re-read if the high word changed).
    pub fn cycles(&mut self) -> Result<u64> {
        let (hi_off, lo_off) = (regs::CYCLES_HI.offset, regs::CYCLES_LO.offset);
        // CYCLES only changes at the end of a run, so one retry settles a torn read; never loop.
        let mut hi = self.read_register(hi_off)?;
        let mut lo = self.read_register(lo_off)?;
        let hi2 = self.read_register(hi_off)?;
        if hi2 != hi {
            hi = hi2;
            lo = self.read_register(lo_off)?;
        }
        Ok(((hi as u64) << 32) | lo as u64)
    }

    /// Writes raw input integers (each must fit signed `act_bits`) to the input window.
    pub fn write_inputs_raw(&mut self, raw: &[i64]) -> Result<()> {
        self.ensure_idle()?;
        let m = self.bundle.manifest();
        if raw.len() != m.input.size {
            return Err(Error::Length {
                what: "input",
                expected: m.input.size,
                found: raw.len(),
            });
        }
        let bits = m.act_bits;
        let mut words = Vec::with_capacity(raw.len());
        for (index, &value) in raw.iter().enumerate() {
            if !numeric::fits(value, bits) {
                return Err(Error::RawRange { index, value, bits });
            }
            words.push(value as u32);
        }
        let (base, pes) = (m.in_base(), m.pes as usize);
        for (first, chunk) in window_rows(&words, pes) {
            let at = base + 4 * regs::window_word(first, pes);
            check_access(at, chunk.len(), self.bundle.address_space())?;
            self.backend.write_words(at, chunk)?;
        }
        Ok(())
    }

    /// Quantises `x` with the manifest's input format and writes it; returns the raw integers.
    pub fn write_inputs(&mut self, x: &[f64]) -> Result<Vec<i64>> {
        let raw = self.quantize_inputs(x)?;
        self.write_inputs_raw(&raw)?;
        Ok(raw)
    }

    /// Quantises `x` per the manifest (docs/numerics.md) without touching the device.
    pub fn quantize_inputs(&self, x: &[f64]) -> Result<Vec<i64>> {
        let m = self.bundle.manifest();
        if x.len() != m.input.size {
            return Err(Error::Length {
                what: "input",
                expected: m.input.size,
                found: x.len(),
            });
        }
        if let Some(index) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                index,
                value: x[index],
            });
        }
        Ok(x.iter()
            .map(|&v| numeric::quantize(v, m.input.frac_bits, m.act_bits))
            .collect())
    }

    /// Reads the raw output integers (valid once DONE).
    pub fn read_outputs_raw(&mut self) -> Result<Vec<i64>> {
        let m = self.bundle.manifest();
        let (base, n, bits, pes) = (m.out_base(), m.output.size, m.act_bits, m.pes as usize);
        let mut words = vec![0u32; n];
        let mut first = 0;
        for chunk in words.chunks_mut(window_run(pes)) {
            let at = base + 4 * regs::window_word(first, pes);
            check_access(at, chunk.len(), self.bundle.address_space())?;
            self.backend.read_words(at, chunk)?;
            first += chunk.len();
        }
        Ok(words
            .iter()
            .map(|&w| numeric::sign_extend(w, bits))
            .collect())
    }

    /// Reads the outputs dequantised with the manifest's output format.
    pub fn read_outputs(&mut self) -> Result<Vec<f64>> {
        let frac = self.bundle.manifest().output.frac_bits;
        Ok(self
            .read_outputs_raw()?
            .into_iter()
            .map(|r| numeric::dequantize(r, frac))
            .collect())
    }

    /// Writes CONTROL.START (with IRQ_ENABLE when the backend can wait on the interrupt).
    pub fn start(&mut self) -> Result<Run<'_>> {
        self.ensure_idle()?;
        self.check_weights()?;
        let irq = self.backend.has_interrupt();
        if irq {
            // Clear a pending interrupt of an earlier run so it cannot wake this wait.
            self.write_register(regs::STATUS.offset, STATUS_IRQ_PENDING)?;
        }
        let control = CONTROL_START | if irq { CONTROL_IRQ_ENABLE } else { 0 };
        self.write_register(regs::CONTROL.offset, control)?;
        Ok(Run { device: self, irq })
    }

    /// Refuse to touch a running accelerator: the register map ignores a START while BUSY and
    /// input writes during a run would corrupt it (docs/register-map.md).
    fn ensure_idle(&mut self) -> Result<()> {
        if self.status()? & STATUS_BUSY != 0 {
            return Err(Error::Busy);
        }
        Ok(())
    }

    /// One inference on raw integers: write, start, wait, read outputs and cycles.
    pub fn run_raw(&mut self, raw: &[i64], timeout: Duration) -> Result<Output> {
        self.write_inputs_raw(raw)?;
        let done = self.start()?.wait(timeout)?;
        let raw = self.read_outputs_raw()?;
        let frac = self.bundle.manifest().output.frac_bits;
        Ok(Output {
            values: raw.iter().map(|&r| numeric::dequantize(r, frac)).collect(),
            raw,
            cycles: done.cycles,
        })
    }

    /// One inference on floats (quantised per the manifest).
    pub fn run(&mut self, x: &[f64], timeout: Duration) -> Result<Output> {
        let raw = self.quantize_inputs(x)?;
        self.run_raw(&raw, timeout)
    }

    /// Many inferences on floats (quantised per the manifest): streamed when a stream is
    /// attached, else one window run each. `timeout` bounds each DMA transfer (or each run).
    pub fn run_batch(&mut self, inputs: &[Vec<f64>], timeout: Duration) -> Result<Batch> {
        let raw = inputs
            .iter()
            .map(|x| self.quantize_inputs(x))
            .collect::<Result<Vec<_>>>()?;
        self.run_batch_raw(&raw, timeout)
    }

    /// Many inferences on raw integers: streamed when a stream is attached
    /// ([`Device::stream_batch_raw`]), else one window run each; `timeout` bounds each transfer
    /// (or each run's wait).
    pub fn run_batch_raw(&mut self, inputs: &[Vec<i64>], timeout: Duration) -> Result<Batch> {
        self.run_batch_raw_with(inputs, timeout, &mut |_| {})
    }

    /// [`Device::run_batch_raw`], calling `progress(vectors)` after each transfer (or each
    /// window run) with the vectors it completed (for a progress bar).
    pub fn run_batch_raw_with(
        &mut self,
        inputs: &[Vec<i64>],
        timeout: Duration,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Batch> {
        if self.stream.is_some() {
            return self.stream_batch(inputs, timeout, progress);
        }
        let mut batch = Batch::default();
        for x in inputs {
            batch.push(self.run_raw(x, timeout)?);
            progress(1);
        }
        Ok(batch)
    }

    /// Streams a batch of raw inputs through the attached stream: SCTRL.CLEAR, TLAST_EVERY =
    /// vectors per transfer, SCTRL.RUN | CYCLES_BEAT, one transfer per chunk that fits the
    /// transport (`timeout` bounds each), the outputs and each vector's cycles beat unpacked, and
    /// TOTAL read after each chunk. A stalled transfer is [`Error::StreamTimeout`] with the
    /// accelerator's counters.
    pub fn stream_batch_raw(&mut self, inputs: &[Vec<i64>], timeout: Duration) -> Result<Batch> {
        if self.stream.is_none() {
            return Err(Error::Stream {
                backend: self.describe(),
                detail: "no stream path is attached (Device::attach_stream)".into(),
            });
        }
        self.stream_batch(inputs, timeout, &mut |_| {})
    }

    fn stream_batch(
        &mut self,
        inputs: &[Vec<i64>],
        timeout: Duration,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Batch> {
        let m = self.bundle.manifest();
        let packing = m.packing().map_err(|e| Error::Stream {
            backend: self.describe(),
            detail: format!("the bundle's stream packing: {e}"),
        })?;
        let (in_size, out_size, bits) = (m.input.size, m.output.size, m.act_bits);
        let frac = m.output.frac_bits;
        let beat_bytes = (packing.tdata_bits() / 8) as usize;
        let in_beats = packing.beats(in_size);
        // Output beats per vector: the activations, then the cycles beat (SCTRL.CYCLES_BEAT).
        let out_beats = packing.beats(out_size) + 1;
        let (in_bytes, out_bytes) = (in_beats * beat_bytes, out_beats * beat_bytes);

        let mut packed = Vec::with_capacity(inputs.len() * in_bytes);
        for x in inputs {
            if x.len() != in_size {
                return Err(Error::Length {
                    what: "input",
                    expected: in_size,
                    found: x.len(),
                });
            }
            if let Some(index) = x.iter().position(|&v| !numeric::fits(v, bits)) {
                return Err(Error::RawRange {
                    index,
                    value: x[index],
                    bits,
                });
            }
            let beats = packing.pack(x).map_err(|e| Error::Stream {
                backend: self.describe(),
                detail: e.to_string(),
            })?;
            for b in beats {
                packed.extend_from_slice(&b.to_le_bytes()[..beat_bytes]);
            }
        }
        let per = {
            let stream = self.stream.as_ref().expect("checked by the caller");
            stream.max_vectors(in_bytes, out_bytes)
        };
        if per == 0 {
            return Err(Error::Stream {
                backend: self.stream_describe().unwrap_or_default(),
                detail: format!(
                    "one vector ({in_bytes} input and {out_bytes} output bytes) does not fit \
                     one transfer"
                ),
            });
        }
        self.ensure_idle()?;
        self.ensure_stream_idle("the batch")?;
        self.check_weights()?;

        let mut batch = Batch {
            total_cycles: Some(0),
            ..Batch::default()
        };
        let mut done = 0usize;
        for chunk in inputs.chunks(per) {
            let n = chunk.len();
            let input = &packed[done * in_bytes..(done + n) * in_bytes];
            let mut output = vec![0u8; n * out_bytes];
            self.write_register(regs::SCTRL.offset, regs::SCTRL_CLEAR)?;
            self.write_register(regs::TLAST_EVERY.offset, n as u32)?;
            self.write_register(regs::IRQ_COUNT.offset, 0)?;
            self.write_register(
                regs::SCTRL.offset,
                regs::SCTRL_RUN | regs::SCTRL_CYCLES_BEAT,
            )?;
            let stream = self.stream.as_mut().expect("checked by the caller");
            let result = stream.transfer(input, &mut output, timeout);
            let sim_cycles = stream.sim_cycles();
            // Stop input at the next vector boundary whatever happened.
            self.write_register(regs::SCTRL.offset, regs::SCTRL_CYCLES_BEAT)?;
            let got = match result {
                Ok(got) => got,
                Err(StreamFault::Failed(e)) => return Err(e),
                Err(StreamFault::Timeout {
                    elapsed,
                    sent,
                    received,
                    detail,
                }) => {
                    let streamed = self.read_register(regs::VECTORS.offset)?;
                    let in_b = self.read_register(regs::IN_BEATS.offset)?;
                    let out_b = self.read_register(regs::OUT_BEATS.offset)?;
                    let bytes = |v: Option<u64>| v.map_or("unknown".to_string(), |b| b.to_string());
                    return Err(Error::StreamTimeout {
                        timeout,
                        elapsed,
                        vectors: n,
                        done_before: done,
                        streamed,
                        in_beats: in_b,
                        in_beats_expected: (n * in_beats) as u64,
                        out_beats: out_b,
                        out_beats_expected: (n * out_beats) as u64,
                        transport: format!(
                            "{}: {detail}; bytes sent {}, received {}",
                            self.stream_describe().unwrap_or_default(),
                            bytes(sent),
                            bytes(received)
                        ),
                        sim_cycles,
                    });
                }
            };
            let vectors = self.read_register(regs::VECTORS.offset)?;
            let sstatus = self.read_register(regs::SSTATUS.offset)?;
            if got != output.len() || vectors as usize != n {
                return Err(Error::Stream {
                    backend: self.stream_describe().unwrap_or_default(),
                    detail: format!(
                        "short transfer: {got} of {} output bytes for {n} vector(s) ({} beats \
                         of {beat_bytes} bytes each); VECTORS {vectors}, OUT_BEATS {}",
                        output.len(),
                        n * out_beats,
                        self.read_register(regs::OUT_BEATS.offset)?
                    ),
                });
            }
            if sstatus & regs::SSTATUS_FRAMING != 0 {
                return Err(Error::Stream {
                    backend: self.describe(),
                    detail: "SSTATUS.FRAMING: an input beat carried TLAST inside a vector".into(),
                });
            }
            let total = self.read_pair(regs::TOTAL_HI.offset, regs::TOTAL_LO.offset)?;
            for v in output.chunks_exact(out_bytes) {
                let beats: Vec<u64> = v
                    .chunks_exact(beat_bytes)
                    .map(|b| {
                        let mut w = [0u8; 8];
                        w[..beat_bytes].copy_from_slice(b);
                        u64::from_le_bytes(w)
                    })
                    .collect();
                let (data, cycles) = beats.split_at(out_beats - 1);
                let raw = packing.unpack(data, out_size).map_err(|e| Error::Stream {
                    backend: self.describe(),
                    detail: e.to_string(),
                })?;
                batch.push(Output {
                    values: raw.iter().map(|&r| numeric::dequantize(r, frac)).collect(),
                    raw,
                    cycles: cycles[0],
                });
            }
            batch.total_cycles = batch.total_cycles.map(|t| t + total);
            done += n;
            progress(n);
        }
        Ok(batch)
    }

    fn ensure_stream_idle(&mut self, before: &str) -> Result<()> {
        if self.read_register(regs::SSTATUS.offset)? & regs::SSTATUS_ACTIVE != 0 {
            return Err(Error::Stream {
                backend: self.describe(),
                detail: format!(
                    "SSTATUS.ACTIVE is set before {before}: an earlier stream is still in \
                     flight (reset the device after a stalled stream)"
                ),
            });
        }
        Ok(())
    }

    /// Refuses to run unless the device holds the bundle's weights: WHASH must be the manifest's
    /// `weights.crc32` and, with run-time weights, WSTATUS.LOADED set ([`Error::StaleWeights`]).
    /// One register read (two with run-time weights); every run and batch calls it.
    pub fn check_weights(&mut self) -> Result<()> {
        let m = self.bundle.manifest();
        let (expected, runtime) = (m.weights_crc32(), m.runtime_weights());
        let found = self.read_register(regs::WHASH.offset)?;
        let loaded = if runtime {
            self.read_register(regs::WSTATUS.offset)? & regs::WSTATUS_LOADED != 0
        } else {
            true
        };
        if found != expected || !loaded {
            return Err(Error::StaleWeights {
                bundle: self.bundle.dir().to_path_buf(),
                expected,
                found,
                loaded,
                runtime,
            });
        }
        Ok(())
    }

    /// Loads the bundle's own weight image (`weights.image` of the manifest), after checking
    /// that the file's CRC is the manifest's `weights.crc32`: [`Device::load_weights`].
    pub fn load_bundle_weights(&mut self, timeout: Duration) -> Result<WeightsLoaded> {
        let m = self.bundle.manifest();
        let path = self.bundle.dir().join(&m.weights.image);
        let expected = m.weights_crc32();
        let bytes = read_image(&path)?;
        let image = self.check_image(&path, &bytes)?;
        if image.crc != expected {
            return Err(Error::WeightImage {
                path,
                reason: format!(
                    "its CRC is {:08x} but the manifest's weights.crc32 is {expected:08x}: the \
                     file was edited or belongs to another bundle",
                    image.crc
                ),
            });
        }
        self.send_image(&image, timeout)
    }

    /// Loads the weight image in `path` ([`Device::load_weights`]), naming the file in errors.
    pub fn load_weights_file(
        &mut self,
        path: &std::path::Path,
        timeout: Duration,
    ) -> Result<WeightsLoaded> {
        let bytes = read_image(path)?;
        let image = self.check_image(path, &bytes)?;
        self.send_image(&image, timeout)
    }

    /// Loads a weight image (docs/bundle.md "Weight loading") into a run-time-weights design.
    ///
    /// The image is checked against the bundle's design first (whole beats, every record within
    /// the memories the manifest lists, one END whose CRC checks): a bad image is
    /// [`Error::WeightImage`] and nothing is sent. Then, with the engine idle: WCTRL.CLEAR,
    /// WCTRL.LOAD, the image over the attached stream (the path [`Device::run_batch`] uses),
    /// WSTATUS.LOADED awaited for at most `timeout` ([`Error::WeightsTimeout`] with WWORDS),
    /// LOAD cleared, and the read-back check: WSTATUS.ERROR clear and WHASH equal to the image's
    /// CRC ([`Error::WeightsLoad`] otherwise). The image need not be the bundle's own: runs are
    /// refused until the device holds the bundle's ([`Device::check_weights`]).
    pub fn load_weights(&mut self, image: &[u8], timeout: Duration) -> Result<WeightsLoaded> {
        let image = self.check_image(std::path::Path::new("(in memory)"), image)?;
        self.send_image(&image, timeout)
    }

    /// Switches this device to the network of `other`, a bundle of the same geometry (a
    /// weights-only bundle from `bramble generate --geometry-of`, or any run-time-weights bundle
    /// whose `weights.geometry_hash` is the device's HASH): checks the identification block
    /// against it, loads its image, and from then on converts inputs and outputs with its
    /// manifest. On an error the device keeps its current bundle.
    pub fn use_weights(&mut self, other: Bundle, timeout: Duration) -> Result<WeightsLoaded> {
        let m = other.manifest();
        if !m.runtime_weights() {
            return Err(Error::WeightsLoad {
                backend: self.describe(),
                detail: format!(
                    "bundle {} has its weights in the bitstream (weights.mode \"bitstream\"): \
                     only run-time-weights bundles can be swapped onto a device",
                    other.dir().display()
                ),
            });
        }
        self.identity.check(&other).map_err(|e| match e {
            Error::Mismatch {
                field,
                expected,
                found,
            } => Error::Mismatch {
                field,
                expected: format!("{expected} (bundle {})", other.dir().display()),
                found,
            },
            e => e,
        })?;
        if other.address_space() != self.bundle.address_space() {
            return Err(Error::Mismatch {
                field: "address space",
                expected: format!("{:#x}", other.address_space()),
                found: format!("{:#x}", self.bundle.address_space()),
            });
        }
        let previous = std::mem::replace(&mut self.bundle, other);
        match self.load_bundle_weights(timeout) {
            Ok(l) => Ok(l),
            Err(e) => {
                self.bundle = previous;
                Err(e)
            }
        }
    }

    /// Checks `bytes` against the bundle's design without touching the device.
    fn check_image(&self, path: &std::path::Path, bytes: &[u8]) -> Result<Image> {
        let m = self.bundle.manifest();
        let bad = |reason: String| Error::WeightImage {
            path: path.to_path_buf(),
            reason,
        };
        if !m.runtime_weights() {
            return Err(Error::WeightsLoad {
                backend: self.describe(),
                detail: format!(
                    "bundle {} has its weights in the bitstream (weights.mode \"bitstream\"): \
                     there is nothing to load (generate with `--weights runtime` to load weights \
                     at run time)",
                    self.bundle.dir().display()
                ),
            });
        }
        let beat = (m.tdata_bits / 8).max(4) as usize;
        if bytes.is_empty() || bytes.len() % beat != 0 {
            return Err(bad(format!(
                "{} bytes is not a whole number of {}-bit TDATA beats",
                bytes.len(),
                m.tdata_bits
            )));
        }
        let (image, _) = Image::parse(bytes, m.pes, &|k: Mem| m.weight_shape(k))
            .map_err(|e| bad(e.to_string()))?;
        Ok(image)
    }

    fn send_image(&mut self, image: &Image, timeout: Duration) -> Result<WeightsLoaded> {
        let began = Instant::now();
        let backend = self.describe();
        let Some(per) = self.stream.as_ref().map(|s| s.max_send_bytes()) else {
            return Err(Error::Stream {
                backend,
                detail: "no stream path is attached: weights load over the AXI4-Stream input \
                         (uio: the AXI DMA and u-dma-buf, --dma-uio; xdma: --xdma-stream; \
                         /dev/mem has no stream path)"
                    .into(),
            });
        };
        let beat = (self.bundle.manifest().tdata_bits / 8).max(4) as usize;
        let per = per / beat * beat;
        if per == 0 {
            return Err(Error::Stream {
                backend: self.stream_describe().unwrap_or_default(),
                detail: "the stream path cannot send even one beat".into(),
            });
        }
        let wstatus = self.read_register(regs::WSTATUS.offset)?;
        if wstatus & regs::WSTATUS_RUNTIME == 0 {
            return Err(Error::WeightsLoad {
                backend,
                detail: format!(
                    "WSTATUS reads {wstatus:#x}: RUNTIME is clear, this design has its weights \
                     in the bitstream"
                ),
            });
        }
        self.ensure_idle()?;
        self.ensure_stream_idle("loading weights")?;
        let sctrl = self.read_register(regs::SCTRL.offset)?;
        if sctrl & regs::SCTRL_RUN != 0 {
            self.write_register(regs::SCTRL.offset, sctrl & !regs::SCTRL_RUN)?;
        }
        self.write_register(regs::WCTRL.offset, regs::WCTRL_CLEAR)?;
        self.write_register(regs::WCTRL.offset, regs::WCTRL_LOAD)?;
        let bytes = image.to_bytes();
        let deadline = began.checked_add(timeout);
        let mut sent = 0usize;
        let mut result = Ok(());
        for chunk in bytes.chunks(per) {
            let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            let stream = self.stream.as_mut().expect("checked above");
            match stream.send(chunk, left) {
                Ok(()) => sent += chunk.len(),
                Err(StreamFault::Timeout { sent: s, .. }) => {
                    sent += s.unwrap_or(0) as usize;
                    result = Err(None);
                    break;
                }
                Err(StreamFault::Failed(e)) => {
                    result = Err(Some(e));
                    break;
                }
            }
        }
        // Wait for LOADED (or ERROR) with the rest of the timeout.
        let mut sleep = Duration::from_micros(1);
        let mut status = self.read_register(regs::WSTATUS.offset)?;
        while result.is_ok() && status & (regs::WSTATUS_LOADED | regs::WSTATUS_ERROR) == 0 {
            let now = Instant::now();
            match deadline {
                Some(d) if now >= d => {
                    result = Err(None);
                    break;
                }
                Some(d) => std::thread::sleep(sleep.min(d - now)),
                None => std::thread::sleep(sleep),
            }
            sleep = (sleep * 2).min(MAX_POLL_SLEEP);
            status = self.read_register(regs::WSTATUS.offset)?;
        }
        // LOAD off whatever happened, so the stream carries vectors again.
        self.write_register(regs::WCTRL.offset, 0)?;
        let taken = self.read_register(regs::WWORDS.offset)?;
        match result {
            Ok(()) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => {
                return Err(Error::WeightsTimeout {
                    timeout,
                    elapsed: began.elapsed(),
                    sent: (sent / 4) as u64,
                    taken,
                    sim_cycles: self.backend.sim_cycles(),
                })
            }
        }
        let words = image.words.len() as u64;
        if status & regs::WSTATUS_ERROR != 0 {
            return Err(Error::WeightsLoad {
                backend,
                detail: format!(
                    "WSTATUS.ERROR after {taken} of {words} words: the engine refused a record \
                     or the END's CRC (the image does not fit this design)"
                ),
            });
        }
        let whash = self.read_register(regs::WHASH.offset)?;
        if whash != image.crc || taken as u64 != words {
            return Err(Error::WeightsLoad {
                backend,
                detail: format!(
                    "read-back: WHASH {whash:08x} and WWORDS {taken} after sending an image of \
                     {words} words with CRC {:08x}",
                    image.crc
                ),
            });
        }
        Ok(WeightsLoaded {
            words,
            crc32: image.crc,
            elapsed: began.elapsed(),
        })
    }

    /// A 64-bit counter from HI:LO, re-reading LO if HI changed in between (never loops).
    fn read_pair(&mut self, hi_off: u64, lo_off: u64) -> Result<u64> {
        let mut hi = self.read_register(hi_off)?;
        let mut lo = self.read_register(lo_off)?;
        let hi2 = self.read_register(hi_off)?;
        if hi2 != hi {
            hi = hi2;
            lo = self.read_register(lo_off)?;
        }
        Ok(((hi as u64) << 32) | lo as u64)
    }
}

/// Reads a weight image file (bounded: an image is at most the engine's memories).
fn read_image(path: &std::path::Path) -> Result<Vec<u8>> {
    /// Larger than any part's on-chip memory (about 50 MB on the largest listed part).
    const MAX_IMAGE_BYTES: u64 = 1 << 30;
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len > MAX_IMAGE_BYTES {
        return Err(Error::WeightImage {
            path: path.to_path_buf(),
            reason: format!("{len} bytes is larger than any weight image ({MAX_IMAGE_BYTES})"),
        });
    }
    std::fs::read(path).map_err(|e| Error::io("read", path, e))
}

/// A started run. Waiting may be repeated after a timeout.
pub struct Run<'d> {
    device: &'d mut Device,
    irq: bool,
}

impl Run<'_> {
    /// Waits until STATUS.DONE, at most `timeout` of wall-clock time.
    ///
    /// Returns [`Error::Timeout`] (with the time waited and, for a simulator, the cycles reached)
    /// if DONE did not come; any other error is a failure of the device or the backend. A STATUS
    /// with reserved bits set (e.g. all ones from a dead bus) is a failure, not a reason to wait.
    pub fn wait(&mut self, timeout: Duration) -> Result<Completion> {
        let began = Instant::now();
        let deadline = began.checked_add(timeout);
        let mut sleep = Duration::from_micros(1);
        let mut fired_before = false;
        loop {
            let status = self.device.status()?;
            if status & STATUS_DONE != 0 {
                if self.irq {
                    self.device
                        .write_register(regs::STATUS.offset, STATUS_IRQ_PENDING)?;
                }
                let cycles = self.device.cycles()?;
                return Ok(Completion {
                    cycles,
                    elapsed: began.elapsed(),
                });
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(d) if now < d => d - now,
                // An unrepresentable deadline (a timeout of centuries) is "no deadline yet".
                None => EVENT_SLICE,
                Some(_) => {
                    return Err(Error::Timeout {
                        timeout,
                        elapsed: now - began,
                        sim_cycles: self.device.backend.sim_cycles(),
                    })
                }
            };
            match self.device.backend.wait_event(remaining.min(EVENT_SLICE))? {
                Event::Quiet => {}
                // The first interrupt is believed at once; a backend that keeps "firing" without
                // DONE (a stand-in node, a shared line) falls back to the bounded poll below.
                Event::Fired if !fired_before => fired_before = true,
                Event::Fired | Event::Unsupported => {
                    // Poll with a growing sleep, bounded by the deadline: runs take microseconds
                    // on hardware, so start small, but never spin hot for long.
                    std::thread::sleep(sleep.min(remaining));
                    sleep = (sleep * 2).min(MAX_POLL_SLEEP);
                }
            }
        }
    }

    /// The device, e.g. to read other registers while the run is in flight.
    pub fn device(&mut self) -> &mut Device {
        self.device
    }
}

/// Activations that sit in consecutive window words (docs/register-map.md): a whole vector when
/// the PE count is a power of two, else one row of `pes` banks.
fn window_run(pes: usize) -> usize {
    let pes = pes.max(1);
    if regs::bank_stride(pes) == pes as u64 {
        usize::MAX
    } else {
        pes
    }
}

/// `words` (one per activation) split into runs of consecutive window words, with the index of
/// each run's first activation.
fn window_rows(words: &[u32], pes: usize) -> impl Iterator<Item = (usize, &[u32])> {
    let run = window_run(pes);
    words
        .chunks(run)
        .enumerate()
        .map(move |(k, c)| (k.saturating_mul(run), c))
}
