//! The `bramble` commands that make accuracy visible: `compare`, `sweep` (and `sweep merge`),
//! the `--labels` of `infer`, and the per-layer progress of a compression. Glue over
//! `bramble::evaluate` and `bramble::sweep`, kept out of main.rs.

use anyhow::{bail, Context, Result};
use bramble::desc::{Compression, Network};
use bramble::evaluate;
use bramble::sweep::{self, Grid, Row, ShardHeader, Table, SHARD_FORMAT};
use bramble::{parts, source};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CompareArgs {
    /// Network description (.yaml): the float network and how to compress it.
    net: PathBuf,
    /// Inputs (.npy, one per row).
    #[arg(long)]
    input: PathBuf,
    /// Class labels (.npy of integers, one per input row).
    #[arg(long)]
    labels: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCmd>,
    /// Network description (.yaml); every point overrides prune, weight_bits and compression of
    /// all its layers.
    #[arg(required = true)]
    net: Option<PathBuf>,
    /// Prune targets (fraction of zero weights), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.7,0.8,0.9")]
    prune: Vec<f64>,
    /// Weight (codebook index) bits, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "3,4,5")]
    weight_bits: Vec<u32>,
    /// Compression methods, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "magnitude,calibrated")]
    compression: Vec<String>,
    /// Inputs (.npy, one per row).
    #[arg(long, required = true)]
    input: Option<PathBuf>,
    /// Class labels (.npy of integers, one per input row).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Also plan each point onto this part: whether it fits and the block RAM it uses.
    #[arg(long)]
    part: Option<String>,
    /// Compute only the I-th of N deterministic slices of the grid (point k is in slice k mod
    /// N) and write JSON lines for `bramble sweep merge`.
    #[arg(long, value_parser = sweep::parse_shard)]
    shard: Option<(usize, usize)>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum SweepCmd {
    /// Join the JSON-lines files of `sweep --shard I/N` (all N of them) into one table.
    Merge {
        /// Shard files, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Read labels and check them against the inputs and the network's outputs.
pub fn read_labels(
    path: &Path,
    inputs: usize,
    input: &Path,
    net: &str,
    classes: usize,
) -> Result<Vec<i64>> {
    let y = bramble_abi::array::read_labels(path)?;
    evaluate::check_labels(&y, path, inputs, input, net, classes)?;
    Ok(y)
}

/// A progress bar over layers on a terminal; nothing when stderr is piped.
pub fn layer_progress(what: &str) -> impl FnMut(usize, usize) + '_ {
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |l, n| {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(n as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} layers {msg} ({elapsed})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b.set_prefix(what.to_string());
            // A wide calibrated layer takes a while: keep the elapsed time moving.
            b.enable_steady_tick(std::time::Duration::from_millis(250));
            b
        });
        b.set_position(l as u64);
        if l == n {
            b.finish_and_clear();
        }
    }
}

/// Compress a description with a progress bar, or load a model file.
pub fn load_with_progress(net: &Path) -> Result<(bramble::model::Model, Vec<PathBuf>)> {
    if !source::is_description(net) {
        let (m, notes, files) = source::load_with_inputs(net)?;
        print_notes(&notes);
        return Ok((m, files));
    }
    let desc = Network::load(net)?;
    let mut files = vec![net.to_path_buf()];
    files.extend(desc.files.iter().cloned());
    let (model, notes) =
        bramble::compress::compress_with(&desc, &mut layer_progress("compressing"))?;
    print_notes(&notes);
    Ok((model, files))
}

fn print_notes(notes: &[bramble::compress::Note]) {
    for n in notes {
        eprintln!("note: {}", n.0);
    }
}

