//! Memory planning: the engine's geometry for N processing elements and an entry format, every
//! memory it has, how each maps onto the part's primitives (block RAM via [`crate::bram`], or
//! LUT RAM), the totals against the part, and the choice of N and of the entry format (the row
//! gap's width, docs/sparse-format.md).

use crate::bram::{pack, Packing, Ports, ROM_2R, SDP};
use crate::encode::{encode, entry_counts, PeSlice, MAX_GAP_BITS, MIN_GAP_BITS};
use crate::model::Model;
use crate::parts::Part;
use crate::stats::bits_for;
use serde::Serialize;

/// Largest PE count accepted (the GEOMETRY register has 8 bits; more makes no sense on these parts).
pub const MAX_PES: usize = 64;
/// `--pes auto` stays at or below this many PEs.
pub const AUTO_MAX_PES: usize = 32;
/// A memory of more bits than this goes to block RAM; smaller ones to LUT RAM.
pub const BLOCK_MIN_BITS: usize = 4096;
/// Activation FIFO depth per PE (shift-register LUTs; deep enough to absorb the load imbalance
/// between PEs over a few dozen columns).
pub const FIFO_DEPTH: usize = bramble_abi::regs::engine::ACT_FIFO_DEPTH as usize;

pub use bramble_abi::regs::layer_desc::LayerDesc;

/// Where the weights live (`--weights`): in the bitstream (`$readmemh` images, the memories are
/// ROMs), or loaded at run time over the stream (write ports, no images; docs/bundle.md "Weight
/// loading").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsMode {
    #[default]
    Bitstream,
    Runtime,
}

impl WeightsMode {
    /// The manifest's `weights.mode` ([`bramble_abi::manifest::WEIGHTS_MODES`]).
    pub fn name(self) -> &'static str {
        match self {
            WeightsMode::Bitstream => "bitstream",
            WeightsMode::Runtime => "runtime",
        }
    }

    /// `bitstream` or `runtime` (the CLI's `--weights`).
    pub fn parse(s: &str) -> Result<WeightsMode, String> {
        match s {
            "bitstream" => Ok(WeightsMode::Bitstream),
            "runtime" => Ok(WeightsMode::Runtime),
            _ => Err(format!(
                "--weights `{s}`: expected `bitstream` or `runtime`"
            )),
        }
    }
}

/// Where the entry memories go (`--entry-ram`): `auto` lets the planner choose, `block` keeps
/// them in block RAM (or LUT RAM when small), `ultra` puts them in URAM288. URAM cannot be
/// initialised by the bitstream, so `ultra` needs run-time weights and a part with UltraRAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryRam {
    #[default]
    Auto,
    Block,
    Ultra,
}

impl EntryRam {
    /// `auto`, `block` or `ultra` (the CLI's `--entry-ram`).
    pub fn parse(s: &str) -> Result<EntryRam, String> {
        match s {
            "auto" => Ok(EntryRam::Auto),
            "block" => Ok(EntryRam::Block),
            "ultra" => Ok(EntryRam::Ultra),
            _ => Err(format!(
                "--entry-ram `{s}`: expected `auto`, `block` or `ultra`"
            )),
        }
    }
}

/// Entry pairs per word of a run-time-weights entry memory (bramble_entry_ram's PairsPerWord:
/// 1, 2 or 4). 1 until the planner chooses packings (URAM: 4 pairs of 9-bit entries per 72-bit
/// word).
pub fn entry_pairs_per_word(_g: &Geometry) -> usize {
    1
}

/// Words of a run-time-weights entry memory: `ceil(entry_depth / (2 * pairs per word))`.
pub fn entry_words(g: &Geometry) -> usize {
    g.entry_depth.div_ceil(2 * entry_pairs_per_word(g)).max(1)
}

/// Bits of a run-time-weights entry word: `2 * entry_bits * pairs per word`.
pub fn entry_word_bits(g: &Geometry) -> u32 {
    2 * g.entry_bits * entry_pairs_per_word(g) as u32
}

