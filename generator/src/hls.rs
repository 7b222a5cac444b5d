//! `bramble generate --hls`: the EIE engine as a Vitis HLS C++ kernel (docs/hls.md). The kernel,
//! its parameter header (the memory images as constant arrays, from the same words as the `.mem`
//! files), a testbench and a driver, a Vitis HLS Tcl script and a Makefile, all under `hls/`.
//! Rust computes every number and every line of data; the templates in `templates/hls/` hold
//! structure only.

use crate::error::{Error, Result};
use crate::generate::{Image, Images};
use crate::ident::Ident;
use crate::model::Model;
use crate::parts::Part;
use crate::plan::{Geometry, Plan, FIFO_DEPTH};
use askama::Template;
use bramble_abi::stream::{Packing, DEFAULT_TDATA_BITS};

/// Options of the HLS output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlsOptions {
    /// AXI4-Stream TDATA width, 32 or 64 (bramble_abi::stream::TDATA_BITS).
    pub tdata_bits: u32,
}

impl Default for HlsOptions {
    fn default() -> HlsOptions {
        HlsOptions {
            tdata_bits: DEFAULT_TDATA_BITS,
        }
    }
}

/// The directory of the HLS files inside a bundle.
pub const HLS_DIR: &str = "hls";
/// The driver `bramble csim` builds with the kernel.
pub const DRIVER_FILE: &str = "driver.cpp";
/// Testbench stimulus and expected outputs, as beats.
pub const TB_INPUT_BEATS: &str = "tb_input.beats";
pub const TB_EXPECTED_BEATS: &str = "tb_expected.beats";
/// Target clock period of build.tcl (200 MHz, the frequency the benchmarks quote).
pub const CLOCK_NS: u32 = 5;
/// Values per line of a rendered array.
const PER_LINE: usize = 16;

/// The kernel's source files inside `hls/`, in compile order (the driver or testbench is added).
pub fn kernel_sources(top: &str) -> [String; 3] {
    [
        format!("{top}.cpp"),
        format!("{top}.h"),
        format!("{top}_params.h"),
    ]
}

/// One storage pragma pair: partition by PE (first dimension) and bind to the planned memory.
#[derive(Debug, Clone)]
pub struct Storage {
    pub variable: &'static str,
    pub partition: bool,
    /// `rom_1p`, `rom_2p` or `ram_s2p`.
    pub kind: &'static str,
    /// `bram` or `lutram` (the plan's block or distributed).
    pub storage: &'static str,
    pub comment: String,
}

/// One array of the parameter header: a PE's image as lines of C++ literals.
#[derive(Debug, Clone)]
pub struct Array {
    pub pe: usize,
    pub file: String,
    pub lines: Vec<String>,
}

/// Fields of templates/hls/kernel.h, kernel.cpp, params.h, tb.cpp, driver.cpp, build.tcl and
/// Makefile (one context; each template uses what it needs).
#[derive(Debug, Clone)]
pub struct HlsContext {
    pub top: String,
    pub network: String,
    pub hash: String,
    pub full_part: String,
    pub clock_ns: u32,
    pub num_pes: usize,
    pub num_layers: usize,
    pub in_size: usize,
    pub out_size: usize,
    pub max_in: usize,
    pub act_bits: u32,
    pub cb_bits: u32,
    pub prod_bits: u32,
    pub acc_bits: u32,
    pub idx_bits: u32,
    pub idx_mask: u32,
    /// The design's row-gap width (the plan's choice) and its mask.
    pub gap_bits: u32,
    pub gap_mask: u32,
    pub cb_stride: usize,
    pub entry_bits: u32,
    pub ptr_bits: u32,
    pub entry_depth: usize,
    pub ptr_depth: usize,
    pub bias_depth: usize,
    pub cb_depth: usize,
    pub acc_depth: usize,
    pub in_buf_depth: usize,
    pub act_buf_depth: usize,
    pub fifo_depth: usize,
    pub act_min: i64,
    pub act_max: i64,
    pub act_ctype: &'static str,
    pub cb_ctype: &'static str,
    pub prod_ctype: &'static str,
    pub acc_ctype: &'static str,
    pub entry_ctype: &'static str,
    pub ptr_ctype: &'static str,
    pub tdata_ctype: &'static str,
    pub keep_all: String,
    pub tdata_bits: u32,
    pub lane_bits: u32,
    pub lanes: usize,
    pub in_beats: usize,
    pub out_beats: usize,
    pub lane_mask: String,
    pub act_mask: String,
    pub act_sign: String,
    /// The buffer holding the last layer's output (`act_a` or `act_b`).
    pub out_buf: &'static str,
    pub mac_max: usize,
    pub storage: Vec<Storage>,
    pub layers: Vec<String>,
    pub entries: Vec<Array>,
    pub ptr_even: Vec<Array>,
    pub ptr_odd: Vec<Array>,
    pub bias: Vec<Array>,
    pub codebook: Vec<Array>,
    pub num_inputs: usize,
}

