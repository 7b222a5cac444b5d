//! The `bramble` command line: thin glue over the generator library.

use anyhow::{bail, Context, Result};
use bramble::{generate, golden, parts, plan, source, stats, verify};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

mod csim_cmd;

#[derive(Parser)]
#[command(
    name = "bramble",
    version,
    about = "Compile compressed neural networks into sparse FPGA accelerators"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Prune, share weights and choose fixed-point formats; write a compressed model file.
    Compress {
        /// Network description (.yaml).
        net: PathBuf,
        /// Output model file.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Report density, codebooks, storage and compression ratio per layer.
    Inspect {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        /// Processing elements assumed for the sparse encoding's storage cost.
        #[arg(long, default_value_t = 1)]
        pes: usize,
        /// Also check that the engine can run this model on the part (as `plan` does).
        #[arg(long)]
        part: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Plan the engine's memories onto a part's block RAM: the PE count, the entry format (row-gap
    /// bits, 3..=8, the width that needs the fewest RAMB36 tiles) and every memory's primitives.
    Plan {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        /// Target part, e.g. xc7z020, xczu9eg, xcu250.
        #[arg(long)]
        part: String,
        /// Processing elements: a number, or `auto` (the largest that fits, each count with its
        /// best entry format: PE counts and gap widths are searched together). When nothing fits,
        /// the error says by how much the closest candidate misses.
        #[arg(long, default_value = "auto")]
        pes: String,
        /// Pin the row-gap width of a stored entry (3..=8 bits) instead of searching it.
        #[arg(long, value_name = "N")]
        gap_bits: Option<u32>,
        /// Where the weights live: `bitstream` (memory images) or `runtime` (loaded over the
        /// stream; the entry memories become pair-word RAMs).
        #[arg(long, default_value = "bitstream")]
        weights: String,
        /// Where the entry memories go: `auto` (the planner chooses; URAM288 only with
        /// `--weights runtime` on a part with UltraRAM, when it leaves more headroom), `block`
        /// (block RAM, or LUT RAM when small) or `ultra` (URAM288; needs `--weights runtime`).
        #[arg(long, default_value = "auto")]
        entry_ram: String,
        #[arg(long)]
        json: bool,
    },
    /// Generate the accelerator bundle: RTL, memory images, testbench, manifest, Vivado scripts.
    Generate {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        /// Target part, e.g. xc7z020 (implied by --board; given with it, it must be the board's).
        #[arg(long, required_unless_present_any = ["board", "geometry_of"])]
        part: Option<String>,
        /// Board preset of the Vivado block design and device-tree overlay in vivado/: pynq-z2,
        /// zc706, ultra96v2, zcu102, u250, u55c.
        #[arg(long)]
        board: Option<String>,
        /// Accelerator clock of the Vivado scripts in MHz (default: the board's, else 200).
        #[arg(long)]
        clock_mhz: Option<u32>,
        /// Processing elements: a number or `auto` (as `plan`: PE counts and entry formats are
        /// searched together).
        #[arg(long, default_value = "auto")]
        pes: String,
        /// Pin the row-gap width of a stored entry (3..=8 bits) instead of searching it.
        #[arg(long, value_name = "N")]
        gap_bits: Option<u32>,
        /// Output directory.
        #[arg(short, long)]
        output: PathBuf,
        /// Testbench inputs (.npy, one per row); default: deterministic random vectors.
        #[arg(long)]
        tb_input: Option<PathBuf>,
        /// Number of random testbench vectors when --tb-input is not given (1..=10000).
        #[arg(long, default_value_t = 8)]
        tb_count: usize,
        /// Replace the output directory if it exists.
        #[arg(long)]
        force: bool,
        /// Also write the HLS C++ kernel, testbench and Vitis HLS scripts under hls/.
        #[arg(long)]
        hls: bool,
        /// AXI4-Stream TDATA width of the input and output streams (RTL, and the HLS kernel with
        /// --hls): 32 or 64 (default 32).
        #[arg(long)]
        tdata_bits: Option<u32>,
        /// Where the weights live: `bitstream` (memory images read by $readmemh) or `runtime`
        /// (no images; the host loads weights/weights.bin over the stream before the first run).
        #[arg(long, default_value = "bitstream")]
        weights: String,
        /// Where the entry memories go: `auto` (the planner chooses; URAM288 only with
        /// `--weights runtime` on a part with UltraRAM, when it leaves more headroom), `block`
        /// (block RAM, or LUT RAM when small) or `ultra` (URAM288; needs `--weights runtime`).
        #[arg(long, default_value = "auto")]
        entry_ram: String,
        /// Write only the weights of NET for the engine of BUNDLE (generated with `--weights
        /// runtime`): NET must have its geometry (layer shapes, formats) and fit its memories.
        /// The output is a weights-only bundle for `bramble-host load-weights` and `--weights`.
        #[arg(long, value_name = "BUNDLE", conflicts_with_all = ["part", "board", "clock_mhz",
            "tb_input", "tb_count", "hls", "tdata_bits", "gap_bits", "pes", "weights", "entry_ram"])]
        geometry_of: Option<PathBuf>,
    },
    /// Compile the bundle's HLS kernel with g++ (cached) and run inputs through it. Same output
    /// as `infer`.
    Csim {
        /// Bundle directory written by `bramble generate --hls`.
        dir: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Where built C simulations are cached (default: the cargo target directory).
        #[arg(long)]
        csim_cache: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle with the tools: Verilator lint, the self-checking testbench under Icarus and
    /// Verilator, and optionally Yosys synthesis against the plan's block RAM count.
    Verify {
        /// Bundle directory written by `bramble generate`.
        dir: PathBuf,
        /// Skip the Icarus run.
        #[arg(long)]
        no_icarus: bool,
        /// Skip the Verilator testbench run.
        #[arg(long)]
        no_verilator: bool,
        /// Also synthesise with Yosys: block RAM against the plan, the logic depth in LUT levels
        /// with its worst path, and the clock it suggests (slow; docs/timing.md).
        #[arg(long)]
        yosys: bool,
    },
    #[cfg(feature = "sim")]
    /// Run inputs through the generated RTL simulated by Verilator, exactly as a board would be
    /// driven: the batch streams through the harness's AXI DMA model. Same JSON as `infer`, plus
    /// cycles per input and the batch's total_cycles.
    Sim {
        /// Bundle directory written by `bramble generate`.
        dir: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Write an FST waveform.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Replace an existing --trace file.
        #[arg(long)]
        force: bool,
        /// Wall-clock limit per DMA transfer of a batch, e.g. `30s`, `500ms`.
        #[arg(long, default_value = "60s", value_parser = bramble_host::cli::parse_duration)]
        timeout: std::time::Duration,
        /// Where built simulation libraries are cached (default: the cargo target directory).
        #[arg(long)]
        sim_cache: Option<PathBuf>,
        /// Stream the inputs in batches of N vectors (default: the whole file as one batch).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        batch: Option<u64>,
        /// A run-time-weights bundle's own weights are loaded first; --weights loads another
        /// bundle's of the same geometry instead.
        #[command(flatten)]
        weights: bramble_host::cli::WeightsArgs,
        #[arg(long)]
        json: bool,
    },
    /// Run inputs on any backend: the Verilator simulation or a board (uio, devmem, xdma).
    Run {
        /// Bundle directory written by `bramble generate`.
        dir: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[command(flatten)]
        backend: bramble_host::cli::BackendArgs,
        #[command(flatten)]
        weights: bramble_host::cli::WeightsArgs,
        #[arg(long)]
        json: bool,
    },
    /// Run the bit-exact golden model on inputs (.npy, one input per row).
    Infer {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Class labels (.npy of integers, one per input row): print the accuracy of argmax.
        #[arg(long)]
        labels: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run the float network and the compressed fixed-point network side by side: per layer
    /// SQNR, max error and saturations; argmax agreement and both accuracies.
    Compare(cli_accuracy::CompareArgs),
    /// Compress and measure a grid of prune targets, weight bits and methods (golden model, in
    /// parallel); `--shard I/N` and `sweep merge` split it across machines.
    Sweep(cli_accuracy::SweepArgs),
}

/// `compare`, `sweep`, `infer --labels` and the progress of `compress`.
mod cli_accuracy;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    bramble_host::cleanup::install();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The chain printed once, the exit code from the host's one map (docs/host.md), exactly
        // as `bramble-host` ends.
        Err(e) => bramble_host::report::fail(&*e),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Compress { net, output, force } => compress(&net, &output, force),
        Cmd::Inspect {
            net,
            pes,
            part,
            json,
        } => inspect(&net, pes, part.as_deref(), json),
        Cmd::Infer {
            net,
            input,
            labels,
            json,
        } => infer(&net, &input, labels.as_deref(), json),
        Cmd::Compare(a) => cli_accuracy::compare(a),
        Cmd::Sweep(a) => cli_accuracy::sweep(a),
        #[cfg(feature = "sim")]
        Cmd::Sim {
            dir,
            input,
            trace,
            force,
            timeout,
            sim_cache,
            batch,
            weights,
            json,
        } => {
            let mut out = bramble_host::report::claim_stdout()?;
            let bundle = bramble_host::Bundle::load_checked(&dir)?;
            if let Some(t) = &trace {
                bramble_host::fsutil::check_output(t, &[&input, &dir], force)?;
            }
            let wb = weights.load()?;
            let inputs = bramble_host::report::read_inputs(&input, wb.as_ref().unwrap_or(&bundle))?;
            let opts = bramble_host::sim::SimOptions {
                trace,
                cache_dir: sim_cache,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                ..Default::default()
            };
            let mut dev = bramble_host::sim::open(bundle, &opts)?;
            bramble_host::cli::prepare_weights(&mut dev, wb, true, weights.weights_timeout)?;
            let batch = batch.map(|n| n as usize);
            bramble_host::report::run(&mut dev, &inputs, timeout, batch, json, &mut out)?;
            Ok(())
        }
        Cmd::Run {
            dir,
            input,
            backend,
            weights,
            json,
        } => {
            let mut out = bramble_host::report::claim_stdout()?;
            backend.run(&dir, &input, &weights, json, &mut out)?;
            Ok(())
        }
        Cmd::Verify {
            dir,
            no_icarus,
            no_verilator,
            yosys,
        } => verify_cmd(&dir, !no_icarus, !no_verilator, yosys),
        Cmd::Plan {
            net,
            part,
            pes,
            gap_bits,
            weights,
            entry_ram,
            json,
        } => plan_cmd(&net, &part, &pes, gap_bits, &weights, &entry_ram, json),
        Cmd::Generate {
            net,
            part,
            board,
            clock_mhz,
            pes,
            gap_bits,
            output,
            tb_input,
            tb_count,
            force,
            hls,
            tdata_bits,
            weights,
            entry_ram,
            geometry_of,
        } => {
            if let Some(old) = geometry_of {
                return geometry_of_cmd(&net, &old, &output, force);
            }
            let weights = plan::WeightsMode::parse(&weights).map_err(anyhow::Error::msg)?;
            let entry_ram = plan::EntryRam::parse(&entry_ram).map_err(anyhow::Error::msg)?;
            let tdata_bits = tdata_bits.unwrap_or(bramble_abi::stream::DEFAULT_TDATA_BITS);
            let hls = hls.then_some(bramble::hls::HlsOptions { tdata_bits });
            let (part, board) = bramble::boards::resolve(part.as_deref(), board.as_deref())
                .map_err(anyhow::Error::msg)?;
            let clock_mhz =
                bramble::boards::clock_mhz(clock_mhz, board).map_err(anyhow::Error::msg)?;
            generate_cmd(
                &net,
                part.name,
                board,
                clock_mhz,
                &pes,
                gap_bits,
                &output,
                tb_input.as_deref(),
                tb_count,
                force,
                tdata_bits,
                (weights, entry_ram),
                hls,
            )
        }
        Cmd::Csim {
            dir,
            input,
            csim_cache,
            json,
        } => csim_cmd::run(&dir, &input, csim_cache, json),
    }
}

