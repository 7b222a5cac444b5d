//! An in-process model of docs/register-map.md implementing [`Backend`]: for tests of the driver
//! sequence and of code built on the host API (the generator's CLI) without Verilator or a board.
//! It models the identification block, CONTROL/STATUS (W1C), CYCLES, both windows and the IRQ,
//! and the streams of register map v3: [`FakeAccelerator::stream`] returns a [`Stream`] that
//! computes whole batches and keeps the stream registers (SCTRL, TLAST_EVERY, VECTORS, IN_BEATS,
//! OUT_BEATS, SSTATUS, BUSY, TOTAL) as the RTL would, so the batch driver is testable without
//! Verilator. The weight loader of register map v4 is [`Loader`]: a run-time-weights fake takes
//! image words from its stream while WCTRL.LOAD is set, and ignores START and SCTRL.RUN until an
//! image checked; the board stand-ins in the tests use the same model.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backend::{check_access, Backend, Event};
use crate::error::Result;
use crate::manifest::{
    Bundle, CONTROL_IRQ_ENABLE, CONTROL_START, MAGIC, REGMAP_VERSION, STATUS_BUSY, STATUS_DONE,
    STATUS_IRQ_PENDING,
};
use crate::stream::{Stream, StreamFault};
use bramble_abi::numeric::sign_extend;
use bramble_abi::regs;
use bramble_abi::stream::Packing;
use bramble_abi::weights::{self, Mem, Shape};

/// The weight loader as docs/bundle.md "Weight loading" specifies it: WCTRL (LOAD, CLEAR),
/// WSTATUS (LOADED, ERROR, RUNTIME), WWORDS and WHASH, fed one image word at a time.
#[derive(Debug, Clone)]
pub struct Loader {
    runtime: bool,
    pes: u32,
    shapes: Vec<(Mem, Shape)>,
    /// WCTRL.LOAD.
    pub load: bool,
    /// WWORDS.
    pub words: u32,
    /// WHASH.
    pub whash: u32,
    pub loaded: bool,
    pub error: bool,
    since_clear: Vec<u32>,
    state: LoadState,
    /// Records applied since CLEAR (tests look at them).
    pub records: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadState {
    Header,
    Addr(Mem, u32),
    Count(Mem, u32, u64),
    Data(u64),
    Crc,
    Done,
}

impl Loader {
    /// The loader of a design whose memories have `shapes` (from the manifest) and `pes` PEs;
    /// with the weights in the bitstream (`runtime` false) it only reports LOADED and `crc`.
    pub fn new(runtime: bool, pes: u32, shapes: Vec<(Mem, Shape)>, crc: u32) -> Loader {
        Loader {
            runtime,
            pes,
            shapes,
            load: false,
            words: 0,
            whash: if runtime { 0 } else { crc },
            loaded: !runtime,
            error: false,
            since_clear: Vec::new(),
            state: LoadState::Header,
            records: 0,
        }
    }

    /// The loader of `bundle`'s design.
    pub fn for_bundle(bundle: &Bundle) -> Loader {
        let m = bundle.manifest();
        let shapes = Mem::ALL
            .into_iter()
            .filter_map(|k| m.weight_shape(k).map(|s| (k, s)))
            .collect();
        Loader::new(m.runtime_weights(), m.pes, shapes, m.weights_crc32())
    }

    /// WCTRL as read (CLEAR reads 0).
    pub fn wctrl(&self) -> u32 {
        self.load as u32 * regs::WCTRL_LOAD
    }

    /// A write to WCTRL.
    pub fn write_wctrl(&mut self, value: u32) {
        if !self.runtime {
            return;
        }
        if value & regs::WCTRL_CLEAR != 0 {
            self.words = 0;
            self.whash = 0;
            self.loaded = false;
            self.error = false;
            self.since_clear.clear();
            self.state = LoadState::Header;
            self.records = 0;
        }
        self.load = value & regs::WCTRL_LOAD != 0;
    }

    /// WSTATUS.
    pub fn wstatus(&self) -> u32 {
        (self.loaded as u32 * regs::WSTATUS_LOADED)
            | (self.error as u32 * regs::WSTATUS_ERROR)
            | (self.runtime as u32 * regs::WSTATUS_RUNTIME)
    }