macro_rules! hls_template {
    ($name:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $name<'a> {
            c: &'a HlsContext,
        }
        impl std::ops::Deref for $name<'_> {
            type Target = HlsContext;
            fn deref(&self) -> &HlsContext {
                self.c
            }
        }
    };
}
hls_template!(KernelH, "hls/kernel.h");
hls_template!(KernelCpp, "hls/kernel.cpp");
hls_template!(ParamsH, "hls/params.h");
hls_template!(TbCpp, "hls/tb.cpp");
hls_template!(DriverCpp, "hls/driver.cpp");
hls_template!(BuildTcl, "hls/build.tcl");
hls_template!(Makefile, "hls/Makefile");

/// The smallest `<cstdint>` type holding `bits` (signed or not).
fn ctype(bits: u32, signed: bool) -> &'static str {
    match (bits, signed) {
        (0..=8, true) => "int8_t",
        (9..=16, true) => "int16_t",
        (17..=32, true) => "int32_t",
        (_, true) => "int64_t",
        (0..=8, false) => "uint8_t",
        (9..=16, false) => "uint16_t",
        (17..=32, false) => "uint32_t",
        (_, false) => "uint64_t",
    }
}

/// The full part name Vitis HLS's `set_part` needs for a part of the plan (the board the part
/// table names), or the name itself when it already carries a package.
pub fn full_part(part: &str) -> String {
    let known = [
        ("xc7z020", "xc7z020clg400-1"),
        ("xc7z045", "xc7z045ffg900-2"),
        ("xczu3eg", "xczu3eg-sbva484-1-i"),
        ("xczu9eg", "xczu9eg-ffvb1156-2-e"),
        ("xcu250", "xcu250-figd2104-2L-e"),
        ("xcu55c", "xcu55c-fsvh2892-2L-e"),
    ];
    known
        .iter()
        .find(|(short, _)| *short == part)
        .map_or_else(|| part.to_string(), |(_, full)| full.to_string())
}