fn load(net: &Path) -> Result<bramble::model::Model> {
    let (model, notes) = source::load(net)?;
    for n in notes {
        eprintln!("note: {}", n.0);
    }
    Ok(model)
}

fn compress(net: &Path, output: &Path, force: bool) -> Result<()> {
    if !source::is_description(net) {
        bail!(
            "{}: expected a network description (.yaml or .yml)",
            net.display()
        );
    }
    // Fail before the (possibly long) compression where we can; the files the description names
    // are known only once it is read, so they are checked again after.
    bramble::fsutil::check_output(output, &[net], force)?;
    let (model, inputs) = cli_accuracy::load_with_progress(net)?;
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    bramble::fsutil::check_output(output, &inputs, force)?;
    model.save(output)?;
    let s = stats::stats(&model, 1);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} layers, hash {}",
        model.name,
        model.layers.len(),
        s.network_hash
    )?;
    print_table(&mut out, &s)?;
    writeln!(out, "wrote {}", output.display())?;
    Ok(())
}

fn print_table(out: &mut impl Write, s: &stats::Stats) -> Result<()> {
    writeln!(
        out,
        "{:<16} {:>11} {:>8} {:>8} {:>7} {:>10} {:>9} {:>9} {:>7} {:>10} {:>10}",
        "layer",
        "shape",
        "nonzero",
        "density",
        "w/cb",
        "bits/w",
        "bytes",
        "fp32",
        "ratio",
        "err max",
        "err mean"
    )?;
    for l in &s.layers {
        writeln!(
            out,
            "{:<16} {:>11} {:>8} {:>8.4} {:>7} {:>10.2} {:>9} {:>9} {:>6.1}x {:>10.3e} {:>10.3e}",
            l.name,
            format!("{}x{}", l.rows, l.cols),
            l.nonzeros,
            l.density,
            format!("{}/{}", l.weight_bits, l.codebook_bits),
            l.bits_per_weight,
            l.bytes,
            l.float32_bytes,
            l.compression_ratio,
            l.weight_error_max,
            l.weight_error_mean
        )?;
    }
    writeln!(
        out,
        "total: {} bytes vs {} bytes float32: compression ratio {:.1}x ({} PE{})",
        s.bytes,
        s.float32_bytes,
        s.compression_ratio,
        s.pes,
        if s.pes == 1 { "" } else { "s" }
    )?;
    Ok(())
}

