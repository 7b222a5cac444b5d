//! `bramble generate`: the bundle (docs/bundle.md). Memory images from the EIE encoding, the
//! top level and testbench from askama templates, hand-written modules from hw/, the manifest,
//! plan and model; all written to a temporary directory and renamed into place.

use crate::error::{Error, Result};
use crate::golden;
use crate::ident::Ident;
use crate::model::Model;
use crate::parts::Part;
use crate::plan::{Geometry, Plan, WeightsMode};
use crate::stats::bits_for;
use askama::Template;
use std::fmt::Write as _;
use std::path::Path;

use bramble_abi::manifest::{FileEntry, Manifest, Port, MANIFEST_FILE};
use bramble_abi::regs::{self, REGMAP_VERSION as VERSION};

/// Hand-written, network-independent Verilog copied into every bundle.
pub const HW_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/hw_files.rs"));

/// Fields of templates/top.v (docs/template-context.md). Rust computes every number.
#[derive(Template)]
#[template(path = "top.v", escape = "none")]
pub struct TopTemplate {
    pub top: String,
    /// `top` in upper case: the prefix of the top's local macros.
    pub top_upper: String,
    pub network: String,
    pub pes: Vec<usize>,
    pub num_pes: usize,
    pub num_layers: usize,
    pub layer_bits: u32,
    pub act_bits: u32,
    pub idx_bits: u32,
    pub cb_bits: u32,
    pub acc_bits: u32,
    pub addr_bits: u32,
    pub in_size: usize,
    pub out_size: usize,
    /// AXI4-Stream TDATA bits, its MSB index, and the lane bits of the packing.
    pub tdata_bits: u32,
    pub tdata_msb: u32,
    pub lane_bits: u32,
    pub ptr_addr_bits: u32,
    pub ptr_depth: usize,
    pub ptr_bits: u32,
    pub row_bits: u32,
    pub in_buf_depth: usize,
    pub act_buf_depth: usize,
    pub out_buf_depth: usize,
    pub entry_depth: usize,
    pub entry_addr_bits: u32,
    pub bias_depth: usize,
    pub bias_addr_bits: u32,
    pub cb_depth: usize,
    pub acc_depth: usize,
    pub entry_block: u8,
    /// Run-time weights: the entry memory's word width (PairsPerWord pairs), pairs per word and
    /// style (`block`, `distributed`, `ultra`); `entry_depth` / `entry_addr_bits` then count its
    /// words.
    pub entry_width: u32,
    pub pairs_per_word: usize,
    pub entry_style: &'static str,
    pub ptr_block: u8,
    pub bias_block: u8,
    pub cb_block: u8,
    pub acc_block: u8,
    pub in_buf_block: u8,
    pub act_buf_block: u8,
    pub out_buf_block: u8,
    pub layers_block: u8,
    /// 1 = weights loaded at run time, 0 = in the bitstream; the same as a bool for the
    /// template's comments, and one line saying which.
    pub runtime: u8,
    pub runtime_weights: bool,
    pub weights_note: String,
    /// `32'h...`: the CRC-32 of the bundle's weight image (WHASH with weights in the bitstream).
    pub weights_crc: String,
    /// Loader bus address and data bits: the widest address and word of the PE memories (the
    /// layer table's address included).
    pub wl_addr_bits: u32,
    pub wl_data_bits: u32,
    /// HASH_LO / HASH_HI: the network hash, or the geometry hash with run-time weights.
    pub hash_lo: String,
    pub hash_hi: String,
}

/// Fields of templates/tb.v. Register offsets, bits, MAGIC and VERSION come from
/// `bramble_defs.vh`; GEOMETRY and SIZES are packed here by bramble-abi, as the host expects them.
#[derive(Template)]
#[template(path = "tb.v", escape = "none")]
pub struct TbTemplate {
    pub top: String,
    pub network: String,
    pub addr_bits: u32,
    pub in_size: usize,
    pub out_size: usize,
    pub in_base: usize,
    pub out_base: usize,
    /// Window words: activation i at word (i / num_pes) * bank_stride + i % num_pes.
    pub num_pes: usize,
    pub bank_stride: usize,
    pub num_inputs: usize,
    /// AXI4-Stream TDATA bits and lane bits of the packing.
    pub tdata_bits: u32,
    pub lane_bits: u32,
    /// The STREAM register the testbench expects.
    pub stream_format: String,
    pub geometry: String,
    pub sizes: String,
    pub hash_lo: String,
    pub hash_hi: String,
    /// Run-time weights: the testbench loads `weights_file` (`weights_words` image words) first,
    /// once corrupted and once intact, and checks WSTATUS, WWORDS and WHASH; otherwise it checks
    /// WSTATUS and WHASH (`weights_crc`) as constants.
    pub runtime_weights: bool,
    pub weights_crc: String,
    pub weights_words: usize,
    pub weights_file: String,
    pub tb_input_file: String,
    pub tb_expected_file: String,
    pub tb_seed: u32,
    pub tb_timeout_cycles: u64,
}