    /// One image word from the stream (only while LOAD is set).
    pub fn take(&mut self, w: u32) {
        if !self.runtime || !self.load {
            return;
        }
        self.words = self.words.wrapping_add(1);
        if self.error {
            return;
        }
        let shape = |m: Mem| self.shapes.iter().find(|(k, _)| *k == m).map(|(_, s)| *s);
        self.state = match self.state {
            LoadState::Header if w == weights::NOP => LoadState::Header,
            LoadState::Header if w >> 16 == 0 && w & 0xFF == weights::END => LoadState::Crc,
            LoadState::Header => {
                let (code, pe) = (w & 0xFF, (w >> 8) & 0xFF);
                match Mem::from_code(code) {
                    Some(m)
                        if w >> 16 == 0
                            && shape(m).is_some()
                            && (if m.per_pe() { pe < self.pes } else { pe == 0 }) =>
                    {
                        LoadState::Addr(m, pe)
                    }
                    _ => {
                        self.error = true;
                        LoadState::Header
                    }
                }
            }
            LoadState::Addr(m, pe) => LoadState::Count(m, pe, w as u64),
            LoadState::Count(m, _, addr) => {
                let s = shape(m).expect("checked at the header");
                if w == 0 || addr + w as u64 > s.depth {
                    self.error = true;
                    LoadState::Header
                } else {
                    self.records += 1;
                    LoadState::Data(w as u64 * weights::chunks(s.width) as u64)
                }
            }
            LoadState::Data(left) if left > 1 => LoadState::Data(left - 1),
            LoadState::Data(_) => LoadState::Header,
            LoadState::Crc => {
                // The END header itself is not covered by the CRC.
                let body = &self.since_clear[..self.since_clear.len() - 1];
                let crc = weights::crc32(body);
                if w == crc {
                    self.loaded = true;
                    self.whash = crc;
                } else {
                    self.error = true;
                }
                LoadState::Done
            }
            LoadState::Done => {
                // One END per image: anything after it is an error.
                self.error = true;
                LoadState::Done
            }
        };
        self.since_clear.push(w);
        if self.error {
            // As the RTL (hw/bramble_wload.v): an error drops LOADED and WHASH reads 0, so
            // neither names weights that failed to load (a word after END included).
            self.loaded = false;
            self.whash = 0;
        }
    }
}

/// The "network" of a fake accelerator: raw inputs to raw outputs.
pub type FakeNetwork = Box<dyn Fn(&[i64]) -> Vec<i64> + Send>;

/// The stream side's state, shared by the register model and its [`FakeStream`].
#[derive(Debug, Clone, Default)]
pub struct StreamState {
    pub sctrl: u32,
    pub tlast_every: u32,
    pub irq_count: u32,
    pub vectors: u32,
    pub in_beats: u32,
    pub out_beats: u32,
    pub sstatus: u32,
    pub busy: u64,
    pub total: u64,
    /// The consumer stops taking output after this many vectors (a stalled stream); `None`:
    /// never stalls.
    pub stall_after: Option<u32>,
}

struct Shared {
    network: FakeNetwork,
    /// Networks selected by the CRC of the loaded weights ([`FakeAccelerator::add_network`]).
    networks: Vec<(u32, FakeNetwork)>,
    loader: Loader,
    stream: StreamState,
    run_cycles: u64,
}

impl Shared {
    /// The network of the weights the fake holds.
    fn compute(&self, raw: &[i64]) -> Vec<i64> {
        match self.networks.iter().find(|(c, _)| *c == self.loader.whash) {
            Some((_, n)) => n(raw),
            None => (self.network)(raw),
        }
    }
}

fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// A register-accurate fake accelerator.
pub struct FakeAccelerator {
    /// Identification words, editable by tests to provoke mismatches.
    pub magic: u32,
    pub version: u32,
    pub hash: u64,
    pub geometry: u32,
    pub sizes: u32,
    pub window: u64,
    /// STATUS reads (while BUSY) before the run finishes; `None` = never finishes.
    pub latency: Option<u32>,
    /// Cycles reported per run.
    pub run_cycles: u64,
    act_bits: u32,
    shared: Arc<Mutex<Shared>>,
    packing: Option<Packing>,
    in_size: usize,
    inputs: Vec<u32>,
    outputs: Vec<u32>,
    busy_left: Option<u32>,
    done: bool,
    irq_pending: bool,
    irq_enable: bool,
    cycles: u64,
    /// Count of runs started (tests check reruns and ignored STARTs).
    pub starts: u32,
}

impl FakeAccelerator {
    /// A fake that matches `bundle` and computes `network`. A run-time-weights bundle's fake
    /// starts with no weights loaded (HASH the geometry hash, WHASH 0).
    pub fn for_bundle(bundle: &Bundle, network: FakeNetwork) -> FakeAccelerator {
        let m = bundle.manifest();
        FakeAccelerator {
            magic: MAGIC,
            version: REGMAP_VERSION,
            hash: m.rtl_hash_u64(),
            geometry: m.geometry(),
            sizes: m.sizes(),
            window: m.window_bytes(),
            latency: Some(3),
            run_cycles: 17,
            act_bits: m.act_bits,
            shared: Arc::new(Mutex::new(Shared {
                network,
                networks: Vec::new(),
                loader: Loader::for_bundle(bundle),
                stream: StreamState {
                    tlast_every: 1,
                    ..StreamState::default()
                },
                run_cycles: 17,
            })),
            packing: m.packing().ok(),
            in_size: m.input.size,
            inputs: vec![0; m.input.size],
            outputs: vec![0; m.output.size],
            busy_left: None,
            done: false,
            irq_pending: false,
            irq_enable: false,
            cycles: 0,
            starts: 0,
        }
    }