fn inspect(net: &Path, pes: usize, part: Option<&str>, json: bool) -> Result<()> {
    if pes == 0 || pes > plan::MAX_PES {
        bail!("--pes {pes} is out of range; allowed 1..={}", plan::MAX_PES);
    }
    let model = load(net)?;
    if let Some(part) = part {
        let part = parts::find(part).map_err(anyhow::Error::msg)?;
        plan::check_target(&model, part).map_err(anyhow::Error::msg)?;
    }
    let s = stats::stats(&model, pes);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &s)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: input {} ({} bits, {} frac), hash {}",
        s.name, s.input_size, s.input_bits, s.input_frac_bits, s.network_hash
    )?;
    print_table(&mut out, &s)?;
    for l in &s.layers {
        writeln!(
            out,
            "{}: {:?}, act {} bits (frac {} -> {}), acc {} bits, shift {}, codebook (frac {}): {}",
            l.name,
            l.activation,
            l.out_bits,
            l.in_frac_bits,
            l.out_frac_bits,
            l.acc_bits,
            l.shift,
            l.codebook_frac_bits,
            l.codebook
                .iter()
                .map(|c| format!("{c:.5}"))
                .collect::<Vec<_>>()
                .join(" ")
        )?;
    }
    Ok(())
}

/// Inputs from `path`, checked against the model's input width.
/// Inputs from `path`, every row checked against the model's input width (a bad input file is
/// exit 7, as for `run`: the host's error).
pub(crate) fn read_inputs(path: &Path, model: &bramble::model::Model) -> Result<Vec<Vec<f64>>> {
    let rows = bramble_abi::array::read_inputs(path)?;
    if let Some(r) = rows.iter().find(|r| r.len() != model.input.size) {
        return Err(bramble_host::Error::Input {
            path: path.to_path_buf(),
            reason: format!(
                "inputs have {} values per row but network `{}` expects {} (input.size)",
                r.len(),
                model.name,
                model.input.size
            ),
        }
        .into());
    }
    Ok(rows)
}