/// `ceil(log2(n))`, at least 1: address bits for `n` words.
pub fn addr_bits_for(n: usize) -> u32 {
    bits_for(n.saturating_sub(1) as u64)
}

/// The register map's window size and AXI address width (bramble-abi's rule, which the host
/// derives from the same sizes).
pub fn windows(in_size: usize, out_size: usize, pes: usize) -> (usize, u32) {
    let w = bramble_abi::regs::window_bytes(in_size, out_size, pes);
    (w as usize, bramble_abi::regs::addr_bits(w))
}

fn hex32(v: u32) -> String {
    format!("32'h{v:08X}")
}

fn block(b: bool) -> u8 {
    u8::from(b)
}

impl TopTemplate {
    /// The Vivado interface attributes of top-level port `port` (docs/vivado.md "Interface
    /// attributes"), one per line, indented for the port list; empty for a port without any.
    pub fn attrs(&self, port: &str) -> String {
        crate::vivado::interface_attributes()
            .into_iter()
            .find(|(p, _)| p == port)
            .map(|(_, lines)| lines.iter().map(|l| format!("{l}\n  ")).collect::<String>())
            .unwrap_or_default()
    }

    /// `ident` is HASH_HI:HASH_LO ([`bramble_abi::manifest::Manifest::rtl_hash_u64`]) and
    /// `weights_crc` the weight image's CRC.
    pub fn new(
        model: &Model,
        g: &Geometry,
        plan: &Plan,
        top: &Ident,
        packing: &bramble_abi::stream::Packing,
        ident: u64,
        weights_crc: u32,
    ) -> TopTemplate {
        let style = |name: &str| {
            plan.memories
                .iter()
                .find(|m| m.name == name)
                .is_some_and(|m| m.block())
        };
        let (_, addr_bits) = windows(model.input.size, model.output_size(), g.pes);
        let ptr_depth = (g.ptr_words / 2).max(1);
        let hash = ident;
        let runtime = plan.weights == WeightsMode::Runtime;
        let (entry_depth, entry_width) = if runtime {
            (crate::plan::entry_words(g), crate::plan::entry_word_bits(g))
        } else {
            (g.entry_depth, g.entry_bits)
        };
        let shape = |m| crate::weight_image::shape(g, m).expect("every memory has a shape");
        // The PEs slice the bus by their own address widths (with weights in the bitstream the
        // entry address counts entries, not pair words; the codebook's is LayerBits + IdxBits,
        // one more than its depth needs with a single layer).
        let wl_addr_bits = bramble_abi::weights::Mem::ALL
            .into_iter()
            .map(|m| addr_bits_for(shape(m).depth as usize))
            .chain([
                addr_bits_for(entry_depth),
                addr_bits_for(g.num_layers()) + g.idx_bits,
            ])
            .max()
            .unwrap_or(1);
        let wl_data_bits = bramble_abi::weights::Mem::ALL
            .into_iter()
            .filter(|m| m.per_pe())
            .map(|m| shape(m).width)
            .max()
            .unwrap_or(1);
        TopTemplate {
            top: top.to_string(),
            top_upper: top.to_string().to_uppercase(),
            network: model.name.to_string(),
            pes: (0..g.pes).collect(),
            num_pes: g.pes,
            num_layers: g.num_layers(),
            layer_bits: addr_bits_for(g.num_layers()),
            act_bits: g.act_bits,
            idx_bits: g.idx_bits,
            cb_bits: g.cb_bits,
            acc_bits: g.acc_bits,
            addr_bits,
            in_size: model.input.size,
            out_size: model.output_size(),
            tdata_bits: packing.tdata_bits(),
            tdata_msb: packing.tdata_bits() - 1,
            lane_bits: packing.lane_bits(),
            ptr_addr_bits: addr_bits_for(ptr_depth),
            ptr_depth,
            ptr_bits: g.ptr_bits,
            row_bits: g.row_bits(),
            in_buf_depth: g.in_bank_depth,
            // A and B exist only with two layers or more; the parameter is still legal without.
            act_buf_depth: g.mid_buf_depth.max(1),
            out_buf_depth: g.out_bank_depth,
            entry_depth,
            entry_addr_bits: addr_bits_for(entry_depth),
            entry_width,
            pairs_per_word: crate::plan::entry_pairs_per_word(g),
            // The planner's style: "block", "distributed" or "ultra" (URAM288, run-time weights).
            entry_style: plan
                .memories
                .iter()
                .find(|m| m.name == "entries")
                .map_or("distributed", |m| m.style),
            bias_depth: g.bias_depth,
            bias_addr_bits: addr_bits_for(g.bias_depth),
            cb_depth: g.cb_depth,
            acc_depth: g.acc_depth,
            entry_block: block(style("entries")),
            ptr_block: block(style("ptr_even")),
            bias_block: block(style("bias")),
            cb_block: block(style("codebook")),
            acc_block: block(style("accumulators")),
            in_buf_block: block(style("in_buf")),
            act_buf_block: block(style("act_buf_a")),
            out_buf_block: block(style("out_buf")),
            layers_block: block(style("layers")),
            runtime: u8::from(runtime),
            runtime_weights: runtime,
            weights_note: if runtime {
                "loaded at run time (WCTRL.LOAD, weights/weights.bin); no memory images, \
                 HASH_HI:HASH_LO is the geometry hash."
                    .into()
            } else {
                "in the bitstream (memory images rtl/*.mem); WHASH is the weight image's CRC."
                    .into()
            },
            weights_crc: hex32(weights_crc),
            wl_addr_bits,
            wl_data_bits,
            hash_lo: hex32(hash as u32),
            hash_hi: hex32((hash >> 32) as u32),
        }
    }
}

