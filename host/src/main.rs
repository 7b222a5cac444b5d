//! `bramble-host`: the board binary. Loads bitstreams, identifies devices, runs inputs. Thin glue
//! over the `bramble_host` library; maps errors to exit codes and prints the chain once.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bramble_host::bitstream::Bitstream;
use bramble_host::cli::{parse_duration, BackendArgs, WeightsArgs};
use bramble_host::fpga_manager::{self, FpgaManagerConfig};
use bramble_host::{fsutil, Bundle, Error, Identity};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bramble-host",
    version,
    about = "Run Bramble accelerators on a board"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a .bit through fpga_manager after checking its part against the bundle.
    Load {
        /// The .bit file.
        bitstream: PathBuf,
        /// The bundle directory (for the part check).
        #[arg(long, value_name = "DIR")]
        bundle: PathBuf,
        /// sysfs root.
        #[arg(long, default_value = "/sys", value_name = "DIR")]
        sysfs_root: PathBuf,
        /// Where the kernel's firmware loader looks.
        #[arg(long, default_value = "/lib/firmware", value_name = "DIR")]
        firmware_dir: PathBuf,
        /// The fpga_manager instance.
        #[arg(long, default_value = "fpga0")]
        manager: String,
        /// How long to wait for the state `operating`.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        timeout: Duration,
        /// Only parse and check, and write the byte-swapped .bin here instead of loading.
        #[arg(long, value_name = "FILE.bin")]
        bin_out: Option<PathBuf>,
        /// Replace an existing --bin-out file.
        #[arg(long, requires = "bin_out")]
        force: bool,
    },
    /// Read and print the identification block; check it against a bundle if given.
    Info {
        #[command(flatten)]
        backend: BackendArgs,
        /// The bundle to check against.
        #[arg(long, value_name = "DIR")]
        bundle: Option<PathBuf>,
    },
    /// Run every input of a .npy (one input per row) and print the outputs.
    Run {
        #[command(flatten)]
        backend: BackendArgs,
        /// The bundle directory.
        #[arg(long, value_name = "DIR")]
        bundle: PathBuf,
        /// .npy of float16/32/64 (any byte order, C or Fortran order), 2-D (one input per row) or
        /// 1-D (one input).
        #[arg(long, value_name = "X.npy")]
        input: PathBuf,
        #[command(flatten)]
        weights: WeightsArgs,
        /// Print {"outputs": [[f64]], "raw": [[i64]], "cycles": [u64]} (one line) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Load a bundle's weights into a run-time-weights device (over the stream path) and check
    /// them read back; runs of that bundle are refused until this is done.
    LoadWeights {
        #[command(flatten)]
        backend: BackendArgs,
        /// The bundle whose weights to load: the device's own (generated with `--weights
        /// runtime`) or a weights-only bundle of its geometry (`bramble generate --geometry-of`).
        /// --timeout bounds the load.
        bundle: PathBuf,
        /// Print {"bundle", "words", "crc32"} (one line) instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    bramble_host::cleanup::install();
    match claim_and_run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => bramble_host::report::fail(&*err),
    }
}

fn claim_and_run(cli: Cli) -> anyhow::Result<()> {
    // Results go only to `out`; fd 1 is stderr from here on, so nothing a simulated design or a
    // tool prints can corrupt them (`--json` stays valid JSON).
    let mut out = bramble_host::report::claim_stdout()?;
    run(cli, &mut out)
}

fn run(cli: Cli, out: &mut impl Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Load {
            bitstream,
            bundle,
            sysfs_root,
            firmware_dir,
            manager,
            timeout,
            bin_out,
            force,
        } => {
            let bundle_dir = bundle;
            let bundle = Bundle::load(&bundle_dir)?;
            let part = &bundle.manifest().part;
            let cfg = FpgaManagerConfig {
                sysfs_root,
                firmware_dir,
                manager,
                flags: 0,
                timeout,
            };
            let bit = match bin_out {
                Some(dest) => {
                    // Never onto the .bit itself (a link to it included) or into the bundle.
                    fsutil::check_output(&dest, &[&bitstream, &bundle_dir], force)
                        .map_err(Error::from)?;
                    let bit = Bitstream::read(&bitstream)?;
                    bit.check_part(part, &bitstream)?;
                    let bin = bit.to_bin(&bitstream)?;
                    fsutil::write_atomic(&dest, &bin).map_err(Error::from)?;
                    eprintln!("wrote {}", dest.display());
                    bit
                }
                None => fpga_manager::load_bitstream(&cfg, &bitstream, part)?,
            };
            writeln!(
                out,
                "design {} part {} built {} {}, {} bytes of configuration data",
                bit.design,
                bit.part,
                bit.date,
                bit.time,
                bit.data.len()
            )?;
            Ok(())
        }
        Command::Info { backend, bundle } => {
            let bundle = bundle.map(|dir| backend.load_bundle(&dir)).transpose()?;
            let mut be = backend.open_backend(bundle.as_ref())?;
            let space = bundle
                .as_ref()
                .map_or(bramble_abi::regs::MIN_WINDOW_BYTES, Bundle::address_space);
            let id = Identity::read(be.as_mut(), space)?;
            writeln!(out, "{}", be.describe())?;
            writeln!(out, "{id}")?;
            if let Some(b) = &bundle {
                id.check(b)
                    .with_context(|| format!("checking against {}", b.dir().display()))?;
                writeln!(
                    out,
                    "matches bundle {} ({})",
                    b.manifest().name,
                    b.dir().display()
                )?;
            }
            Ok(())
        }
        Command::Run {
            backend,
            bundle,
            input,
            weights,
            json,
        } => {
            backend.run(&bundle, &input, &weights, json, out)?;
            Ok(())
        }
        Command::LoadWeights {
            backend,
            bundle,
            json,
        } => {
            let b = backend.load_bundle(&bundle)?;
            let dir = b.dir().display().to_string();
            let mut dev = backend.open(b)?;
            let l = dev.load_bundle_weights(backend.timeout)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"bundle": dir, "words": l.words,
                        "crc32": format!("{:08x}", l.crc32)})
                )?;
            } else {
                writeln!(
                    out,
                    "loaded the weights of {dir} ({} words, CRC {:08x}) into {} in {:?}",
                    l.words,
                    l.crc32,
                    dev.describe(),
                    l.elapsed
                )?;
            }
            Ok(())
        }
    }
}