fn infer(net: &Path, input: &Path, labels: Option<&Path>, json: bool) -> Result<()> {
    let model = load(net)?;
    let rows = read_inputs(input, &model)?;
    let labels = match labels {
        None => None,
        Some(p) => Some(cli_accuracy::read_labels(
            p,
            rows.len(),
            input,
            model.name.as_str(),
            model.output_size(),
        )?),
    };
    let frac = model.output().frac_bits;
    let raw: Vec<Vec<i64>> = rows
        .iter()
        .map(|x| golden::run(&model, &golden::quantize_input(&model, x)))
        .collect();
    let outputs: Vec<Vec<f64>> = raw
        .iter()
        .map(|r| r.iter().map(|&q| golden::dequantize(q, frac)).collect())
        .collect();
    let accuracy = labels.as_ref().map(|y| {
        let preds: Vec<usize> = raw.iter().map(|r| bramble::evaluate::argmax(r)).collect();
        bramble::evaluate::accuracy(&preds, y)
    });
    let mut out = std::io::stdout().lock();
    if json {
        let mut doc = serde_json::json!({"outputs": outputs, "raw": raw});
        if let Some(a) = accuracy {
            doc["accuracy"] = a.into();
        }
        serde_json::to_writer(&mut out, &doc).context("writing JSON")?;
        writeln!(out)?;
    } else {
        for (i, (o, r)) in outputs.iter().zip(&raw).enumerate() {
            writeln!(out, "{i}: outputs {:?}", o)?;
            writeln!(out, "{i}: raw     {:?}", r)?;
        }
        if let (Some(a), Some(y)) = (accuracy, &labels) {
            writeln!(
                out,
                "accuracy: {a:.4} ({} of {} correct)",
                (a * y.len() as f64).round() as usize,
                y.len()
            )?;
        }
    }
    Ok(())
}