/// Everything about the engine that depends on the network and N.
#[derive(Debug, Clone)]
pub struct Geometry {
    pub pes: usize,
    pub act_bits: u32,
    pub idx_bits: u32,
    pub cb_bits: u32,
    pub acc_bits: u32,
    /// Row-gap bits of a stored entry, design-wide (`entry_bits = idx_bits + gap_bits`).
    pub gap_bits: u32,
    /// Per layer: its gap width and entries.
    pub formats: Vec<LayerFormat>,
    /// Per PE, per layer: the encoded slice.
    pub slices: Vec<Vec<PeSlice>>,
    pub layers: Vec<LayerDesc>,
    /// Deepest per-PE entry memory (all PEs share the depth).
    pub entry_depth: usize,
    pub entry_bits: u32,
    /// Pointer words per PE (both banks together; even).
    pub ptr_words: usize,
    pub ptr_bits: u32,
    pub bias_depth: usize,
    pub acc_depth: usize,
    pub cb_depth: usize,
    /// Rows of one input vector and of the largest layer output per bank (the HLS kernel's
    /// single buffers).
    pub in_buf_depth: usize,
    pub act_buf_depth: usize,
    /// Words per bank of the RTL's buffers (docs/engine.md): IN and OUT hold two vectors each
    /// (the stream's double buffering, half = address LSB), A and B the outputs of the layers
    /// before the last (0 when there are none).
    pub in_bank_depth: usize,
    pub mid_buf_depth: usize,
    pub out_bank_depth: usize,
}

/// One layer's entry format in a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerFormat {
    pub name: String,
    /// Row gaps of this layer are at most `2^gap_bits - 1` (the design's width: see
    /// [`choose_with`]).
    pub gap_bits: u32,
    pub nonzeros: usize,
    /// Entries stored over all PEs, padding included.
    pub entries: usize,
    pub padding_entries: usize,
}

/// One design-wide entry format the planner costed for the chosen PE count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatCandidate {
    pub gap_bits: u32,
    pub entry_bits: u32,
    /// Entries over all PEs and layers, padding included.
    pub entries: usize,
    pub padding_entries: usize,
    /// The deepest PE's entry memory.
    pub entry_depth: usize,
    /// RAMB36 tiles of the whole plan with this format.
    pub bram36_tiles: usize,
    /// URAM288 blocks of the whole plan with this format.
    pub uram: usize,
    pub fits: bool,
}

impl Geometry {
    /// Encode `model` for `pes` PEs with `gap_bits`-wide row gaps (3..=8) and lay out its memories.
    pub fn new(model: &Model, pes: usize, gap_bits: u32) -> Geometry {
        let mut slices: Vec<Vec<PeSlice>> = vec![Vec::new(); pes];
        for layer in &model.layers {
            for (k, s) in encode(&layer.weights, pes, gap_bits)
                .into_iter()
                .enumerate()
            {
                slices[k].push(s);
            }
        }
        let per_pe: Vec<usize> = slices
            .iter()
            .map(|pe| pe.iter().map(|s| s.entries.len()).sum())
            .collect();
        let per_layer: Vec<usize> = (0..model.layers.len())
            .map(|l| slices.iter().map(|pe| pe[l].entries.len()).sum())
            .collect();
        Geometry::layout(model, pes, gap_bits, slices, &per_pe, &per_layer)
    }

    /// The geometry the planner costs without encoding: entry counts from
    /// [`entry_counts`], no slices (never emitted; [`choose_with`] encodes the winner).
    fn sized(
        model: &Model,
        pes: usize,
        gap_bits: u32,
        per_pe: &[usize],
        per_layer: &[usize],
    ) -> Geometry {
        Geometry::layout(model, pes, gap_bits, Vec::new(), per_pe, per_layer)
    }