/// Hex word of `v` at `width` bits (two's complement for negatives).
fn hex_word(out: &mut String, v: i128, width: u32) {
    let digits = width.div_ceil(4) as usize;
    let mask = if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    let _ = writeln!(out, "{:0digits$x}", (v as u128) & mask);
}

/// One memory image: its words (signed values as the model holds them, padded with zeros to
/// `depth`) and the width they are stored at. The `.mem` files and the HLS parameter headers are
/// both rendered from these words, so there is one encoding behind both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// File name inside `rtl/`, e.g. `pe0_entries.mem`.
    pub file: String,
    pub width: u32,
    /// Exactly `depth` words.
    pub words: Vec<i128>,
}

impl Image {
    fn new(
        file: String,
        values: impl IntoIterator<Item = i128>,
        depth: usize,
        width: u32,
    ) -> Image {
        let mut words: Vec<i128> = values.into_iter().collect();
        assert!(
            words.len() <= depth,
            "internal error: {} words for a memory of depth {depth}",
            words.len()
        );
        words.resize(depth, 0);
        Image { file, width, words }
    }

    /// The `$readmemh` text: one hex word per line, two's complement at `width`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for &v in &self.words {
            hex_word(&mut s, v, self.width);
        }
        s
    }
}

/// One PE's memory images.
#[derive(Debug, Clone)]
pub struct PeImages {
    pub entries: Image,
    pub ptr_even: Image,
    pub ptr_odd: Image,
    pub bias: Image,
}

/// Every memory image of the bundle, as words (docs/sparse-format.md).
#[derive(Debug, Clone)]
pub struct Images {
    pub pes: Vec<PeImages>,
    pub codebook: Image,
    pub layers: Image,
}

impl Images {
    /// In file order: per PE entries, pointer banks, bias; then the codebook and descriptors.
    pub fn all(&self) -> impl Iterator<Item = &Image> {
        self.pes
            .iter()
            .flat_map(|p| [&p.entries, &p.ptr_even, &p.ptr_odd, &p.bias])
            .chain([&self.codebook, &self.layers])
    }
}