fn parse_pes(pes: &str) -> Result<Option<usize>> {
    if pes == "auto" {
        return Ok(None);
    }
    pes.parse::<usize>().map(Some).map_err(|_| {
        anyhow::anyhow!(
            "--pes `{pes}`: expected a number 1..={} or `auto`",
            plan::MAX_PES
        )
    })
}

fn plan_for(
    net: &Path,
    part: &str,
    pes: &str,
    gap_bits: Option<u32>,
    (weights, entry_ram): (plan::WeightsMode, plan::EntryRam),
) -> Result<(
    bramble::model::Model,
    &'static parts::Part,
    plan::Geometry,
    plan::Plan,
)> {
    let model = load(net)?;
    let part = parts::find(part).map_err(anyhow::Error::msg)?;
    let req = plan::Request {
        pes: parse_pes(pes)?,
        gap_bits,
        weights,
        entry_ram,
    };
    let (g, p) = plan::choose_with(&model, part, req).map_err(anyhow::Error::msg)?;
    Ok((model, part, g, p))
}

fn print_plan(out: &mut impl Write, p: &plan::Plan) -> Result<()> {
    writeln!(
        out,
        "part {} ({}), {} PEs{}: {}",
        p.part,
        p.family,
        p.pes,
        if p.weights == plan::WeightsMode::Runtime {
            ", weights loaded at run time"
        } else {
            ""
        },
        if p.fits { "fits" } else { "does NOT fit" }
    )?;
    writeln!(
        out,
        "entry format: {}-bit entries ({} gap bits + codebook index)",
        p.entry_bits, p.gap_bits
    )?;
    if !p.formats.is_empty() {
        // URAM288 per candidate only when some candidate puts entries there.
        let uram = p.formats.iter().any(|c| c.uram > 0);
        let uram_col = |v: String| {
            if uram {
                format!(" {v:>7}")
            } else {
                String::new()
            }
        };
        writeln!(
            out,
            "{:>8} {:>6} {:>10} {:>10} {:>8}{} {:>7}",
            "gap bits",
            "entry",
            "entries",
            "padding",
            "tiles",
            uram_col("URAM".into()),
            "fits"
        )?;
        for c in &p.formats {
            writeln!(
                out,
                "{:>8} {:>6} {:>10} {:>10} {:>8}{} {:>7}{}",
                c.gap_bits,
                c.entry_bits,
                c.entries,
                c.padding_entries,
                c.bram36_tiles,
                uram_col(c.uram.to_string()),
                if c.fits { "yes" } else { "no" },
                if c.gap_bits == p.gap_bits {
                    "  <- chosen"
                } else {
                    ""
                }
            )?;
        }
        writeln!(out, "why: {}", p.why)?;
    }
    writeln!(
        out,
        "{:<13} {:>8} {:>10} {:>10} {:>10}",
        "layer", "gap bits", "non-zeros", "entries", "padding"
    )?;
    for l in &p.layers {
        writeln!(
            out,
            "{:<13} {:>8} {:>10} {:>10} {:>10}",
            l.name, l.gap_bits, l.nonzeros, l.entries, l.padding_entries
        )?;
    }
    writeln!(
        out,
        "{:<13} {:>5} {:>7} {:>6} {:>12} {:>10} {:>7} {:>7}",
        "memory", "count", "depth", "width", "style", "primitive", "RAMB18", "RAMB36"
    )?;
    // URAM288 memories show their block count under `primitive` (e.g. 14x4Kx72).
    for m in &p.memories {
        writeln!(
            out,
            "{:<13} {:>5} {:>7} {:>6} {:>12} {:>10} {:>7} {:>7}",
            m.name,
            m.instances,
            m.depth,
            m.width,
            m.style,
            m.shape
                .as_deref()
                .map(|s| format!("{}x{}", m.primitives_per_instance, s))
                .unwrap_or_else(|| "LUT RAM".into()),
            m.bram18,
            m.bram36
        )?;
    }
    writeln!(
        out,
        "total: {} RAMB18 + {} RAMB36 = {} of {} RAMB36 tiles ({:.1}%), {} of {} URAM288, {} of {} DSP",
        p.bram18,
        p.bram36,
        p.bram36_tiles,
        p.part_bram36,
        100.0 * p.bram36_tiles as f64 / p.part_bram36 as f64,
        p.uram,
        p.part_uram,
        p.dsp,
        p.part_dsp,
    )?;
    writeln!(out, "entry memories: {}", p.entry_ram_why)?;
    writeln!(
        out,
        "block RAM bits: {} Kbit held of {} Kbit ({:.1}%)",
        p.block_bits.div_ceil(1024),
        p.part_block_bits / 1024,
        100.0 * p.block_bits as f64 / p.part_block_bits as f64,
    )?;
    Ok(())
}

