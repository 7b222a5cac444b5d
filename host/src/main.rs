//! `bramble-host`: the board binary. Loads bitstreams, identifies devices, runs inputs. Thin glue
//! over the `bramble_host` library; maps errors to exit codes and prints the chain once.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bramble_host::cli::{parse_duration, BackendArgs};
use bramble_host::fpga_manager::{self, FpgaManagerConfig};
use bramble_host::manifest::Registers;
use bramble_host::{Bundle, Error, Identity};
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
        /// float32/float64 .npy, 2-D (one input per row) or 1-D (one input).
        #[arg(long, value_name = "X.npy")]
        input: PathBuf,
        /// Print {"outputs": [[f64]], "raw": [[i64]], "cycles": [u64]}.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

/// Maps the first host-library error in the chain to its exit code (see `cli::exit_code`).
fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|c| c.downcast_ref::<Error>())
        .map_or(1, bramble_host::cli::exit_code)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Load {
            bitstream,
            bundle,
            sysfs_root,
            firmware_dir,
            manager,
            timeout,
            bin_out,
        } => {
            let bundle = Bundle::load(&bundle)?;
            let part = &bundle.manifest().part;
            let cfg = FpgaManagerConfig {
                sysfs_root,
                firmware_dir,
                manager,
                flags: 0,
                timeout,
            };
            let bit = match bin_out {
                Some(out) => {
                    let bit = bramble_host::bitstream::Bitstream::read(&bitstream)?;
                    bit.check_part(part, &bitstream)?;
                    let bin = bit.to_bin(&bitstream)?;
                    std::fs::write(&out, bin)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    eprintln!("wrote {}", out.display());
                    bit
                }
                None => fpga_manager::load_bitstream(&cfg, &bitstream, part)?,
            };
            println!(
                "design {} part {} built {} {}, {} bytes of configuration data",
                bit.design,
                bit.part,
                bit.date,
                bit.time,
                bit.data.len()
            );
            Ok(())
        }
        Command::Info { backend, bundle } => {
            let bundle = bundle.map(Bundle::load).transpose()?;
            let mut be = backend.open_backend(bundle.as_ref())?;
            let (regs, space) = match &bundle {
                Some(b) => (b.manifest().registers, b.address_space()),
                None => (Registers::STANDARD, 0x1000),
            };
            let id = Identity::read(be.as_mut(), &regs, space)?;
            println!("{}", be.describe());
            println!("{id}");
            if let Some(b) = &bundle {
                id.check(b)
                    .with_context(|| format!("checking against {}", b.dir().display()))?;
                println!(
                    "matches bundle {} ({})",
                    b.manifest().name,
                    b.dir().display()
                );
            }
            Ok(())
        }
        Command::Run {
            backend,
            bundle,
            input,
            json,
        } => {
            let bundle = Bundle::load(&bundle)?;
            let inputs = bramble_host::npy::read_inputs(&input)?;
            let mut dev = backend.open(bundle)?;
            let batch = dev.run_batch(&inputs, backend.timeout)?;
            if json {
                println!("{}", serde_json::to_string(&batch)?);
            } else {
                for (i, ((out, raw), cycles)) in batch
                    .outputs
                    .iter()
                    .zip(&batch.raw)
                    .zip(&batch.cycles)
                    .enumerate()
                {
                    println!("[{i}] {cycles} cycles: {out:?} (raw {raw:?})");
                }
            }
            Ok(())
        }
    }
}