pub fn compare(a: CompareArgs) -> Result<()> {
    if !source::is_description(&a.net) {
        bail!(
            "{}: compare needs the network description (.yaml): a model file has no float weights",
            a.net.display()
        );
    }
    let net = Network::load(&a.net)?;
    let (model, notes) =
        bramble::compress::compress_with(&net, &mut layer_progress("compressing"))?;
    print_notes(&notes);
    let inputs = crate::read_inputs(&a.input, &model)?;
    let labels = match &a.labels {
        None => None,
        Some(p) => Some(read_labels(
            p,
            inputs.len(),
            &a.input,
            model.name.as_str(),
            model.output_size(),
        )?),
    };
    let c = evaluate::compare(&net, &model, &inputs, labels.as_deref());
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &c)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: float vs fixed point on {} inputs",
        model.name, c.inputs
    )?;
    writeln!(
        out,
        "{:<16} {:>10} {:>12} {:>10} {:>9}",
        "layer", "SQNR dB", "max |err|", "saturated", "outputs"
    )?;
    for l in &c.layers {
        writeln!(
            out,
            "{:<16} {:>10} {:>12.4e} {:>10} {:>9}",
            l.name,
            l.sqnr_db.map_or("exact".into(), |s| format!("{s:.2}")),
            l.max_abs_error,
            l.saturated,
            l.outputs
        )?;
    }
    writeln!(
        out,
        "argmax agreement: {:.4} ({} inputs)",
        c.agreement, c.inputs
    )?;
    if let (Some(f), Some(q)) = (c.float_accuracy, c.fixed_accuracy) {
        writeln!(out, "accuracy: float {f:.4}, fixed point {q:.4}")?;
    }
    Ok(())
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    if let Some(SweepCmd::Merge { shards, json }) = a.merge {
        let t = sweep::merge(&shards)?;
        return print_table(&t, json);
    }
    let (net_path, input) = (
        a.net.expect("clap: required"),
        a.input.expect("clap: required"),
    );
    if !source::is_description(&net_path) {
        bail!(
            "{}: sweep needs the network description (.yaml): a model file has no float weights",
            net_path.display()
        );
    }
    for c in &a.compression {
        Compression::parse(c).map_err(|m| anyhow::anyhow!("--compression: {m}"))?;
    }
    if let Some(p) = a.prune.iter().find(|p| !(0.0..1.0).contains(*p)) {
        bail!("--prune: {p} is out of range; allowed [0, 1)");
    }
    let (lo, hi) = bramble::desc::WEIGHT_BITS;
    if let Some(b) = a
        .weight_bits
        .iter()
        .find(|b| !(lo..=hi).contains(&(**b as i64)))
    {
        bail!("--weight-bits: {b} is out of range; allowed {lo}..={hi}");
    }
    let part = match &a.part {
        None => None,
        Some(p) => Some(parts::find(p).map_err(anyhow::Error::msg)?),
    };
    let net = Network::load(&net_path)?;
    if net.calibration.is_none() && a.compression.iter().any(|c| c == "calibrated") {
        bail!(
            "{}: --compression calibrated needs calibration inputs: add `calibration: FILE.npy` to the description",
            net_path.display()
        );
    }
    let classes = net.layers.last().expect("validated").rows;
    let inputs = bramble_abi::array::read_inputs(&input)?;
    if let Some(r) = inputs.iter().find(|r| r.len() != net.input_size) {
        bail!(
            "{}: inputs have {} values per row but network `{}` expects {} (input.size)",
            input.display(),
            r.len(),
            net.name,
            net.input_size
        );
    }
    let labels = match &a.labels {
        None => None,
        Some(p) => Some(read_labels(
            p,
            inputs.len(),
            &input,
            net.name.as_str(),
            classes,
        )?),
    };
    let grid = Grid {
        prune: a.prune,
        weight_bits: a.weight_bits,
        compression: a.compression,
        part: a.part,
    };
    let mut hashed: Vec<&Path> = vec![&net_path];
    hashed.extend(net.files.iter().map(PathBuf::as_path));
    hashed.push(&input);
    if let Some(l) = &a.labels {
        hashed.push(l);
    }
    let network_hash = sweep::network_hash(&hashed).context("hashing the sweep's inputs")?;
    let (shard, shards) = a.shard.unwrap_or((0, 1));
    let points: Vec<_> = grid
        .points()
        .into_iter()
        .filter(|p| p.index % shards == shard)
        .collect();
    let reference = sweep::reference(&net, &inputs, labels.as_deref());
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let b = indicatif::ProgressBar::new(points.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "sweep [{bar:30}] {pos}/{len} points ({elapsed})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        b
    });
    let rows: Vec<Row> = points
        .par_iter()
        .map(|&p| {
            let r = sweep::run_point(&net, p, &inputs, labels.as_deref(), &reference, part);
            if let Some(b) = &bar {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    if a.shard.is_some() {
        let h = ShardHeader {
            format: SHARD_FORMAT.into(),
            network_hash,
            grid,
            shard,
            shards,
            float_accuracy: reference.accuracy,
        };
        serde_json::to_writer(&mut out, &h)?;
        writeln!(out)?;
        for r in &rows {
            serde_json::to_writer(&mut out, r)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    drop(out);
    print_table(
        &Table {
            network_hash,
            grid,
            float_accuracy: reference.accuracy,
            rows,
        },
        a.json,
    )
}

fn print_table(t: &Table, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, t)?;
        writeln!(out)?;
        return Ok(());
    }
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
    writeln!(
        out,
        "sweep of network {} ({} points)",
        t.network_hash,
        t.rows.len()
    )?;
    if let Some(f) = t.float_accuracy {
        writeln!(out, "float accuracy: {f:.4}")?;
    }
    let part = t.grid.part.is_some();
    write!(
        out,
        "{:>6} {:>5} {:<11} {:>9} {:>9} {:>7} {:>12}",
        "prune", "bits", "method", "accuracy", "agreement", "ratio", "weight bytes"
    )?;
    if part {
        write!(out, " {:>5} {:>7}", "fits", "RAMB36")?;
    }
    writeln!(out)?;
    for r in &t.rows {
        write!(
            out,
            "{:>6.2} {:>5} {:<11} {:>9} {:>9} {:>7} {:>12}",
            r.prune,
            r.weight_bits,
            r.compression,
            opt(r.accuracy),
            opt(r.agreement),
            r.compression_ratio
                .map_or("-".into(), |v| format!("{v:.1}x")),
            r.weight_bytes.map_or("-".into(), |v| v.to_string()),
        )?;
        if part {
            write!(
                out,
                " {:>5} {:>7}",
                r.fits.map_or("-", |f| if f { "yes" } else { "no" }),
                r.bram36_tiles.map_or("-".into(), |v| v.to_string())
            )?;
        }
        if let Some(e) = &r.error {
            write!(out, "  error: {e}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