fn plan_cmd(
    net: &Path,
    part: &str,
    pes: &str,
    gap_bits: Option<u32>,
    weights: &str,
    entry_ram: &str,
    json: bool,
) -> Result<()> {
    let weights = plan::WeightsMode::parse(weights).map_err(anyhow::Error::msg)?;
    let entry_ram = plan::EntryRam::parse(entry_ram).map_err(anyhow::Error::msg)?;
    let (_, _, _, p) = plan_for(net, part, pes, gap_bits, (weights, entry_ram))?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &p)?;
        writeln!(out)?;
    } else {
        print_plan(&mut out, &p)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn generate_cmd(
    net: &Path,
    part: &str,
    board: Option<&'static bramble::boards::Board>,
    clock_mhz: u32,
    pes: &str,
    gap_bits: Option<u32>,
    output: &Path,
    tb_input: Option<&Path>,
    tb_count: usize,
    force: bool,
    tdata_bits: u32,
    (weights, entry_ram): (plan::WeightsMode, plan::EntryRam),
    hls: Option<bramble::hls::HlsOptions>,
) -> Result<()> {
    if !bramble_abi::stream::TDATA_BITS.contains(&tdata_bits) {
        bail!("--tdata-bits {tdata_bits}: the AXI4-Stream TDATA width must be 32 or 64");
    }
    if tb_input.is_none() && !(1..=generate::MAX_TB_COUNT).contains(&tb_count) {
        bail!(
            "--tb-count {tb_count}: the testbench needs 1..={} input vectors",
            generate::MAX_TB_COUNT
        );
    }
    bramble::fsutil::check_output(output, &[net], true)?;
    let (model, part, g, p) = plan_for(net, part, pes, gap_bits, (weights, entry_ram))?;
    let tb_inputs = match tb_input {
        None => None,
        Some(path) => Some(
            read_inputs(path, &model)?
                .iter()
                .map(|x| golden::quantize_input(&model, x))
                .collect::<Vec<_>>(),
        ),
    };
    if let (Some(path), Some(v)) = (tb_input, &tb_inputs) {
        if v.is_empty() || v.len() > generate::MAX_TB_COUNT {
            bail!(
                "{}: {} input rows; the testbench takes 1..={}",
                path.display(),
                v.len(),
                generate::MAX_TB_COUNT
            );
        }
    }
    let opts = generate::Options {
        tb_inputs,
        tb_count,
        tdata_bits,
        board,
        clock_mhz,
        weights,
    };
    let bundle = generate::generate_with(&model, part, &g, &p, &opts, hls.as_ref())?;
    bundle.write(output, force)?;
    let m = bundle.manifest;
    let mut out = std::io::stdout().lock();
    print_plan(&mut out, &p)?;
    writeln!(
        out,
        "wrote {} (top {}, hash {})",
        output.display(),
        m.top,
        m.network_hash
    )?;
    match board {
        Some(b) => writeln!(
            out,
            "Vivado scripts for {} ({}, {} MHz) in {} (`make -C {3} bit`; docs/vivado.md)",
            b.preset,
            b.full_part,
            clock_mhz,
            output.join(bramble::vivado::VIVADO_DIR).display(),
        )?,
        None => writeln!(
            out,
            "Vivado IP packaging and out-of-context scripts ({} MHz) in {} (`make -C {1} ip`, `ooc`; --board for a bitstream)",
            clock_mhz,
            output.join(bramble::vivado::VIVADO_DIR).display(),
        )?,
    }
    if let Some(h) = hls {
        writeln!(
            out,
            "HLS kernel in {} ({}-bit AXI4-Stream TDATA; `bramble csim`, `make -C {0} csim`)",
            output.join(bramble::hls::HLS_DIR).display(),
            h.tdata_bits
        )?;
    }
    Ok(())
}

/// `generate NET --geometry-of OLD -o OUT`: a weights-only bundle (docs/bundle.md).
fn geometry_of_cmd(net: &Path, old: &Path, output: &Path, force: bool) -> Result<()> {
    use bramble::geometry_of;
    bramble::fsutil::check_output(output, &[net, old], true)?;
    let old_g = geometry_of::read_old(old)?;
    let model = load(net)?;
    let g = geometry_of::fit(&model, &old_g)?;
    let bundle = geometry_of::weights_only(&model, &old_g, &g)?;
    bundle.write(output, force)?;
    let m = &bundle.manifest;
    writeln!(
        std::io::stdout().lock(),
        "wrote {} (weights only: network {} hash {}, weight image CRC {}) for the engine of {} \
         (geometry {}); load it with `bramble-host load-weights {0}` or `--weights {0}`",
        output.display(),
        m.name,
        m.network_hash,
        m.weights.crc32,
        old.display(),
        m.weights.geometry_hash,
    )?;
    Ok(())
}

fn verify_cmd(dir: &Path, icarus: bool, verilator: bool, yosys: bool) -> Result<()> {
    let b = verify::BundleDir::scratch(dir)?;
    let part = parts::find(&b.manifest.part).map_err(anyhow::Error::msg)?;
    verify::lint(&b)?;
    println!("verilator --lint-only -Wall: clean");
    if icarus {
        let r = verify::icarus(&b)?;
        println!("Icarus testbench: PASS ({})", cycle_summary(&r.cycles));
    }
    if verilator {
        let r = verify::verilator(&b)?;
        println!("Verilator testbench: PASS ({})", cycle_summary(&r.cycles));
    }
    if yosys {
        let path = b.dir.join("plan.json");
        let plan: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("{}: not valid JSON", dir.join("plan.json").display()))?;
        let count = |field: &str| -> Result<usize> {
            plan[field].as_u64().map(|v| v as usize).with_context(|| {
                format!(
                    "{}: field `{field}` missing",
                    dir.join("plan.json").display()
                )
            })
        };
        let (p18, p36) = (count("bram18")?, count("bram36")?);
        let puram = count("uram")?;
        let u = verify::yosys(&b, part.family, true)?;
        println!(
            "Yosys synth_xilinx -family {}: {} RAMB18, {} RAMB36 (plan {} + {}), {} URAM288 (plan {}), {} DSP, {} LUT, {} LUTRAM cells, {} FF",
            part.family.yosys_family(), u.ramb18, u.ramb36, p18, p36, u.uram, puram, u.dsp, u.lut, u.lutram_cells, u.ff
        );
        if let Some(depth) = u.depth_text(part.family) {
            println!("{depth}");
        }
        if (u.ramb18, u.ramb36, u.uram) != (p18, p36, puram) {
            bail!(
                "Yosys inferred {} RAMB18 + {} RAMB36 + {} URAM288 but the plan predicted {p18} + {p36} + {puram}",
                u.ramb18,
                u.ramb36,
                u.uram
            );
        }
    }
    Ok(())
}

/// `N inputs, cycles min/mean/max` for a testbench run.
fn cycle_summary(c: &[u64]) -> String {
    if c.is_empty() {
        return "no cycle counts printed".into();
    }
    let mean = c.iter().sum::<u64>() as f64 / c.len() as f64;
    format!(
        "{} inputs bit-exact; compute cycles per input (the engine's cycle counter) min {} mean {mean:.1} max {}",
        c.len(),
        c.iter().min().unwrap(),
        c.iter().max().unwrap()
    )
}