/// PE `k`'s bias memory (`pe{k}_bias.mem`), layers concatenated from each layer's `bias_base`:
/// local row `r` of layer `l` holds `b_q[i] + 2^(s_l - 1)` for output row `i = r * N + k` (just
/// `b_q[i]` when `s_l == 0`), and 0 past the layer's last row.
///
/// The rounding constant of docs/numerics.md is folded in here, once, so the write-back adds a
/// single word to the accumulator (RTL `bramble_pe_wb`, HLS `requantize`) and then only shifts.
/// The accumulator bound counts `|b_q[i]| + 2^(s_l - 1)`, so the word fits `acc_bits_l` and the
/// sum is the golden model's `acc + 2^(s_l - 1)` exactly. This is the only place that builds
/// bias words: whatever loads biases into the engine (bundle images, HLS arrays) uses it.
pub fn bias_words(model: &Model, g: &Geometry, k: usize) -> Vec<i128> {
    let n = g.pes;
    let mut words = Vec::with_capacity(g.bias_depth);
    for (l, layer) in model.layers.iter().enumerate() {
        debug_assert_eq!(words.len() as u64, g.layers[l].bias_base);
        let s = model.shift(l);
        let round = if s == 0 { 0 } else { 1i128 << (s - 1) };
        for r in 0..layer.rows().div_ceil(n) {
            let i = r * n + k;
            words.push(if i < layer.rows() {
                layer.bias[i] as i128 + round
            } else {
                0
            });
        }
    }
    words
}

/// Every memory image of the bundle, from the EIE encoding in `g`.
pub fn memory_words(model: &Model, g: &Geometry) -> Images {
    let n = g.pes;
    let ptr_depth = (g.ptr_words / 2).max(1);
    let mut pes = Vec::with_capacity(n);
    for k in 0..n {
        let slices = &g.slices[k];
        // Entries, layers concatenated.
        let mut entries = Vec::new();
        let mut ptrs = Vec::with_capacity(g.ptr_words);
        for (l, s) in slices.iter().enumerate() {
            let base = entries.len() as i128;
            debug_assert_eq!(ptrs.len() as u64, g.layers[l].ptr_base);
            ptrs.extend(s.ptr.iter().map(|&p| base + p as i128));
            if ptrs.len() % 2 == 1 {
                ptrs.push(*ptrs.last().unwrap());
            }
            entries.extend(s.entries.iter().map(|e| {
                regs::entry::pack(e.z.into(), e.code.into(), g.idx_bits, g.gap_bits) as i128
            }));
        }
        let even = ptrs.iter().step_by(2).copied();
        let odd = ptrs.iter().skip(1).step_by(2).copied();
        let bias = bias_words(model, g, k);
        pes.push(PeImages {
            entries: Image::new(
                format!("pe{k}_entries.mem"),
                entries,
                g.entry_depth,
                g.entry_bits,
            ),
            ptr_even: Image::new(format!("pe{k}_ptr_even.mem"), even, ptr_depth, g.ptr_bits),
            ptr_odd: Image::new(format!("pe{k}_ptr_odd.mem"), odd, ptr_depth, g.ptr_bits),
            bias: Image::new(format!("pe{k}_bias.mem"), bias, g.bias_depth, g.acc_bits),
        });
    }
    let mut cb = Vec::new();
    for layer in &model.layers {
        for idx in 0..(1usize << g.idx_bits) {
            cb.push(layer.codebook.get(idx).copied().unwrap_or(0) as i128);
        }
    }
    // The planner has checked every field against the layout (`LayerDesc::overflow`).
    let descs = g.layers.iter().map(|d| d.pack() as i128);
    Images {
        pes,
        codebook: Image::new("codebook.mem".into(), cb, g.cb_depth, g.cb_bits),
        layers: Image::new(
            "layers.mem".into(),
            descs,
            g.num_layers(),
            regs::layer_desc::WIDTH,
        ),
    }
}

/// Every memory image of the bundle: (file name, contents).
pub fn memory_images(model: &Model, g: &Geometry) -> Vec<(String, String)> {
    memory_words(model, g)
        .all()
        .map(|i| (i.file.clone(), i.text()))
        .collect()
}

