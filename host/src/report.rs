//! What `bramble-host run`, `bramble run` and `bramble sim` share, so that the two binaries print
//! and exit the same for the same run: reading the inputs (checked against the bundle here and
//! nowhere else), running them and printing the results as text or JSON, keeping tool output off
//! stdout, and ending on an error (the chain printed once, the exit code from [`crate::cli`]).

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::device::{Batch, Device};
use crate::error::{Error, Result};
use crate::manifest::Bundle;

/// Sets standard output aside for the program's own results and points fd 1 at stderr for the
/// rest of the process. Returns the results stream (a duplicate of the original stdout).
///
/// A Verilator model prints to fd 1 from C (`$display` in the design, run-time warnings), and so
/// may any tool a backend runs; with fd 1 on stderr, stdout carries only what is written to the
/// returned file, so `--json` output is always valid JSON. Call it once, at the start of a
/// command; print results only to the returned file afterwards (`println!` goes to stderr).
pub fn claim_stdout() -> Result<File> {
    let stdout = std::io::stdout();
    // Anything already buffered belongs to the real stdout.
    let _ = stdout.lock().flush();
    let ours = stdout
        .as_fd()
        .try_clone_to_owned()
        .map_err(|source| Error::Stdout { source })?;
    nix::unistd::dup2_stdout(std::io::stderr()).map_err(|e| Error::Stdout {
        source: std::io::Error::from_raw_os_error(e as i32),
    })?;
    Ok(File::from(ours))
}

/// Inputs read from a `.npy` by the one array reader (`bramble_abi::array::read_inputs`: 2-D with
/// one input per row, or 1-D for one input), each row checked to have the bundle's `input.size` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// The file they came from.
    pub path: PathBuf,
    /// One input per row.
    pub rows: Vec<Vec<f64>>,
}

/// Reads `path` and checks its width against `bundle` (the one place that check is made for the
/// command lines, before any device is opened or simulation built).
pub fn read_inputs(path: &Path, bundle: &Bundle) -> Result<Inputs> {
    let rows = bramble_abi::array::read_inputs(path)?;
    let want = bundle.manifest().input.size;
    if let Some(r) = rows.iter().find(|r| r.len() != want) {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: format!(
                "inputs have {} values per row but the bundle `{}` expects {want} (input.size)",
                r.len(),
                bundle.manifest().name
            ),
        });
    }
    Ok(Inputs {
        path: path.to_path_buf(),
        rows,
    })
}

/// Runs every input on `dev` and prints the batch to `out`: JSON (`{"outputs": [[f64]], "raw":
/// [[i64]], "cycles": [u64], "total_cycles": u64}`, one line; `total_cycles` when the device
/// streams) or text (see [`format_batch`]). `batch` splits the inputs into batches of that many
/// vectors (each one [`Device::run_batch`]; `None`: one batch); `timeout` bounds each transfer
/// (or each window run). When stderr is a terminal, a progress bar counts the vectors after each
/// transfer or window run (feature `sim`, which carries indicatif). Nothing is printed unless
/// every input ran.
pub fn run(
    dev: &mut Device,
    inputs: &Inputs,
    timeout: Duration,
    batch: Option<usize>,
    json: bool,
    out: &mut dyn Write,
) -> Result<Batch> {
    let per = batch.unwrap_or(inputs.rows.len()).max(1);
    let progress = Progress::new(inputs.rows.len() > 1, inputs.rows.len() as u64);
    let mut all = Batch::default();
    for part in inputs.rows.chunks(per) {
        let raw = part
            .iter()
            .map(|x| dev.quantize_inputs(x))
            .collect::<Result<Vec<_>>>()?;
        all.extend(dev.run_batch_raw_with(&raw, timeout, &mut |n| progress.inc(n as u64))?);
    }
    progress.finish();
    out.write_all(format_batch(&all, json).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Io {
            action: "write the results to",
            path: PathBuf::from("standard output"),
            source,
        })?;
    Ok(all)
}