    fn finish(&mut self) {
        let bits = self.act_bits;
        let raw: Vec<i64> = self.inputs.iter().map(|&w| sign_extend(w, bits)).collect();
        let out = lock(&self.shared).compute(&raw);
        for (o, v) in self.outputs.iter_mut().zip(out) {
            *o = v as u32;
        }
        self.busy_left = None;
        self.done = true;
        self.irq_pending = true;
        self.cycles = self.run_cycles;
        lock(&self.shared).stream.busy += self.run_cycles;
    }

    fn status(&self) -> u32 {
        (self.done as u32 * STATUS_DONE)
            | (self.busy_left.is_some() as u32 * STATUS_BUSY)
            | (self.irq_pending as u32 * STATUS_IRQ_PENDING)
    }
}

impl FakeAccelerator {
    /// The stream path of this fake ([`crate::Device::attach_stream`]), sharing its registers.
    /// `None` when the bundle has no valid stream packing.
    pub fn stream(&self) -> Option<FakeStream> {
        Some(FakeStream {
            shared: self.shared.clone(),
            packing: self.packing?,
            in_size: self.in_size,
            out_size: self.outputs.len(),
            act_bits: self.act_bits,
        })
    }

    /// After weights with CRC `crc` are loaded, the fake computes `network` (until other weights
    /// are loaded): a swap of networks changes the results as on the device.
    pub fn add_network(&mut self, crc: u32, network: FakeNetwork) {
        lock(&self.shared).networks.push((crc, network));
    }

    /// The weight loader's state now.
    pub fn loader(&self) -> Loader {
        lock(&self.shared).loader.clone()
    }

    /// The stream registers now (tests inspect and edit them, e.g. `stall_after`).
    pub fn stream_state(&self) -> StreamState {
        lock(&self.shared).stream.clone()
    }

    /// Sets the vectors after which the fake's consumer stalls.
    pub fn set_stall_after(&mut self, n: Option<u32>) {
        lock(&self.shared).stream.stall_after = n;
    }

    fn stream_read(&self, offset: u64) -> Option<u32> {
        let sh = lock(&self.shared);
        let st = &sh.stream;
        let fmt = self
            .packing
            .map_or(0, |p| regs::stream_format(p.tdata_bits(), p.lane_bits()));
        Some(match offset {
            o if o == regs::STREAM.offset => fmt,
            o if o == regs::SCTRL.offset => st.sctrl & (regs::SCTRL_RUN | regs::SCTRL_CYCLES_BEAT),
            o if o == regs::TLAST_EVERY.offset => st.tlast_every,
            o if o == regs::IRQ_COUNT.offset => st.irq_count,
            o if o == regs::VECTORS.offset => st.vectors,
            o if o == regs::IN_BEATS.offset => st.in_beats,
            o if o == regs::OUT_BEATS.offset => st.out_beats,
            o if o == regs::SSTATUS.offset => st.sstatus,
            o if o == regs::BUSY_LO.offset => st.busy as u32,
            o if o == regs::BUSY_HI.offset => (st.busy >> 32) as u32,
            o if o == regs::TOTAL_LO.offset => st.total as u32,
            o if o == regs::TOTAL_HI.offset => (st.total >> 32) as u32,
            o if o == regs::WCTRL.offset => sh.loader.wctrl(),
            o if o == regs::WSTATUS.offset => sh.loader.wstatus(),
            o if o == regs::WWORDS.offset => sh.loader.words,
            o if o == regs::WHASH.offset => sh.loader.whash,
            _ => return None,
        })
    }