    fn layout(
        model: &Model,
        pes: usize,
        gap_bits: u32,
        slices: Vec<Vec<PeSlice>>,
        per_pe: &[usize],
        per_layer: &[usize],
    ) -> Geometry {
        let n = pes;
        let act_bits = model
            .layers
            .iter()
            .map(|l| l.out.bits)
            .chain([model.input.format.bits])
            .max()
            .expect("at least one layer");
        let idx_bits = model.layers.iter().map(|l| l.weight_bits).max().unwrap();
        let cb_bits = model.layers.iter().map(|l| l.codebook_bits).max().unwrap();
        // Never narrower than one product: the PE's multiplier output feeds the accumulator.
        let acc_bits = model
            .layers
            .iter()
            .map(|l| l.acc_bits)
            .max()
            .unwrap()
            .max(act_bits + cb_bits);
        let mut layers = Vec::new();
        let mut formats = Vec::new();
        let (mut ptr_base, mut bias_base) = (0usize, 0usize);
        for (l, layer) in model.layers.iter().enumerate() {
            let nnz = layer.weights.nnz();
            formats.push(LayerFormat {
                name: layer.name.to_string(),
                gap_bits,
                nonzeros: nnz,
                entries: per_layer[l],
                padding_entries: per_layer[l] - nnz,
            });
            layers.push(LayerDesc {
                in_size: layer.cols() as u64,
                out_size: layer.rows() as u64,
                ptr_base: ptr_base as u64,
                bias_base: bias_base as u64,
                shift: model.shift(l),
                relu: layer.activation == crate::model::Activation::Relu,
                pe_rows: layer.rows().div_ceil(n) as u64,
            });
            ptr_base += (layer.cols() + 1).next_multiple_of(2);
            bias_base += layer.rows().div_ceil(n);
        }
        let entry_depth = per_pe.iter().copied().max().unwrap_or(0).max(1);
        let max_rows = model.layers.iter().map(|l| l.rows()).max().unwrap();
        let last = model.layers.len() - 1;
        let mid_rows = model.layers[..last]
            .iter()
            .map(|l| l.rows())
            .max()
            .unwrap_or(0);
        Geometry {
            pes,
            act_bits,
            idx_bits,
            cb_bits,
            acc_bits,
            gap_bits,
            formats,
            slices,
            layers,
            entry_depth,
            entry_bits: gap_bits + idx_bits,
            ptr_words: ptr_base,
            ptr_bits: bits_for(entry_depth as u64).max(2),
            bias_depth: bias_base.max(1),
            acc_depth: max_rows.div_ceil(n),
            cb_depth: model.layers.len() << idx_bits,
            in_buf_depth: model.input.size.div_ceil(n),
            act_buf_depth: max_rows.div_ceil(n),
            in_bank_depth: 2 * model.input.size.div_ceil(n),
            mid_buf_depth: mid_rows.div_ceil(n),
            out_bank_depth: 2 * model.layers[last].rows().div_ceil(n),
        }
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Bits of a buffer row within a half (IN, OUT) or of A, B and the accumulators: the PE's
    /// write-back address and the scanner's row.
    pub fn row_bits(&self) -> u32 {
        let rows = (self.in_bank_depth / 2)
            .max(self.mid_buf_depth)
            .max(self.acc_depth);
        crate::generate::addr_bits_for(rows)
    }
}

/// One kind of memory in the engine (all instances share a shape).
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub name: &'static str,
    pub holds: &'static str,
    pub instances: usize,
    pub depth: usize,
    pub width: usize,
    /// `block`, `distributed` or `ultra` (URAM288).
    pub style: &'static str,
    /// Primitive shape per instance (block memories only).
    pub primitive: Option<String>,
    pub shape: Option<String>,
    pub primitives_per_instance: usize,
    pub bram18: usize,
    pub bram36: usize,
    /// URAM288 blocks, all instances.
    pub uram: usize,
}

impl Memory {
    pub fn block(&self) -> bool {
        self.style == "block"
    }
}

#[allow(clippy::too_many_arguments)]
fn memory(
    part: &Part,
    name: &'static str,
    holds: &'static str,
    instances: usize,
    depth: usize,
    width: usize,
    force_distributed: bool,
    ports: Ports,
) -> Memory {
    let block = !force_distributed && depth * width > BLOCK_MIN_BITS;
    let p: Option<Packing> = block.then(|| pack(depth, width, ports));
    Memory {
        name,
        holds,
        instances,
        depth,
        width,
        style: if block { "block" } else { "distributed" },
        primitive: p.map(|p| {
            if p.ramb18 > 0 {
                part.family.ramb18()
            } else {
                part.family.ramb36()
            }
            .to_string()
        }),
        shape: p.map(|p| p.shape()),
        primitives_per_instance: p.map_or(0, |p| p.units),
        bram18: p.map_or(0, |p| p.ramb18 * instances),
        bram36: p.map_or(0, |p| p.ramb36 * instances),
        uram: 0,
    }
}

/// A memory in URAM288 (`(* ram_style = "ultra" *)`), counted by [`crate::bram::uram`].
fn ultra_memory(
    name: &'static str,
    holds: &'static str,
    instances: usize,
    depth: usize,
    width: usize,
) -> Memory {
    let per = crate::bram::uram(depth, width);
    Memory {
        name,
        holds,
        instances,
        depth,
        width,
        style: "ultra",
        primitive: Some("URAM288".into()),
        shape: Some("4Kx72".into()),
        primitives_per_instance: per,
        bram18: 0,
        bram36: 0,
        uram: per * instances,
    }
}