/// Options of `bramble generate`.
pub struct Options {
    /// Testbench inputs (quantised); `None` = deterministic random ones.
    pub tb_inputs: Option<Vec<Vec<i64>>>,
    /// Number of random testbench vectors when `tb_inputs` is `None` (1..=[`MAX_TB_COUNT`]).
    pub tb_count: usize,
    /// TDATA width of the AXI4-Stream ports, 32 or 64 ([`bramble_abi::stream::TDATA_BITS`]).
    pub tdata_bits: u32,
    /// The board of `vivado/build.tcl` and the overlay (`--board`); `None`: only the
    /// board-independent Vivado scripts.
    pub board: Option<&'static crate::boards::Board>,
    /// Accelerator clock of the Vivado scripts (MHz), checked by [`crate::boards::clock_mhz`].
    pub clock_mhz: u32,
    /// Where the weights live (`--weights`); the plan must have been made for the same mode
    /// ([`crate::plan::choose_with`]).
    pub weights: WeightsMode,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            tb_inputs: None,
            tb_count: 1,
            tdata_bits: bramble_abi::stream::DEFAULT_TDATA_BITS,
            board: None,
            clock_mhz: crate::boards::DEFAULT_MHZ,
            weights: WeightsMode::Bitstream,
        }
    }
}

/// Most testbench vectors a bundle carries (each is simulated under two simulators by `verify`).
pub const MAX_TB_COUNT: usize = 10_000;