    fn stream_write(&mut self, offset: u64, value: u32) -> bool {
        let mut sh = lock(&self.shared);
        sh.run_cycles = self.run_cycles;
        if offset == regs::WCTRL.offset {
            sh.loader.write_wctrl(value);
            return true;
        }
        // SCTRL.RUN is ignored while a run-time-weights design holds no weights.
        let run_mask = if sh.loader.loaded { regs::SCTRL_RUN } else { 0 };
        let st = &mut sh.stream;
        match offset {
            o if o == regs::SCTRL.offset => {
                st.sctrl = value & (run_mask | regs::SCTRL_CYCLES_BEAT);
                if value & regs::SCTRL_CLEAR != 0 {
                    st.vectors = 0;
                    st.in_beats = 0;
                    st.out_beats = 0;
                    st.busy = 0;
                    st.total = 0;
                    st.sstatus &= regs::SSTATUS_ACTIVE;
                }
            }
            o if o == regs::TLAST_EVERY.offset => st.tlast_every = value,
            o if o == regs::IRQ_COUNT.offset => st.irq_count = value,
            o if o == regs::SSTATUS.offset => {
                st.sstatus &= !(value & (regs::SSTATUS_COUNT | regs::SSTATUS_FRAMING))
            }
            _ => return false,
        }
        true
    }

    /// The activation a window offset addresses (the register map's bank layout), if any.
    fn index(&self, offset: u64) -> Option<usize> {
        let pes = regs::geometry::unpack(self.geometry).0 as usize;
        regs::window_index((offset % self.window) / 4, pes)
    }
}

impl Backend for FakeAccelerator {
    fn describe(&self) -> String {
        "fake accelerator".into()
    }

    fn size(&self) -> u64 {
        4 * self.window
    }

    fn read32(&mut self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.size())?;
        let w = self.window;
        let idx = self.index(offset);
        Ok(match offset / w {
            0 if offset == regs::MAGIC_REG.offset => self.magic,
            0 if offset == regs::VERSION.offset => self.version,
            0 if offset == regs::HASH_LO.offset => self.hash as u32,
            0 if offset == regs::HASH_HI.offset => (self.hash >> 32) as u32,
            0 if offset == regs::GEOMETRY.offset => self.geometry,
            0 if offset == regs::SIZES.offset => self.sizes,
            0 if offset == regs::IN_BASE.offset => w as u32,
            0 if offset == regs::OUT_BASE.offset => 2 * w as u32,
            0 if offset == regs::CONTROL.offset => self.irq_enable as u32 * CONTROL_IRQ_ENABLE,
            0 if offset == regs::STATUS.offset => {
                // Time passes when the host looks: each STATUS read is one step of the run.
                if let Some(left) = self.busy_left {
                    if left == 0 {
                        self.finish();
                    } else if self.latency.is_some() {
                        self.busy_left = Some(left - 1);
                    }
                }
                self.status()
            }
            0 if offset == regs::CYCLES_LO.offset => self.cycles as u32,
            0 if offset == regs::CYCLES_HI.offset => (self.cycles >> 32) as u32,
            0 => self.stream_read(offset).unwrap_or(0),
            1 => idx.and_then(|i| self.inputs.get(i)).copied().unwrap_or(0),
            2 => idx.and_then(|i| self.outputs.get(i)).copied().unwrap_or(0),
            _ => 0,
        })
    }