/// The plan: memories, totals and whether it fits.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub part: &'static str,
    pub family: &'static str,
    pub pes: usize,
    pub fits: bool,
    /// The entry format: row-gap bits (design-wide) and entry width (`idx_bits + gap_bits`).
    pub gap_bits: u32,
    pub entry_bits: u32,
    /// Per layer: the gap width, the entries stored and how many of them are padding.
    pub layers: Vec<LayerFormat>,
    /// The design-wide formats considered for this PE count (empty when planned directly with
    /// [`plan`]), and why this one won.
    pub formats: Vec<FormatCandidate>,
    pub why: String,
    pub bram18: usize,
    pub bram36: usize,
    /// RAMB36 tiles used: `bram36 + ceil(bram18 / 2)`.
    pub bram36_tiles: usize,
    /// Bits the block memories hold (depth x width, all instances) against the part's block RAM
    /// (36 Kbit per RAMB36 tile, parity bits included).
    pub block_bits: usize,
    pub part_block_bits: usize,
    pub part_bram36: u32,
    /// URAM288 blocks used (the entry memories when they are placed in UltraRAM).
    pub uram: usize,
    pub part_uram: u32,
    /// Where the entry memories went: `block` (block or LUT RAM) or `ultra`, and why.
    pub entry_ram: EntryRam,
    pub entry_ram_why: String,
    pub dsp: usize,
    pub part_dsp: u32,
    /// Where the weights live: the entry memory's shape depends on it.
    pub weights: WeightsMode,
    pub memories: Vec<Memory>,
    /// Why it does not fit (empty when it fits).
    pub over: Vec<String>,
}

/// Plan the engine for `pes` processing elements on `part`, weights in the bitstream.
pub fn plan(part: &'static Part, g: &Geometry) -> Plan {
    plan_with(part, g, WeightsMode::Bitstream)
}

/// Plan the engine for `pes` processing elements on `part` with the weights in `weights`: with
/// run-time weights the entries are pair words in a simple dual-port memory (bramble_entry_ram).
pub fn plan_with(part: &'static Part, g: &Geometry, weights: WeightsMode) -> Plan {
    plan_placed(part, g, weights, EntryRam::Auto).expect("auto placement always plans")
}

/// How full the most used of block RAM and URAM would be, in parts per million of the part's:
/// the planner's measure of a plan's cost (lower keeps more headroom).
pub fn pressure(p: &Plan) -> u64 {
    pressure_of(p.bram36_tiles, p.part_bram36, p.uram, p.part_uram)
}

/// [`pressure`] from the counts: the larger of RAMB36 tiles / part and URAM288 / part, in
/// millionths (`u64::MAX` for a resource used that the part lacks).
fn pressure_of(bram36_tiles: usize, part_bram36: u32, uram: usize, part_uram: u32) -> u64 {
    let frac = |used: usize, have: u32| {
        if have == 0 {
            if used == 0 {
                0
            } else {
                u64::MAX
            }
        } else {
            used as u64 * 1_000_000 / have as u64
        }
    };
    frac(bram36_tiles, part_bram36).max(frac(uram, part_uram))
}

/// [`plan_with`] with the entry memories placed as `entry_ram` says. `auto`: in URAM288 when the
/// weights load at run time, the part has UltraRAM, and URAM leaves more headroom (a lower
/// [`pressure`]: block RAM short, or the entries a smaller share of the URAM than of the block
/// RAM); otherwise where they fit best in block RAM. `ultra` without run-time weights or on a part
/// without UltraRAM is an error naming what is missing.
pub fn plan_placed(
    part: &'static Part,
    g: &Geometry,
    weights: WeightsMode,
    entry_ram: EntryRam,
) -> Result<Plan, String> {
    let ultra_ok = weights == WeightsMode::Runtime && part.uram > 0;
    match entry_ram {
        EntryRam::Block => {
            let mut p = plan_in(part, g, weights, false);
            p.entry_ram_why = "--entry-ram block".into();
            Ok(p)
        }
        EntryRam::Ultra if !ultra_ok => Err(if part.uram == 0 {
            format!("--entry-ram ultra: {} has no UltraRAM", part.name)
        } else {
            "--entry-ram ultra needs --weights runtime: URAM cannot be initialised by the bitstream"
                .to_string()
        }),
        EntryRam::Ultra => {
            let mut p = plan_in(part, g, weights, true);
            p.entry_ram_why = "--entry-ram ultra".into();
            Ok(p)
        }
        EntryRam::Auto if !ultra_ok => {
            let mut p = plan_in(part, g, weights, false);
            p.entry_ram_why = if part.uram == 0 {
                format!("{} has no UltraRAM", part.name)
            } else {
                format!(
                    "weights in the bitstream: the part's {} URAM288 cannot be initialised by it (--weights runtime can use them)",
                    part.uram
                )
            };
            Ok(p)
        }
        EntryRam::Auto => {
            let (mut b, mut u) = (
                plan_in(part, g, weights, false),
                plan_in(part, g, weights, true),
            );
            let key = |p: &Plan| (!p.fits, pressure(p));
            let pct = |p: &Plan| pressure(p) as f64 / 1e4;
            if key(&u) < key(&b) {
                u.entry_ram_why = format!(
                    "entries in URAM288: {:.1}% of the most used memory resource, against {:.1}% with them in block RAM{}",
                    pct(&u),
                    pct(&b),
                    if b.fits { "" } else { " (which does not fit)" }
                );
                Ok(u)
            } else {
                b.entry_ram_why = format!(
                    "entries in block RAM: {:.1}% of the most used memory resource, against {:.1}% with them in URAM288",
                    pct(&b),
                    pct(&u)
                );
                Ok(b)
            }
        }
    }
}