/// A bundle in memory: every file with its path relative to the bundle directory (the manifest
/// last), and the manifest itself. [`crate::fsutil::replace_dir`] writes it.
pub struct Bundle {
    pub manifest: Manifest,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Top module name for a network.
pub fn top_name(model: &Model) -> Ident {
    Ident::new(&format!("{}_top", model.name))
        .unwrap_or_else(|_| Ident::new("bramble_top").expect("valid"))
}

/// Deterministic test inputs: a mix of zeros, small values and values at both rails.
pub fn random_inputs(model: &Model, count: usize, seed: u64) -> Vec<Vec<i64>> {
    let bits = model.input.format.bits;
    let hi = (1i64 << (bits - 1)) - 1;
    let lo = -(1i64 << (bits - 1));
    let mut rng = bramble_abi::rng::Rng::new(seed);
    (0..count)
        .map(|v| {
            (0..model.input.size)
                .map(|_| match (v, rng.int(0, 7)) {
                    (0, _) => 0,                          // the first vector is all zeros
                    (1, r) => [hi, lo][(r % 2) as usize], // the second saturates
                    (_, 0..=2) => 0,
                    (_, 3) => hi,
                    (_, 4) => lo,
                    _ => rng.int(lo, hi),
                })
                .collect()
        })
        .collect()
}

fn render(t: &impl Template, name: &str) -> Result<String> {
    let mut text = t.render().map_err(|e| Error::Template {
        template: name.into(),
        message: e.to_string(),
    })?;
    // askama drops the template's final newline; generated files end with one.
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// The bundle for `model` with geometry `g` and plan `plan`, in memory. The model has passed
/// [`crate::plan::check_target`] (through [`crate::plan::choose`]).
pub fn generate(
    model: &Model,
    part: &Part,
    g: &Geometry,
    plan: &Plan,
    opts: &Options,
) -> Result<Bundle> {
    generate_with(model, part, g, plan, opts, None)
}

/// [`generate`], plus the HLS kernel under `hls/` when `hls` is given (docs/hls.md).
pub fn generate_with(
    model: &Model,
    part: &Part,
    g: &Geometry,
    plan: &Plan,
    opts: &Options,
    hls: Option<&crate::hls::HlsOptions>,
) -> Result<Bundle> {
    let top = top_name(model);
    if plan.weights != opts.weights {
        return Err(Error::Plan(format!(
            "internal error: the plan was made for weights in the {}, the bundle asks for {}",
            plan.weights.name(),
            opts.weights.name()
        )));
    }
    let runtime = opts.weights == WeightsMode::Runtime;
    if runtime && hls.is_some() {
        return Err(Error::Plan(
            "--hls with --weights runtime: the HLS kernel keeps its weights in its own arrays \
             and has no weight loader; generate the HLS kernel from a bundle with --weights \
             bitstream (the default)"
                .into(),
        ));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let packing = bramble_abi::stream::Packing::new(opts.tdata_bits, g.act_bits)
        .map_err(|e| Error::Plan(format!("--tdata-bits: {e}")))?;
    let words = memory_words(model, g);
    let weight_image = crate::weight_image::image(g, &words, opts.tdata_bits);
    let geometry_hash = crate::weight_image::geometry_hash(g, part.name, opts.tdata_bits);
    // HASH_HI:HASH_LO: what `Manifest::rtl_hash_u64` expects for this mode.
    let ident = if runtime {
        u64::from_str_radix(&geometry_hash, 16).expect("16 hex digits")
    } else {
        model.hash()
    };
    let top_t = TopTemplate::new(model, g, plan, &top, &packing, ident, weight_image.crc);
    let mut rtl_files = Vec::new();
    for (name, text) in HW_FILES {
        files.push((format!("rtl/{name}"), text.as_bytes().to_vec()));
        rtl_files.push(name.to_string());
    }
    // The include every hw/ module, the top and the testbench read; not a compilation unit.
    files.push((
        format!("rtl/{}", bramble_abi::verilog::DEFS_FILE),
        bramble_abi::verilog::defs(g.gap_bits).into_bytes(),
    ));
    let top_file = format!("{top}.v");
    files.push((
        format!("rtl/{top_file}"),
        render(&top_t, "top.v")?.into_bytes(),
    ));
    rtl_files.push(top_file);
    // With run-time weights every memory image is in the weight image instead.
    let mut images = Vec::new();
    if !runtime {
        for image in words.all() {
            files.push((format!("rtl/{}", image.file), image.text().into_bytes()));
            images.push(image.file.clone());
        }
    }
    files.push((
        crate::weight_image::IMAGE_FILE.into(),
        weight_image.to_bytes(),
    ));

    // Testbench: stimulus, golden outputs, and the generated bench.
    let inputs = opts
        .tb_inputs
        .clone()
        .unwrap_or_else(|| random_inputs(model, opts.tb_count, model.hash()));
    let expected: Vec<Vec<i64>> = inputs.iter().map(|x| golden::run(model, x)).collect();
    let mut tin = String::new();
    let mut texp = String::new();
    for (x, y) in inputs.iter().zip(&expected) {
        for &v in x {
            hex_word(&mut tin, v as i128, 32);
        }
        for &v in y {
            hex_word(&mut texp, v as i128, 32);
        }
    }
    files.push(("tb/tb_input.mem".into(), tin.into_bytes()));
    files.push(("tb/tb_expected.mem".into(), texp.into_bytes()));
    if runtime {
        // The weight image as `$readmemh` words for the testbench's loads.
        let mut tw = String::new();
        for &w in &weight_image.words {
            let _ = writeln!(tw, "{w:08x}");
        }
        files.push(("tb/tb_weights.mem".into(), tw.into_bytes()));
    }
    let (window, addr_bits) = windows(model.input.size, model.output_size(), g.pes);
    let tb_t = TbTemplate {
        top: top.to_string(),
        network: model.name.to_string(),
        addr_bits,
        in_size: model.input.size,
        out_size: model.output_size(),
        in_base: window,
        out_base: 2 * window,
        num_pes: g.pes,
        bank_stride: regs::bank_stride(g.pes) as usize,
        num_inputs: inputs.len(),
        tdata_bits: packing.tdata_bits(),
        lane_bits: packing.lane_bits(),
        stream_format: hex32(regs::stream_format(
            packing.tdata_bits(),
            packing.lane_bits(),
        )),
        geometry: hex32(regs::geometry::pack(
            g.pes as u32,
            g.num_layers() as u32,
            g.act_bits,
        )),
        sizes: hex32(regs::sizes::pack(model.input.size, model.output_size())),
        hash_lo: hex32(ident as u32),
        hash_hi: hex32((ident >> 32) as u32),
        runtime_weights: runtime,
        weights_crc: hex32(weight_image.crc),
        weights_words: weight_image.words.len(),
        weights_file: "../tb/tb_weights.mem".into(),
        tb_input_file: "../tb/tb_input.mem".into(),
        tb_expected_file: "../tb/tb_expected.mem".into(),
        tb_seed: (model.hash() >> 7) as u32 & 0x7fff_ffff,
        // Watchdog (docs/template-context.md): reset-time clear and ID checks, then ~80 clocks
        // per AXI word and 4 clocks per (input, local row) pair per layer, very generous.
        tb_timeout_cycles: 200_000
            + if runtime {
                4 * weight_image.words.len() as u64
            } else {
                0
            }
            + inputs.len() as u64
                * (80 * (model.input.size + model.output_size()) as u64
                    + g.layers
                        .iter()
                        .map(|d| 4 * d.in_size * d.out_size.div_ceil(g.pes as u64) + 200)
                        .sum::<u64>()),
    };
    files.push((
        format!("tb/{top}_tb.v"),
        render(&tb_t, "tb.v")?.into_bytes(),
    ));
    if let Some(h) = hls {
        let c = crate::hls::HlsContext::new(model, part, g, plan, &words, &top, h, inputs.len())?;
        let packing = bramble_abi::stream::Packing::new(h.tdata_bits, g.act_bits)
            .map_err(|e| Error::Plan(format!("--tdata-bits: {e}")))?;
        files.extend(crate::hls::files(&c, &packing, &inputs, &expected)?);
    }
    let packing = bramble_abi::stream::Packing::new(opts.tdata_bits, g.act_bits)
        .map_err(|e| Error::Plan(format!("--tdata-bits: {e}")))?;
    let verilog: Vec<String> = rtl_files.clone();
    let vc = crate::vivado::VivadoContext::new(
        &top,
        &model.name,
        model.hash_hex(),
        part,
        opts.board,
        opts.clock_mhz,
        &packing,
        model.input.size,
        model.output_size(),
        addr_bits,
        verilog,
        images.clone(),
    );
    files.extend(crate::vivado::files(&vc)?);
    let mut pj = serde_json::to_string_pretty(plan).expect("plan serialises");
    pj.push('\n');
    files.push(("plan.json".into(), pj.into_bytes()));
    files.push(("model.json".into(), model.canonical_bytes()));

    let (input, output, layers) = manifest_network(model, g);
    let manifest = Manifest {
        format: bramble_abi::manifest::FORMAT.into(),
        format_version: bramble_abi::manifest::FORMAT_VERSION,
        name: model.name.to_string(),
        top: top.to_string(),
        part: part.name.to_string(),
        family: part.family.name().to_string(),
        pes: g.pes as u32,
        network_hash: model.hash_hex(),
        regmap_version: VERSION,
        act_bits: g.act_bits,
        tdata_bits: opts.tdata_bits,
        gap_bits: g.gap_bits,
        input,
        output,
        layers,
        weights: bramble_abi::manifest::Weights {
            mode: opts.weights.name().into(),
            image: crate::weight_image::IMAGE_FILE.into(),
            crc32: format!("{:08x}", weight_image.crc),
            geometry_hash,
            weights_only: false,
            memories: crate::weight_image::manifest_memories(g),
        },
        rtl_files,
        memory_images: images,
        files: files
            .iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                sha256: bramble_abi::manifest::sha256_hex(bytes),
            })
            .collect(),
    };
    // The generator's own output must pass the host's checks; failing here is a bug.
    manifest
        .validate(Path::new(MANIFEST_FILE))
        .map_err(|e| Error::Plan(format!("internal error: generated manifest invalid: {e}")))?;
    files.push((MANIFEST_FILE.into(), manifest.to_json().into_bytes()));
    Ok(Bundle { manifest, files })
}

/// The network's part of a manifest: the input and output ports and the layers (with the entry
/// format of geometry `g`). Shared by full bundles and weights-only bundles (`--geometry-of`).
pub(crate) fn manifest_network(
    model: &Model,
    g: &Geometry,
) -> (Port, Port, Vec<bramble_abi::manifest::Layer>) {
    let port = |size, f: crate::model::Format| Port {
        size,
        bits: f.bits,
        frac_bits: f.frac_bits,
    };
    let layers = model
        .layers
        .iter()
        .enumerate()
        .map(|(l, layer)| bramble_abi::manifest::Layer {
            name: layer.name.to_string(),
            inputs: layer.cols(),
            outputs: layer.rows(),
            relu: layer.activation == crate::model::Activation::Relu,
            in_frac: model.in_format(l).frac_bits,
            out_frac: layer.out.frac_bits,
            nonzeros: layer.weights.nnz(),
            gap_bits: g.formats[l].gap_bits,
            entries: g.formats[l].entries,
        })
        .collect();
    (
        port(model.input.size, model.input.format),
        port(model.output_size(), model.output()),
        layers,
    )
}

impl Bundle {
    /// Writes the bundle to `out` all or nothing (the one writer, [`crate::fsutil::replace_dir`]);
    /// an existing `out` is replaced only with `force` and only if it is a bundle.
    pub fn write(&self, out: &Path, force: bool) -> Result<()> {
        Ok(crate::fsutil::replace_dir(
            out,
            &self.files,
            force,
            is_bundle,
            "a bramble bundle (no manifest.json with format `bramble-bundle`)",
        )?)
    }
}

/// True when `dir` holds a bundle written by `generate` (the only thing `--force` replaces).
pub fn is_bundle(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(MANIFEST_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["format"] == bramble_abi::manifest::FORMAT)
}