/// A progress bar on a terminal only (never in a pipe or a log).
struct Progress {
    #[cfg(feature = "sim")]
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(wanted: bool, total: u64) -> Progress {
        #[cfg(feature = "sim")]
        {
            use std::io::IsTerminal;
            let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
                let pb = indicatif::ProgressBar::new(total);
                pb.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} vectors, {per_sec}, eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                pb
            });
            Progress { bar }
        }
        #[cfg(not(feature = "sim"))]
        {
            let _ = (wanted, total);
            Progress {}
        }
    }
    fn inc(&self, n: u64) {
        #[cfg(feature = "sim")]
        if let Some(b) = &self.bar {
            b.inc(n);
        }
        #[cfg(not(feature = "sim"))]
        let _ = n;
    }
    fn finish(&self) {
        #[cfg(feature = "sim")]
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The printed form of a batch. Text is `bramble infer`'s form plus cycles, per input `i`:
///
/// ```text
/// 0: outputs [0.0234375, -0.0078125, 2.0]
/// 0: raw     [6, -2, 512]
/// 0: cycles  7
/// ```
pub fn format_batch(batch: &Batch, json: bool) -> String {
    if json {
        // A Batch holds only numbers and vectors: serialising it cannot fail.
        let mut s = serde_json::to_string(batch).expect("a Batch serialises to JSON");
        s.push('\n');
        return s;
    }
    let mut s = String::new();
    for (i, ((outputs, raw), cycles)) in batch
        .outputs
        .iter()
        .zip(&batch.raw)
        .zip(&batch.cycles)
        .enumerate()
    {
        let _ = writeln!(s, "{i}: outputs {outputs:?}");
        let _ = writeln!(s, "{i}: raw     {raw:?}");
        let _ = writeln!(s, "{i}: cycles  {cycles}");
    }
    if let Some(t) = batch.total_cycles {
        let _ = writeln!(s, "total cycles {t}");
    }
    s
}

/// `error: <err>` and each cause on its own `caused by:` line, skipping a cause whose text is
/// already in the message (library errors often include their source's text).
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = format!("error: {err}");
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !msg.contains(&text) {
            let _ = write!(msg, "\n  caused by: {text}");
        }
        cause = c.source();
    }
    msg
}

/// How a binary ends on an error: prints [`error_text`] to stderr once and returns the exit
/// code of [`crate::cli::exit_code_of`]. Both `bramble` and `bramble-host` end this way.
pub fn fail(err: &(dyn std::error::Error + 'static)) -> ExitCode {
    eprintln!("{}", error_text(err));
    ExitCode::from(crate::cli::exit_code_of(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_forms() {
        let b = Batch {
            outputs: vec![vec![0.5, -1.0]],
            raw: vec![vec![128, -256]],
            cycles: vec![7],
            total_cycles: None,
        };
        assert_eq!(
            format_batch(&b, false),
            "0: outputs [0.5, -1.0]\n0: raw     [128, -256]\n0: cycles  7\n"
        );
        assert_eq!(
            format_batch(&b, true),
            "{\"outputs\":[[0.5,-1.0]],\"raw\":[[128,-256]],\"cycles\":[7]}\n"
        );
        // A streamed batch adds the batch's total cycles.
        let s = Batch {
            total_cycles: Some(40),
            ..b
        };
        assert_eq!(
            format_batch(&s, true),
            "{\"outputs\":[[0.5,-1.0]],\"raw\":[[128,-256]],\"cycles\":[7],\"total_cycles\":40}\n"
        );
        assert!(format_batch(&s, false).ends_with("0: cycles  7\ntotal cycles 40\n"));
    }

    #[test]
    fn each_cause_is_printed_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(error_text(&e), "error: outer: inner");
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Bare(#[source] std::io::Error);
        let e = Bare(std::io::Error::other("inner"));
        assert_eq!(error_text(&e), "error: outer\n  caused by: inner");
    }
}