fn plan_in(part: &'static Part, g: &Geometry, weights: WeightsMode, ultra: bool) -> Plan {
    let n = g.pes;
    let l = g.num_layers();
    let a = g.act_bits as usize;
    let ptr_depth = (g.ptr_words / 2).max(1);
    let (acc, cb) = (g.acc_bits as usize, g.cb_bits as usize);
    // (name, what it holds, instances, depth, width, always LUT RAM, ports): docs/engine.md's
    // instance table. The codebook and the descriptor ROM are read asynchronously, so LUT RAM.
    #[rustfmt::skip]
    let mut table: Vec<(&'static str, &'static str, usize, usize, usize, bool, Ports)> = vec![
        ("entries", "sparse weights: relative row index + codebook index (per PE)", n, g.entry_depth, g.entry_bits as usize, false, ROM_2R),
        ("ptr_even", "column pointers, even columns (per PE)", n, ptr_depth, g.ptr_bits as usize, false, SDP),
        ("ptr_odd", "column pointers, odd columns (per PE)", n, ptr_depth, g.ptr_bits as usize, false, SDP),
        ("bias", "biases at accumulator precision (per PE)", n, g.bias_depth, acc, false, SDP),
        ("codebook", "shared weights, all layers (per PE copy)", n, g.cb_depth, cb, true, SDP),
        ("accumulators", "partial sums of the PE's rows", n, g.acc_depth, acc, false, SDP),
        ("in_buf", "input activations, two vectors (one bank per PE)", n, g.in_bank_depth, a, false, SDP),
        ("act_buf_a", "layer outputs, even layers but the last (one bank per PE)", if l > 1 { n } else { 0 }, g.mid_buf_depth, a, false, SDP),
        ("act_buf_b", "layer outputs, odd layers but the last (one bank per PE)", if l > 2 { n } else { 0 }, g.mid_buf_depth, a, false, SDP),
        ("out_buf", "network outputs, two vectors (one bank per PE)", n, g.out_bank_depth, a, false, SDP),
        ("layers", "layer descriptors", 1, l, 128, true, SDP),
    ];
    if weights == WeightsMode::Runtime {
        table[0] = (
            "entries",
            "sparse weights, entry pairs per word, loaded at run time (per PE)",
            n,
            entry_words(g),
            entry_word_bits(g) as usize,
            false,
            SDP,
        );
    }
    let memories: Vec<Memory> = table
        .into_iter()
        .filter(|t| t.2 > 0)
        .map(|(name, holds, count, depth, width, dist, ports)| {
            if ultra && name == "entries" {
                ultra_memory(name, holds, count, depth, width)
            } else {
                memory(part, name, holds, count, depth, width, dist, ports)
            }
        })
        .collect();
    let uram: usize = memories.iter().map(|m| m.uram).sum();
    let bram18: usize = memories.iter().map(|m| m.bram18).sum();
    let bram36: usize = memories.iter().map(|m| m.bram36).sum();
    let tiles = bram36 + bram18.div_ceil(2);
    let block_bits = memories
        .iter()
        .filter(|m| m.block())
        .map(|m| m.depth * m.width * m.instances)
        .sum();
    let dsp = n;
    let mut over = Vec::new();
    if tiles > part.bram36 as usize {
        over.push(format!(
            "block RAM: {tiles} RAMB36 tiles needed ({bram36} RAMB36 + {bram18} RAMB18), {} available: over by {}",
            part.bram36,
            tiles - part.bram36 as usize
        ));
    }
    if uram > part.uram as usize {
        over.push(format!(
            "UltraRAM: {uram} URAM288 needed, {} available: over by {}",
            part.uram,
            uram - part.uram as usize
        ));
    }
    if dsp > part.dsp as usize {
        over.push(format!(
            "DSP: {dsp} needed, {} available: over by {}",
            part.dsp,
            dsp - part.dsp as usize
        ));
    }
    Plan {
        part: part.name,
        family: part.family.name(),
        pes: n,
        fits: over.is_empty(),
        gap_bits: g.gap_bits,
        entry_bits: g.entry_bits,
        layers: g.formats.clone(),
        formats: Vec::new(),
        why: String::new(),
        bram18,
        bram36,
        bram36_tiles: tiles,
        block_bits,
        part_block_bits: part.bram36 as usize * 36 * 1024,
        part_bram36: part.bram36,
        uram,
        part_uram: part.uram,
        entry_ram: if ultra {
            EntryRam::Ultra
        } else {
            EntryRam::Block
        },
        entry_ram_why: String::new(),
        dsp,
        part_dsp: part.dsp,
        weights,
        memories,
        over,
    }
}