    fn write32(&mut self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.size())?;
        let w = self.window;
        let idx = self.index(offset);
        match offset / w {
            0 if offset == regs::CONTROL.offset => {
                self.irq_enable = value & CONTROL_IRQ_ENABLE != 0;
                // START is ignored while a run-time-weights design holds no weights.
                let loaded = lock(&self.shared).loader.loaded;
                if value & CONTROL_START != 0 && self.busy_left.is_none() && loaded {
                    self.starts += 1;
                    self.done = false;
                    self.busy_left = Some(self.latency.unwrap_or(u32::MAX));
                }
            }
            0 if offset == regs::STATUS.offset => {
                if value & STATUS_DONE != 0 {
                    self.done = false;
                }
                if value & STATUS_IRQ_PENDING != 0 {
                    self.irq_pending = false;
                }
            }
            0 if self.stream_write(offset, value) => {}
            1 if self.busy_left.is_none() => {
                let bits = self.act_bits;
                if let Some(slot) = idx.and_then(|i| self.inputs.get_mut(i)) {
                    *slot = sign_extend(value, bits) as u32;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn has_interrupt(&self) -> bool {
        true
    }

    fn wait_event(&mut self, timeout: Duration) -> Result<Event> {
        if self.irq_pending && self.irq_enable {
            return Ok(Event::Fired);
        }
        // Nothing happens in a fake without the host looking; report "unsupported" so the driver
        // polls STATUS (which advances the run) with its bounded sleep.
        let _ = timeout;
        Ok(Event::Unsupported)
    }
}

/// The fake's stream path: a whole transfer computed at once, the stream registers kept as the
/// RTL keeps them (docs/register-map.md "Streams"): input framed by count, TLAST after every
/// TLAST_EVERY-th vector, a cycles beat with SCTRL.CYCLES_BEAT, and each vector taking
/// `run_cycles` with its I/O overlapped (TOTAL = vectors * run_cycles + one vector's beats).
pub struct FakeStream {
    shared: Arc<Mutex<Shared>>,
    packing: Packing,
    in_size: usize,
    out_size: usize,
    act_bits: u32,
}

impl Stream for FakeStream {
    fn describe(&self) -> String {
        "fake stream".into()
    }

    fn max_vectors(&self, in_bytes: usize, out_bytes: usize) -> usize {
        // A small "buffer", so batch splitting is exercised: 4 KiB.
        4096 / (in_bytes + out_bytes).max(1)
    }

    fn max_send_bytes(&self) -> usize {
        // As small, so a weight image takes several sends.
        4096
    }

    /// Beats to the loader while WCTRL.LOAD is set (low 32 bits first); dropped otherwise.
    fn send(&mut self, input: &[u8], _timeout: Duration) -> Result<(), StreamFault> {
        let mut sh = lock(&self.shared);
        for w in input.chunks(4) {
            let mut b = [0u8; 4];
            b[..w.len()].copy_from_slice(w);
            sh.loader.take(u32::from_le_bytes(b));
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, StreamFault> {
        let began = Instant::now();
        let p = self.packing;
        let bb = (p.tdata_bits() / 8) as usize;
        let in_beats = p.beats(self.in_size);
        let mut sh = lock(&self.shared);
        let run_cycles = sh.run_cycles;
        let mut got = 0usize;
        let stalled = |sh: &MutexGuard<'_, Shared>| {
            sh.stream.sctrl & regs::SCTRL_RUN == 0
                || sh
                    .stream
                    .stall_after
                    .is_some_and(|n| sh.stream.vectors >= n)
        };
        for (k, vin) in input.chunks(in_beats * bb).enumerate() {
            if stalled(&sh) {
                drop(sh);
                std::thread::sleep(timeout.saturating_sub(began.elapsed()));
                return Err(StreamFault::Timeout {
                    elapsed: began.elapsed(),
                    sent: None,
                    received: Some(got as u64),
                    detail: format!("the fake consumer stalled after {k} vector(s)"),
                });
            }
            let beats: Vec<u64> = vin
                .chunks(bb)
                .map(|b| {
                    let mut w = [0u8; 8];
                    w[..b.len()].copy_from_slice(b);
                    u64::from_le_bytes(w)
                })
                .collect();
            sh.stream.in_beats = sh.stream.in_beats.wrapping_add(beats.len() as u32);
            let raw = p.unpack(&beats, self.in_size).map_err(|e| {
                StreamFault::Failed(crate::Error::Stream {
                    backend: "fake stream".into(),
                    detail: e.to_string(),
                })
            })?;
            let out = sh.compute(&raw);
            let out: Vec<i64> = out
                .iter()
                .take(self.out_size)
                .map(|&v| sign_extend(v as u32, self.act_bits))
                .collect();
            let mut beats = p.pack(&out).map_err(|e| {
                StreamFault::Failed(crate::Error::Stream {
                    backend: "fake stream".into(),
                    detail: e.to_string(),
                })
            })?;
            if sh.stream.sctrl & regs::SCTRL_CYCLES_BEAT != 0 {
                beats.push(run_cycles);
            }
            for b in &beats {
                if got + bb > output.len() {
                    break;
                }
                output[got..got + bb].copy_from_slice(&b.to_le_bytes()[..bb]);
                got += bb;
                sh.stream.out_beats = sh.stream.out_beats.wrapping_add(1);
            }
            sh.stream.vectors = sh.stream.vectors.wrapping_add(1);
            sh.stream.busy += run_cycles;
            sh.stream.total =
                sh.stream.vectors as u64 * run_cycles + (in_beats + beats.len()) as u64;
            if sh.stream.irq_count != 0 && sh.stream.vectors == sh.stream.irq_count {
                sh.stream.sstatus |= regs::SSTATUS_COUNT;
            }
            let every = sh.stream.tlast_every.max(1);
            if sh.stream.vectors % every == 0 || got >= output.len() {
                break;
            }
        }
        Ok(got)
    }
}
