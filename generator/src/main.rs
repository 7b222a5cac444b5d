//! The `bramble` command line: thin glue over the generator library.

use anyhow::{bail, Context, Result};
use bramble::{golden, source, stats, weights};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    },
    /// Report density, codebooks, storage and compression ratio per layer.
    Inspect {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        /// Processing elements assumed for the sparse encoding's storage cost.
        #[arg(long, default_value_t = 1)]
        pes: usize,
        #[arg(long)]
        json: bool,
    },
    /// Run the bit-exact golden model on inputs (.npy, one input per row).
    Infer {
        /// Description (.yaml) or compressed model.
        net: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        let mut msg = format!("error: {e}");
        for cause in e.chain().skip(1) {
            msg.push_str(&format!("\n  caused by: {cause}"));
        }
        eprintln!("{msg}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Compress { net, output } => compress(&net, &output),
        Cmd::Inspect { net, pes, json } => inspect(&net, pes, json),
        Cmd::Infer { net, input, json } => infer(&net, &input, json),
    }
}

fn load(net: &Path) -> Result<bramble::model::Model> {
    let (model, notes) = source::load(net)?;
    for n in notes {
        eprintln!("note: {}", n.0);
    }
    Ok(model)
}

fn compress(net: &Path, output: &Path) -> Result<()> {
    if !source::is_description(net) {
        bail!(
            "{}: expected a network description (.yaml or .yml)",
            net.display()
        );
    }
    let model = load(net)?;
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

fn inspect(net: &Path, pes: usize, json: bool) -> Result<()> {
    if pes == 0 || pes > 256 {
        bail!("--pes {pes} is out of range; allowed 1..=256");
    }
    let model = load(net)?;
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
fn read_inputs(path: &Path, model: &bramble::model::Model) -> Result<Vec<Vec<f64>>> {
    let rows = weights::load_inputs(path)?;
    if let Some(r) = rows.first() {
        if r.len() != model.input.size {
            bail!(
                "{}: inputs have {} values per row but network `{}` expects {} (input.size)",
                path.display(),
                r.len(),
                model.name,
                model.input.size
            );
        }
    }
    Ok(rows)
}

fn infer(net: &Path, input: &Path, json: bool) -> Result<()> {
    let model = load(net)?;
    let rows = read_inputs(input, &model)?;
    let frac = model.output().frac_bits;
    let raw: Vec<Vec<i64>> = rows
        .iter()
        .map(|x| golden::run(&model, &golden::quantize_input(&model, x)))
        .collect();
    let outputs: Vec<Vec<f64>> = raw
        .iter()
        .map(|r| r.iter().map(|&q| golden::dequantize(q, frac)).collect())
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"outputs": outputs, "raw": raw}),
        )
        .context("writing JSON")?;
        writeln!(out)?;
    } else {
        for (i, (o, r)) in outputs.iter().zip(&raw).enumerate() {
            writeln!(out, "{i}: outputs {:?}", o)?;
            writeln!(out, "{i}: raw     {:?}", r)?;
        }
    }
    Ok(())
}