/// PE counts `--pes auto` considers for `model`, largest first.
pub fn auto_candidates(model: &Model) -> Vec<usize> {
    let max_rows = model.layers.iter().map(|l| l.rows()).max().unwrap_or(1);
    let cap = (max_rows / 4).clamp(1, AUTO_MAX_PES);
    (1..=cap).rev().collect()
}

/// The one check that the engine can run `model` at all, whatever the PE count: run by `plan`,
/// `generate` (both through [`choose`]) and `inspect --part`. A model that passes gets a bundle
/// that lints; one that fails is refused here, never later.
pub fn check_target(model: &Model, part: &Part) -> Result<(), String> {
    let name = &model.name;
    let refuse = |what: String| {
        Err(format!(
            "network `{name}` cannot run on the engine for {}: {what}",
            part.name
        ))
    };
    if model.layers.is_empty() {
        return refuse("it has no layers".into());
    }
    let max_layers = bramble_abi::regs::geometry::FIELD_MAX as usize;
    if model.layers.len() > max_layers {
        return refuse(format!(
            "{} layers; GEOMETRY[15:8] holds at most {max_layers}",
            model.layers.len()
        ));
    }
    let max_size = bramble_abi::regs::sizes::MAX;
    for (what, size) in [
        ("input.size", model.input.size),
        ("output size", model.output_size()),
    ] {
        if size == 0 || size > max_size {
            return refuse(format!(
                "{what} is {size}; the SIZES register holds 1..={max_size}"
            ));
        }
    }
    let a = model.input.format.bits;
    for l in &model.layers {
        if l.rows() == 0 || l.cols() == 0 {
            return refuse(format!(
                "layer `{}` is {}x{}; every layer needs at least one row and one column",
                l.name,
                l.rows(),
                l.cols()
            ));
        }
        if l.out.bits != a {
            return refuse(format!(
                "layer `{}`: act_bits {} differs from the input's {a}; the engine uses one activation width, so set act_bits once in `defaults`",
                l.name, l.out.bits
            ));
        }
    }
    let desc_max = LayerDesc::FIELD_MAX as usize;
    if let Some(l) = model
        .layers
        .iter()
        .find(|l| l.rows() > desc_max || l.cols() > desc_max)
    {
        return refuse(format!(
            "layer `{}` is {}x{}; a layer descriptor holds sizes up to {desc_max}",
            l.name,
            l.rows(),
            l.cols()
        ));
    }
    Ok(())
}

/// What the user pinned: a PE count (`--pes N`) and a gap width (`--gap-bits N`); `None` = search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request {
    pub pes: Option<usize>,
    pub gap_bits: Option<u32>,
    /// Where the weights live (`--weights`).
    pub weights: WeightsMode,
    /// Where the entry memories go (`--entry-ram`).
    pub entry_ram: EntryRam,
}

/// [`choose_with`] with only the PE count given (the entry format is searched).
pub fn choose(
    model: &Model,
    part: &'static Part,
    pes: Option<usize>,
) -> Result<(Geometry, Plan), String> {
    choose_with(
        model,
        part,
        Request {
            pes,
            ..Request::default()
        },
    )
}

