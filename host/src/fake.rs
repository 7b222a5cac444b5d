//! An in-process model of docs/register-map.md implementing [`Backend`]: for tests of the driver
//! sequence and of code built on the host API (the generator's CLI) without Verilator or a board.
//! It models the identification block, CONTROL/STATUS (W1C), CYCLES, both windows and the IRQ.

use std::time::Duration;

use crate::backend::{check_access, Backend, Event};
use crate::error::Result;
use crate::manifest::{
    Bundle, CONTROL_IRQ_ENABLE, CONTROL_START, MAGIC, REGMAP_VERSION, STATUS_BUSY, STATUS_DONE,
    STATUS_IRQ_PENDING,
};
use bramble_abi::numeric::sign_extend;
use bramble_abi::regs;

/// The "network" of a fake accelerator: raw inputs to raw outputs.
pub type FakeNetwork = Box<dyn Fn(&[i64]) -> Vec<i64> + Send>;

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
    network: FakeNetwork,
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
    /// A fake that matches `bundle` and computes `network`.
    pub fn for_bundle(bundle: &Bundle, network: FakeNetwork) -> FakeAccelerator {
        let m = bundle.manifest();
        FakeAccelerator {
            magic: MAGIC,
            version: REGMAP_VERSION,
            hash: bundle.network_hash(),
            geometry: m.geometry(),
            sizes: m.sizes(),
            window: m.window_bytes(),
            latency: Some(3),
            run_cycles: 17,
            act_bits: m.act_bits,
            network,
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
        let out = (self.network)(&raw);
        for (o, v) in self.outputs.iter_mut().zip(out) {
            *o = v as u32;
        }
        self.busy_left = None;
        self.done = true;
        self.irq_pending = true;
        self.cycles = self.run_cycles;
    }

    fn status(&self) -> u32 {
        (self.done as u32 * STATUS_DONE)
            | (self.busy_left.is_some() as u32 * STATUS_BUSY)
            | (self.irq_pending as u32 * STATUS_IRQ_PENDING)
    }
}

impl FakeAccelerator {
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
                if value & CONTROL_START != 0 && self.busy_left.is_none() {
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