/// `values` as lines of `PER_LINE` comma-terminated C++ literals.
fn lines(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let v: Vec<String> = values.into_iter().collect();
    v.chunks(PER_LINE)
        .map(|c| {
            c.iter()
                .map(|s| format!("{s},"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn decimal(image: &Image) -> Vec<String> {
    lines(image.words.iter().map(|w| w.to_string()))
}

fn hex(image: &Image) -> Vec<String> {
    let digits = image.width.div_ceil(4) as usize;
    lines(
        image
            .words
            .iter()
            .map(|&w| format!("0x{:0digits$x}", w as u128)),
    )
}

fn arrays(images: &Images, pick: impl Fn(usize, &Images) -> (String, Vec<String>)) -> Vec<Array> {
    (0..images.pes.len())
        .map(|pe| {
            let (file, lines) = pick(pe, images);
            Array { pe, file, lines }
        })
        .collect()
}

/// The storage pragmas: every memory of the plan the kernel has, bound as the plan chose.
fn storage(plan: &Plan) -> Vec<Storage> {
    // (plan memory, kernel variable, partitioned by PE, HLS memory type). The images are ROMs in
    // the kernel (constant arrays). The kernel reads one entry per PE per step, so the entry
    // memory is single-ported here; the RTL's second read port serves its two-entry streamer.
    let table: [(&str, &str, bool, &str); 10] = [
        ("entries", "ENTRIES", true, "rom_1p"),
        ("ptr_even", "PTR_EVEN", true, "rom_1p"),
        ("ptr_odd", "PTR_ODD", true, "rom_1p"),
        ("bias", "BIAS", true, "rom_1p"),
        ("codebook", "CODEBOOK", true, "rom_1p"),
        ("layers", "LAYERS", false, "rom_1p"),
        ("accumulators", "acc", true, "ram_s2p"),
        ("in_buf", "in_buf", true, "ram_s2p"),
        ("act_buf_a", "act_a", true, "ram_s2p"),
        ("act_buf_b", "act_b", true, "ram_s2p"),
    ];
    table
        .iter()
        .filter_map(|&(name, variable, partition, kind)| {
            let find = |n: &str| plan.memories.iter().find(|m| m.name == n);
            // The RTL's last layer writes its own OUT buffer, so the plan has no A (one layer)
            // or no B (two layers) where the kernel's output buffer is act_a / act_b: that
            // buffer takes the style of the plan's out_buf.
            let m = find(name).or_else(|| match name {
                "act_buf_a" => find("out_buf"),
                "act_buf_b" if find("act_buf_a").is_some() => find("out_buf"),
                _ => None,
            })?;
            Some(Storage {
                variable,
                partition,
                kind,
                storage: if m.block() { "bram" } else { "lutram" },
                comment: format!(
                    "{}, {}: {} x {} words of {} bits, {}",
                    m.name,
                    m.holds,
                    m.instances,
                    m.depth,
                    m.width,
                    if m.block() { "block RAM" } else { "LUT RAM" },
                ),
            })
        })
        .collect()
}

impl HlsContext {
    /// The context for `model` as planned (`g`, `plan`), with the memory images `images` and
    /// `num_inputs` test vectors.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Model,
        part: &Part,
        g: &Geometry,
        plan: &Plan,
        images: &Images,
        top: &Ident,
        opts: &HlsOptions,
        num_inputs: usize,
    ) -> Result<HlsContext> {
        let packing = Packing::new(opts.tdata_bits, g.act_bits)
            .map_err(|e| Error::Plan(format!("network `{}`: --tdata-bits: {e}", model.name)))?;
        let a = g.act_bits;
        let prod_bits = a + g.cb_bits;
        let layers = g
            .layers
            .iter()
            .zip(&model.layers)
            .map(|(d, l)| {
                format!(
                    "{{{}, {}, {}, {}, {}, {}}}, // {}",
                    d.in_size, d.out_size, d.ptr_base, d.bias_base, d.shift, d.relu, l.name
                )
            })
            .collect();
        let mac_max = (0..g.num_layers())
            .map(|l| {
                let entries = g.slices.iter().map(|pe| pe[l].entries.len()).max();
                entries.unwrap_or(0) + 2 * g.layers[l].in_size as usize + 1
            })
            .max()
            .unwrap_or(1);
        let hash = model.hash_hex();
        Ok(HlsContext {
            top: top.to_string(),
            network: model.name.to_string(),
            hash,
            full_part: full_part(part.name),
            clock_ns: CLOCK_NS,
            num_pes: g.pes,
            num_layers: g.num_layers(),
            in_size: model.input.size,
            out_size: model.output_size(),
            max_in: model.layers.iter().map(|l| l.cols()).max().unwrap_or(1),
            act_bits: a,
            cb_bits: g.cb_bits,
            prod_bits,
            acc_bits: g.acc_bits,
            idx_bits: g.idx_bits,
            idx_mask: (1 << g.idx_bits) - 1,
            gap_mask: bramble_abi::regs::entry::max_gap(g.gap_bits),
            gap_bits: g.gap_bits,
            cb_stride: 1 << g.idx_bits,
            entry_bits: g.entry_bits,
            ptr_bits: g.ptr_bits,
            entry_depth: g.entry_depth,
            ptr_depth: (g.ptr_words / 2).max(1),
            bias_depth: g.bias_depth,
            cb_depth: g.cb_depth,
            acc_depth: g.acc_depth.max(1),
            in_buf_depth: g.in_buf_depth.max(1),
            act_buf_depth: g.act_buf_depth.max(1),
            fifo_depth: FIFO_DEPTH,
            act_min: -(1i64 << (a - 1)),
            act_max: (1i64 << (a - 1)) - 1,
            act_ctype: ctype(a, true),
            cb_ctype: ctype(g.cb_bits, true),
            prod_ctype: ctype(prod_bits, true),
            acc_ctype: ctype(g.acc_bits, true),
            entry_ctype: ctype(g.entry_bits, false),
            ptr_ctype: ctype(g.ptr_bits, false),
            tdata_ctype: ctype(opts.tdata_bits, false),
            keep_all: format!("0x{:x}", (1u32 << (opts.tdata_bits / 8)) - 1),
            tdata_bits: opts.tdata_bits,
            lane_bits: packing.lane_bits(),
            lanes: packing.lanes(),
            in_beats: packing.beats(model.input.size),
            out_beats: packing.beats(model.output_size()),
            lane_mask: format!("0x{:x}", (1u64 << packing.lane_bits()) - 1),
            act_mask: format!("0x{:x}", (1u64 << a) - 1),
            act_sign: format!("0x{:x}", 1u64 << (a - 1)),
            out_buf: if g.num_layers() % 2 == 1 {
                "act_a"
            } else {
                "act_b"
            },
            mac_max,
            storage: storage(plan),
            layers,
            entries: arrays(images, |k, i| {
                (i.pes[k].entries.file.clone(), hex(&i.pes[k].entries))
            }),
            ptr_even: arrays(images, |k, i| {
                (i.pes[k].ptr_even.file.clone(), decimal(&i.pes[k].ptr_even))
            }),
            ptr_odd: arrays(images, |k, i| {
                (i.pes[k].ptr_odd.file.clone(), decimal(&i.pes[k].ptr_odd))
            }),
            bias: arrays(images, |k, i| {
                (i.pes[k].bias.file.clone(), decimal(&i.pes[k].bias))
            }),
            codebook: arrays(images, |_, i| {
                (i.codebook.file.clone(), decimal(&i.codebook))
            }),
            num_inputs,
        })
    }
}

fn render(t: &impl Template, name: &str) -> Result<Vec<u8>> {
    let mut text = t.render().map_err(|e| Error::Template {
        template: format!("hls/{name}"),
        message: e.to_string(),
    })?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text.into_bytes())
}

/// Beats of `vectors` packed by bramble_abi::stream, one `HEX LAST` line per beat.
pub fn beats_text(packing: &Packing, vectors: &[Vec<i64>]) -> Result<String> {
    let digits = (packing.tdata_bits() / 4) as usize;
    let mut s = String::new();
    for v in vectors {
        let beats = packing
            .pack(v)
            .map_err(|e| Error::Plan(format!("internal error: test vector: {e}")))?;
        for (b, w) in beats.iter().enumerate() {
            let last = u8::from(packing.is_last(b, v.len()));
            s.push_str(&format!("{w:0digits$x} {last}\n"));
        }
    }
    Ok(s)
}

/// Every file of `hls/` (paths relative to the bundle), for test inputs `inputs` whose golden
/// outputs are `expected`.
pub fn files(
    c: &HlsContext,
    packing: &Packing,
    inputs: &[Vec<i64>],
    expected: &[Vec<i64>],
) -> Result<Vec<(String, Vec<u8>)>> {
    let [cpp, h, params] = kernel_sources(&c.top);
    let f = |name: &str| format!("{HLS_DIR}/{name}");
    Ok(vec![
        (f(&h), render(&KernelH { c }, "kernel.h")?),
        (f(&cpp), render(&KernelCpp { c }, "kernel.cpp")?),
        (f(&params), render(&ParamsH { c }, "params.h")?),
        (f("tb.cpp"), render(&TbCpp { c }, "tb.cpp")?),
        (f(DRIVER_FILE), render(&DriverCpp { c }, "driver.cpp")?),
        (f(TB_INPUT_BEATS), beats_text(packing, inputs)?.into_bytes()),
        (
            f(TB_EXPECTED_BEATS),
            beats_text(packing, expected)?.into_bytes(),
        ),
        (f("build.tcl"), render(&BuildTcl { c }, "build.tcl")?),
        (f("Makefile"), render(&Makefile { c }, "Makefile")?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{self, LayerSpec, Spec};

    #[test]
    fn c_types_hold_their_widths() {
        assert_eq!(ctype(2, true), "int8_t");
        assert_eq!(ctype(8, true), "int8_t");
        assert_eq!(ctype(9, true), "int16_t");
        assert_eq!(ctype(34, true), "int64_t");
        assert_eq!(ctype(62, true), "int64_t");
        assert_eq!(ctype(12, false), "uint16_t");
        assert_eq!(ctype(32, false), "uint32_t");
        assert_eq!(ctype(64, false), "uint64_t");
    }

    #[test]
    fn full_part_names() {
        assert_eq!(full_part("xc7z020"), "xc7z020clg400-1");
        assert_eq!(full_part("xcu250"), "xcu250-figd2104-2L-e");
        assert_eq!(full_part("xc7z020clg484-1"), "xc7z020clg484-1");
        for p in crate::parts::PARTS {
            assert_ne!(full_part(p.name), p.name, "{}: no full part name", p.name);
        }
    }

    /// The storage pragmas follow the plan: block memories to BRAM, the rest to LUT RAM, and a
    /// memory the plan does not have gets none.
    #[test]
    fn storage_follows_the_plan() {
        let m = synthetic::model(&Spec {
            name: "big".into(),
            input: 300,
            layers: vec![LayerSpec {
                rows: 400,
                cols: 300,
                density: 0.3,
                relu: false,
            }],
            act_bits: 16,
            weight_bits: 4,
            codebook_bits: 16,
            empty_every: 0,
            seed: 3,
        });
        let part = crate::parts::find("xczu9eg").unwrap();
        let (_, plan) = crate::plan::choose(&m, part, Some(2)).unwrap();
        let s = storage(&plan);
        for st in &s {
            let name = match st.variable {
                "ENTRIES" => "entries",
                "PTR_EVEN" => "ptr_even",
                "PTR_ODD" => "ptr_odd",
                "BIAS" => "bias",
                "CODEBOOK" => "codebook",
                "LAYERS" => "layers",
                "acc" => "accumulators",
                "in_buf" => "in_buf",
                // One layer: the kernel's output buffer act_a takes the RTL's OUT buffer's style.
                "act_a" => "out_buf",
                other => panic!("unexpected {other}"),
            };
            let mem = plan.memories.iter().find(|m| m.name == name).unwrap();
            assert_eq!(st.storage == "bram", mem.block(), "{name}");
        }
        assert!(s.iter().any(|st| st.storage == "bram"), "a block memory");
        assert!(s.iter().any(|st| st.storage == "lutram"), "a LUT memory");
        // One layer: no act_buf_b in the plan, so no pragma for act_b.
        assert!(!s.iter().any(|st| st.variable == "act_b"));
    }

    #[test]
    fn lines_of_sixteen() {
        let l = lines((0..20).map(|i| i.to_string()));
        assert_eq!(l.len(), 2);
        assert!(l[0].starts_with("0, 1, ") && l[0].ends_with("15,"));
        assert_eq!(l[1], "16, 17, 18, 19,");
    }
}