/// The best entry format for `n` PEs among `widths`: the plan of the design-wide gap width that
/// needs the fewest RAMB36 tiles (ties: fewer entries, then the narrower gap), costed without
/// encoding, with every candidate and the reason in `formats` and `why`. Every layer takes the
/// design's width: the entry memory's word is `idx_bits + gap_bits` wide whatever a layer's gap,
/// and a wider gap never adds entries, so a narrower per-layer gap cannot save a tile.
fn best_format(
    model: &Model,
    part: &'static Part,
    n: usize,
    widths: &[u32],
    weights: WeightsMode,
    entry_ram: EntryRam,
) -> Result<Plan, String> {
    // [layer][width][pe]
    let counts: Vec<Vec<Vec<usize>>> = model
        .layers
        .iter()
        .map(|l| entry_counts(&l.weights, n, widths))
        .collect();
    let nnz: usize = model.layers.iter().map(|l| l.weights.nnz()).sum();
    let mut plans = Vec::new();
    for (wi, &b) in widths.iter().enumerate() {
        let per_pe: Vec<usize> = (0..n)
            .map(|k| counts.iter().map(|c| c[wi][k]).sum())
            .collect();
        let per_layer: Vec<usize> = counts.iter().map(|c| c[wi].iter().sum()).collect();
        let g = Geometry::sized(model, n, b, &per_pe, &per_layer);
        if let Some((field, v, max)) = g.layers.iter().find_map(LayerDesc::overflow) {
            return Err(format!(
                "network `{}` with {n} PEs: layer descriptor field {field} = {v} exceeds {max}; the engine cannot address this many entries",
                model.name
            ));
        }
        let entries: usize = per_layer.iter().sum();
        plans.push((
            plan_placed(part, &g, weights, entry_ram)?,
            entries,
            g.entry_depth,
        ));
    }
    let formats: Vec<FormatCandidate> = plans
        .iter()
        .map(|(p, entries, depth)| FormatCandidate {
            gap_bits: p.gap_bits,
            entry_bits: p.entry_bits,
            entries: *entries,
            padding_entries: entries - nnz,
            entry_depth: *depth,
            bram36_tiles: p.bram36_tiles,
            uram: p.uram,
            fits: p.fits,
        })
        .collect();
    // Fits first, then the least pressure on block RAM and URAM (the fewest RAMB36 tiles when the
    // entries are in block RAM), then fewer entries, then the narrower gap.
    let best_at = (0..plans.len())
        .min_by_key(|&i| {
            let (p, entries, _) = &plans[i];
            (!p.fits, pressure(p), *entries, p.gap_bits)
        })
        .expect("at least one width");
    let best = formats[best_at].clone();
    let mut p = plans.swap_remove(best_at).0;
    p.why = why(&best, &formats, p.part_bram36, p.part_uram);
    p.formats = formats;
    Ok(p)
}

/// The plan's "why" for the chosen format: the same key as the choice (fits, then the pressure on
/// block RAM and URAM, then fewer entries, then the narrower gap), in words.
fn why(
    best: &FormatCandidate,
    formats: &[FormatCandidate],
    part_bram36: u32,
    part_uram: u32,
) -> String {
    let b = best.gap_bits;
    let layers = format!(
        "every layer uses the design's {b} bits (the entry word is {} bits wide whatever a \
         layer's gap, and a wider gap never adds entries, so a narrower gap saves no tile)",
        best.entry_bits
    );
    let cost = |c: &FormatCandidate| {
        (
            !c.fits,
            pressure_of(c.bram36_tiles, part_bram36, c.uram, part_uram),
        )
    };
    let memory = |c: &FormatCandidate| {
        if c.uram > 0 {
            format!("{} RAMB36 tiles and {} URAM288", c.bram36_tiles, c.uram)
        } else {
            format!("{} RAMB36 tiles", c.bram36_tiles)
        }
    };
    if formats.len() == 1 {
        return format!(
            "gap {b} bits pinned by --gap-bits ({}, {} entries); {layers}",
            memory(best),
            best.entries
        );
    }
    let tied: Vec<&FormatCandidate> = formats.iter().filter(|c| cost(c) == cost(best)).collect();
    let least = if best.uram > 0 {
        "the least pressure on the part's block RAM and URAM (the larger of the two fractions used)"
    } else {
        "the fewest"
    };
    let mut s = format!(
        "gap {b} bits ({}-bit entries) needs {}, {least} of gap widths {}..={}{}",
        best.entry_bits,
        memory(best),
        formats.first().map_or(b, |c| c.gap_bits),
        formats.last().map_or(b, |c| c.gap_bits),
        if best.fits { "" } else { " (none fits)" },
    );
    if tied.len() > 1 {
        let others: Vec<String> = tied
            .iter()
            .filter(|c| c.gap_bits != b)
            .map(|c| c.gap_bits.to_string())
            .collect();
        let fewest = tied.iter().filter(|c| c.entries == best.entries).count() == 1;
        s += &format!(
            "; {} bits need as much, and {}",
            others.join(", "),
            if fewest {
                format!(
                    "{b} bits store the fewest entries of those ({})",
                    best.entries
                )
            } else {
                format!(
                    "of those storing the fewest entries ({}) {b} bits is the narrowest",
                    best.entries
                )
            }
        );
    }
    format!("{s}; {layers}")
}

/// Plan with a given PE count, or the largest that fits, each with its best entry format (or the
/// pinned one). When nothing fits: an error that says by how much the closest candidate (the
/// fewest RAMB36 tiles over, then DSP over) misses, per resource, and what would help.
pub fn choose_with(
    model: &Model,
    part: &'static Part,
    req: Request,
) -> Result<(Geometry, Plan), String> {
    check_target(model, part)?;
    let candidates = match req.pes {
        Some(n) if n == 0 || n > MAX_PES => {
            return Err(format!("--pes {n} is out of range; allowed 1..={MAX_PES}"))
        }
        Some(n) => vec![n],
        None => auto_candidates(model),
    };
    let widths: Vec<u32> = match req.gap_bits {
        Some(b) if !(MIN_GAP_BITS..=MAX_GAP_BITS).contains(&b) => {
            return Err(format!(
                "--gap-bits {b} is out of range; allowed {MIN_GAP_BITS}..={MAX_GAP_BITS}"
            ))
        }
        Some(b) => vec![b],
        None => (MIN_GAP_BITS..=MAX_GAP_BITS).collect(),
    };
    let considered = candidates.len() * widths.len();
    let mut closest: Option<Plan> = None;
    let over = |p: &Plan| {
        (
            p.bram36_tiles.saturating_sub(p.part_bram36 as usize)
                + p.uram.saturating_sub(p.part_uram as usize),
            p.dsp.saturating_sub(p.part_dsp as usize),
        )
    };
    for n in candidates {
        let p = best_format(model, part, n, &widths, req.weights, req.entry_ram)?;
        if p.fits {
            let g = Geometry::new(model, n, p.gap_bits);
            let mut full = plan_placed(part, &g, req.weights, req.entry_ram)?;
            assert_eq!(
                (full.bram36_tiles, full.uram, full.layers.clone()),
                (p.bram36_tiles, p.uram, p.layers.clone()),
                "internal error: the sized plan differs from the encoded one"
            );
            full.formats = p.formats;
            full.why = p.why;
            return Ok((g, full));
        }
        if closest.as_ref().is_none_or(|c| over(&p) < over(c)) {
            closest = Some(p);
        }
    }
    let p = closest.expect("at least one candidate");
    let bits: usize = model
        .layers
        .iter()
        .map(|l| l.weights.nnz() * (p.gap_bits + l.weight_bits) as usize)
        .sum();
    Err(format!(
        "network `{}` does not fit {}; the closest of {considered} candidate{} (PE counts x gap widths) \
         is {} PE{} with {}-bit gaps ({}-bit entries, {} RAMB36 tiles): {}. The weights need about {} KiB \
         of entries. What would help: more pruning (a higher `prune`), fewer `weight_bits` or \
         `codebook_bits`, fewer PEs (--pes), {}or a bigger part ({})",
        model.name,
        part.name,
        if considered == 1 { "" } else { "s" },
        p.pes,
        if p.pes == 1 { "" } else { "s" },
        p.gap_bits,
        p.entry_bits,
        p.bram36_tiles,
        p.over.join("; "),
        bits.div_ceil(8 * 1024),
        if part.uram > 0 && p.entry_ram != EntryRam::Ultra {
            format!(
                "the part's {} URAM288 for the entries (--weights runtime), ",
                part.uram
            )
        } else {
            String::new()
        },
        {
            let bigger: Vec<&str> = crate::parts::PARTS
                .iter()
                .filter(|q| q.bram36 > part.bram36 || q.uram > part.uram)
                .map(|q| q.name)
                .collect();
            if bigger.is_empty() {
                "none of the parts Bramble knows is bigger".to_string()
            } else {
                format!("e.g. {}", bigger.join(", "))
            }
        }
    ))
}
