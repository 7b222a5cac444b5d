//! Command-line pieces shared by `bramble-host` and the generator's `bramble run`: the backend
//! selection (a clap `Args` struct to flatten) and a `Duration` parser. Opening a backend from
//! these arguments is the only place that knows every backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::backend::Backend;
use crate::device::Device;
use crate::devmem::{DevMemBackend, DevMemConfig};
use crate::error::{Error, Result};
use crate::fsutil::OutputError;
use crate::manifest::Bundle;
use crate::uio::{UioBackend, UioConfig};
use crate::xdma::{XdmaBackend, XdmaConfig};

/// A backend's stream path, if it has one.
type BoxedStream = Box<dyn crate::stream::Stream>;

/// Which way to reach the accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Verilator simulation of the bundle's RTL (feature `sim`).
    Sim,
    /// Zynq UIO (`/dev/uioN`, found by name).
    Uio,
    /// `/dev/mem` at a physical address.
    Devmem,
    /// PCIe XDMA (`/dev/xdmaN_*`).
    Xdma,
}

/// Backend options (flatten into a clap command with `#[command(flatten)]`).
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// Backend to use.
    #[arg(long, value_enum)]
    pub backend: BackendKind,

    /// Per-run wait timeout, or per DMA transfer of a streamed batch (e.g. 500ms, 2s, 100us).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// sysfs root (uio, load).
    #[arg(long, default_value = "/sys", value_name = "DIR")]
    pub sysfs_root: PathBuf,

    /// Device root (uio, xdma).
    #[arg(long, default_value = "/dev", value_name = "DIR")]
    pub dev_root: PathBuf,

    /// UIO device name (device-tree node name) or `uioN`; default: the manifest's `top`.
    #[arg(long, value_name = "NAME")]
    pub uio_name: Option<String>,

    /// Poll STATUS instead of waiting on the UIO interrupt.
    #[arg(long)]
    pub no_irq: bool,

    /// Physical base address for devmem (e.g. 0x43c00000).
    #[arg(long, value_parser = parse_u64, value_name = "ADDR")]
    pub base: Option<u64>,

    /// devmem: size of the accelerator's range at --base (default: the bundle's address space);
    /// must cover the bundle's address space, which is all that is mapped.
    #[arg(long, value_parser = parse_u64, value_name = "BYTES")]
    pub size: Option<u64>,

    /// The memory device for devmem.
    #[arg(long, default_value = "/dev/mem", value_name = "PATH")]
    pub mem: PathBuf,

    /// N in /dev/xdmaN_*.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub xdma_index: u32,

    /// XDMA DMA channel (h2c_C / c2h_C).
    #[arg(long, default_value_t = 0, value_name = "C")]
    pub xdma_channel: u32,

    /// Offset of the accelerator in the XDMA user BAR.
    #[arg(long, default_value = "0", value_parser = parse_u64, value_name = "OFFSET")]
    pub bar_offset: u64,

    /// AXI address of the accelerator as the XDMA DMA engines see it.
    #[arg(long, default_value = "0", value_parser = parse_u64, value_name = "ADDR")]
    pub axi_base: u64,

    /// XDMA user interrupt K (`/dev/xdmaN_events_K`) wired to irq_o; default: poll.
    #[arg(long, value_name = "K")]
    pub xdma_event: Option<u32>,

    /// uio: UIO name of the AXI DMA (PG021, simple mode) that streams batches (its device-tree
    /// node name, or `uioN`). Default: `<top>_dma` when a UIO device of that name exists (the
    /// name the generated device-tree overlay gives it, docs/vivado.md), else batches run
    /// through the register windows.
    #[arg(long, value_name = "NAME")]
    pub dma_uio: Option<String>,

    /// uio with a DMA: the u-dma-buf device for the DMA buffer (`/dev/udmabufN`; the generated
    /// overlay's is `udmabuf0`).
    #[arg(long, default_value = bramble_abi::board::UDMABUF_NAME, value_name = "NAME")]
    pub udmabuf: String,

    /// xdma: the core is in AXI4-Stream mode: batches stream through h2c/c2h (the windows go
    /// through the user BAR).
    #[arg(long)]
    pub xdma_stream: bool,

    /// Split the input file into batches of N vectors (each streamed as one batch).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,

    /// Simulation only: write an FST waveform.
    #[arg(long, value_name = "FILE.fst")]
    pub trace: Option<PathBuf>,

    /// Simulation only: cache directory for built models (default: $BRAMBLE_SIM_CACHE, or
    /// bramble-sim-cache in the cargo target dir, or ~/.cache/bramble/sim).
    #[arg(long, value_name = "DIR")]
    pub sim_cache: Option<PathBuf>,
}

/// Which weights a run uses (flatten into a run command).
#[derive(Debug, Clone, Default, Args)]
pub struct WeightsArgs {
    /// Load the weights of this bundle before the run and convert inputs and outputs with its
    /// manifest: a run-time-weights bundle of the device's geometry, e.g. one written by
    /// `bramble generate NET --geometry-of BUNDLE` (docs/host.md "Weights").
    #[arg(long, value_name = "DIR")]
    pub weights: Option<PathBuf>,

    /// How long loading weights may take (--weights, and a run-time-weights bundle in the
    /// simulator, which loads its own weights).
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub weights_timeout: Duration,
}

impl WeightsArgs {
    /// The `--weights` bundle, every file checked (it is small: a manifest and an image).
    pub fn load(&self) -> Result<Option<Bundle>> {
        self.weights.as_ref().map(Bundle::load_checked).transpose()
    }
}

/// Gets `dev` the weights a run needs: the `weights` bundle's (swapped on with
/// [`Device::use_weights`]) when given, else, in the simulator (a fresh device every time), a
/// run-time-weights bundle's own. On a board, weights loaded earlier (`bramble-host
/// load-weights`) stay, and a run without them is refused.
pub fn prepare_weights(
    dev: &mut Device,
    weights: Option<Bundle>,
    simulated: bool,
    timeout: Duration,
) -> Result<Option<crate::device::WeightsLoaded>> {
    match weights {
        Some(w) => dev.use_weights(w, timeout).map(Some),
        None if simulated && dev.bundle().manifest().runtime_weights() => {
            dev.load_bundle_weights(timeout).map(Some)
        }
        None => Ok(None),
    }
}

impl BackendArgs {
    /// The bundle at `dir` as this backend needs it: the simulator builds the bundle's RTL, so
    /// every file is checked against the manifest; a board needs only the manifest.
    pub fn load_bundle(&self, dir: &Path) -> Result<Bundle> {
        if self.backend == BackendKind::Sim {
            Bundle::load_checked(dir)
        } else {
            Bundle::load(dir)
        }
    }

    /// `run`, the one function behind `bramble run` and `bramble-host run`: the bundle at `dir`,
    /// the inputs of `input` checked against it (or against the `--weights` bundle) before any
    /// device is opened or model built, the selected backend, the weights ([`prepare_weights`]),
    /// and the batch printed to `out` as text or JSON.
    pub fn run(
        &self,
        dir: &Path,
        input: &Path,
        weights: &WeightsArgs,
        json: bool,
        out: &mut dyn std::io::Write,
    ) -> Result<crate::device::Batch> {
        let bundle = self.load_bundle(dir)?;
        let wb = weights.load()?;
        let inputs = crate::report::read_inputs(input, wb.as_ref().unwrap_or(&bundle))?;
        let mut dev = self.open(bundle)?;
        prepare_weights(
            &mut dev,
            wb,
            self.backend == BackendKind::Sim,
            weights.weights_timeout,
        )?;
        let batch = self.batch.map(|n| n as usize);
        crate::report::run(&mut dev, &inputs, self.timeout, batch, json, out)
    }

    /// Opens the selected backend for `bundle`, identifies the device and attaches its stream
    /// path if it has one (sim: the harness's DMA model; uio with --dma-uio: the AXI DMA and a
    /// u-dma-buf buffer; xdma with --xdma-stream: the h2c/c2h streams).
    pub fn open(&self, bundle: Bundle) -> Result<Device> {
        let (backend, stream) = self.open_parts(&bundle)?;
        let mut dev = Device::open(bundle, backend)?;
        if let Some(s) = stream {
            dev.attach_stream(s)?;
        }
        Ok(dev)
    }

    fn open_parts(&self, bundle: &Bundle) -> Result<(Box<dyn Backend>, Option<BoxedStream>)> {
        match self.backend {
            #[cfg(feature = "sim")]
            BackendKind::Sim => {
                let sim = self.open_sim_backend(bundle)?;
                let stream: Option<BoxedStream> = match sim.has_streams() {
                    true => Some(Box::new(sim.dma(&crate::sim::SimStreamConfig::default())?)),
                    false => None,
                };
                Ok((Box::new(sim), stream))
            }
            BackendKind::Uio => {
                let backend = self.open_backend(Some(bundle))?;
                let dma_uio = self
                    .dma_uio
                    .clone()
                    .or_else(|| default_dma_uio(&self.sysfs_root, &bundle.manifest().top));
                let stream = match &dma_uio {
                    Some(name) => Some(Box::new(crate::udmabuf::open_zynq_dma(
                        &self.sysfs_root,
                        &self.dev_root,
                        name,
                        &self.udmabuf,
                        !self.no_irq,
                    )?) as BoxedStream),
                    None => None,
                };
                Ok((backend, stream))
            }
            BackendKind::Xdma if self.xdma_stream => {
                let cfg = self.xdma_config();
                let space = bundle.address_space();
                let backend = XdmaBackend::open(&cfg, space)?;
                let stream = crate::xdma::XdmaStream::open(&cfg)?;
                Ok((Box::new(backend), Some(Box::new(stream))))
            }
            _ => Ok((self.open_backend(Some(bundle))?, None)),
        }
    }

    fn xdma_config(&self) -> XdmaConfig {
        XdmaConfig {
            dev_root: self.dev_root.clone(),
            index: self.xdma_index,
            channel: self.xdma_channel,
            bar_offset: self.bar_offset,
            axi_base: self.axi_base,
            event: self.xdma_event,
            stream: self.xdma_stream,
        }
    }

    /// Opens the selected backend without identifying anything. Without a bundle only window 0's
    /// first 0x1000 bytes are mapped (enough for the identification block); the simulator always
    /// needs a bundle.
    pub fn open_backend(&self, bundle: Option<&Bundle>) -> Result<Box<dyn Backend>> {
        let space = bundle.map_or(0x1000, |b| b.address_space());
        Ok(match self.backend {
            BackendKind::Sim => {
                let bundle = bundle.ok_or_else(|| Error::Usage {
                    detail: "the simulator needs --bundle DIR (it builds the bundle's RTL)".into(),
                })?;
                self.open_sim(bundle)?
            }
            BackendKind::Uio => {
                let name = match (&self.uio_name, bundle) {
                    (Some(n), _) => n.clone(),
                    (None, Some(b)) => b.manifest().top.clone(),
                    (None, None) => {
                        return Err(Error::Usage {
                            detail: "--backend uio needs --uio-name NAME without --bundle".into(),
                        })
                    }
                };
                let cfg = UioConfig {
                    name,
                    sysfs_root: self.sysfs_root.clone(),
                    dev_root: self.dev_root.clone(),
                    interrupt: !self.no_irq,
                };
                Box::new(UioBackend::open(&cfg, space)?)
            }
            BackendKind::Devmem => {
                let base = self.base.ok_or_else(|| Error::Usage {
                    detail: "--backend devmem needs --base ADDR (the accelerator's physical \
                             address from the Vivado address editor)"
                        .into(),
                })?;
                let cfg = DevMemConfig {
                    path: self.mem.clone(),
                    base,
                    size: self.size,
                };
                Box::new(DevMemBackend::open(&cfg, space)?)
            }
            BackendKind::Xdma => Box::new(XdmaBackend::open(&self.xdma_config(), space)?),
        })
    }

    #[cfg(feature = "sim")]
    fn open_sim(&self, bundle: &Bundle) -> Result<Box<dyn Backend>> {
        Ok(Box::new(self.open_sim_backend(bundle)?))
    }

    #[cfg(feature = "sim")]
    fn open_sim_backend(&self, bundle: &Bundle) -> Result<crate::sim::SimBackend> {
        let opts = crate::sim::SimOptions {
            cache_dir: self.sim_cache.clone(),
            trace: self.trace.clone(),
            verilator: None,
            progress: true,
            jobs: None,
        };
        let lib = crate::sim::build(bundle, &opts)?;
        crate::sim::SimBackend::new(&lib, bundle, opts.trace.as_deref())
    }

    #[cfg(not(feature = "sim"))]
    fn open_sim(&self, _bundle: &Bundle) -> Result<Box<dyn Backend>> {
        Err(Error::Backend {
            backend: "sim".into(),
            detail: "this binary was built without the `sim` feature (a board build); use \
                     `bramble sim` on a development machine"
                .into(),
        })
    }
}

/// The exit codes of `bramble-host` and of `bramble run` / `bramble sim` (docs/host.md).
pub mod exit {
    /// Any other failure (including an output path refused: same as an input, inside an input,
    /// or existing without `--force`).
    pub const OTHER: u8 = 1;
    /// Bad command line (clap's own code; also a missing option a backend needs).
    pub const USAGE: u8 = 2;
    /// The device does not match the bundle, or does not hold its weights.
    pub const MISMATCH: u8 = 3;
    /// DONE (or WSTATUS.LOADED after a weight load) did not come within `--timeout`.
    pub const TIMEOUT: u8 = 4;
    /// Device absent, permission denied, or a mapping smaller than the register map.
    pub const DEVICE: u8 = 5;
    /// A bitstream that cannot be used, or fpga_manager failed or timed out.
    pub const BITSTREAM: u8 = 6;
    /// A bad bundle (manifest, file integrity), weight image or input file.
    pub const BAD_INPUT: u8 = 7;
}

/// The exit code for a host error: the one map, shared so `bramble run` / `bramble sim` and
/// `bramble-host` agree (see [`exit`]).
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Usage { .. } => exit::USAGE,
        Error::Mismatch { .. } | Error::StaleWeights { .. } => exit::MISMATCH,
        Error::Timeout { .. } | Error::StreamTimeout { .. } | Error::WeightsTimeout { .. } => {
            exit::TIMEOUT
        }
        Error::DeviceAbsent { .. } | Error::PermissionDenied { .. } | Error::MapTooSmall { .. } => {
            exit::DEVICE
        }
        Error::Output(o) => output_exit_code(o),
        Error::Bitstream { .. }
        | Error::PartMismatch { .. }
        | Error::FpgaManagerTimeout { .. }
        | Error::FpgaManagerFailed { .. } => exit::BITSTREAM,
        Error::Contract(_)
        | Error::WeightImage { .. }
        | Error::Input { .. }
        | Error::Length { .. }
        | Error::NonFinite { .. }
        | Error::RawRange { .. } => exit::BAD_INPUT,
        _ => exit::OTHER,
    }
}

/// A refused output path is [`exit::OTHER`]; a write refused by the file system is
/// [`exit::DEVICE`] (permission denied), like a device node.
fn output_exit_code(e: &OutputError) -> u8 {
    match e {
        OutputError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
            exit::DEVICE
        }
        _ => exit::OTHER,
    }
}

/// The exit code for an error chain (an `anyhow::Error` derefs to one): the first host error in
/// the chain decides ([`exit_code`]), as do an output refusal and a bramble-abi contract error (a
/// bad manifest, bundle file or array: [`exit::BAD_INPUT`]) that reached the binary without a
/// host error around them; anything else is [`exit::OTHER`].
pub fn exit_code_of(err: &(dyn std::error::Error + 'static)) -> u8 {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<Error>() {
            return exit_code(h);
        }
        if let Some(o) = e.downcast_ref::<OutputError>() {
            return output_exit_code(o);
        }
        if e.downcast_ref::<bramble_abi::error::Error>().is_some() {
            return exit::BAD_INPUT;
        }
        cur = e.source();
    }
    exit::OTHER
}

/// Parses `500ms`, `2s`, `100us`, `1.5s`, `10ns`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 500ms or 2s, found {s:?}"))?;
    let secs = match unit.trim() {
        "" | "s" => v,
        "ms" => v / 1e3,
        "us" | "µs" => v / 1e6,
        "ns" => v / 1e9,
        "m" | "min" => v * 60.0,
        u => {
            return Err(format!(
                "unknown duration unit {u:?} in {s:?} (use ns, us, ms, s, min)"
            ))
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// Parses a decimal or `0x` hexadecimal number.
pub fn parse_u64(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim().replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| format!("expected a number (decimal or 0x hex), found {s:?}"))
}

/// The DMA's UIO name when the command line gives none: `<top>_dma`
/// ([`bramble_abi::board::dma_uio_name`]) if a UIO device of that name exists under `sysfs_root`.
pub fn default_dma_uio(sysfs_root: &std::path::Path, top: &str) -> Option<String> {
    let name = bramble_abi::board::dma_uio_name(top);
    crate::uio::find(sysfs_root, &name).ok().map(|_| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DMA is found by the overlay's name without --dma-uio, and only when it exists.
    #[test]
    fn dma_uio_defaults_to_the_overlay_name() {
        let root = tempfile::tempdir().unwrap();
        let class = root.path().join("class/uio");
        std::fs::create_dir_all(class.join("uio0")).unwrap();
        std::fs::write(class.join("uio0/name"), "net_top\n").unwrap();
        assert_eq!(default_dma_uio(root.path(), "net_top"), None);
        std::fs::create_dir_all(class.join("uio1")).unwrap();
        std::fs::write(class.join("uio1/name"), "net_top_dma\n").unwrap();
        assert_eq!(
            default_dma_uio(root.path(), "net_top").as_deref(),
            Some("net_top_dma")
        );
        assert_eq!(default_dma_uio(&root.path().join("none"), "net_top"), None);
    }

    /// Every documented exit code (docs/host.md), including errors that reach a binary inside
    /// another error (anyhow context, a library error with a source).
    #[test]
    fn exit_codes_as_documented() {
        let p = || PathBuf::from("x");
        let abi = || bramble_abi::error::Error::BundleFile {
            dir: p(),
            file: "rtl/a.v".into(),
            problem: "modified".into(),
        };
        let d = Duration::from_millis(1);
        let cases: Vec<(Error, u8)> = vec![
            (
                Error::Backend {
                    backend: "b".into(),
                    detail: "d".into(),
                },
                1,
            ),
            (Error::Output(OutputError::Exists { out: p() }), exit::OTHER),
            (Error::Usage { detail: "d".into() }, 2),
            (
                Error::Mismatch {
                    field: "MAGIC",
                    expected: "1".into(),
                    found: "0".into(),
                },
                3,
            ),
            (
                Error::Timeout {
                    timeout: d,
                    elapsed: d,
                    sim_cycles: None,
                },
                4,
            ),
            (
                Error::DeviceAbsent {
                    what: "w".into(),
                    path: p(),
                },
                5,
            ),
            (
                Error::PermissionDenied {
                    path: p(),
                    hint: "h",
                },
                5,
            ),
            (
                Error::MapTooSmall {
                    path: p(),
                    size: 1,
                    needed: 2,
                },
                5,
            ),
            (
                Error::Output(OutputError::Io {
                    path: p(),
                    source: std::io::ErrorKind::PermissionDenied.into(),
                }),
                5,
            ),
            (
                Error::Bitstream {
                    path: p(),
                    reason: "r".into(),
                },
                6,
            ),
            (
                Error::PartMismatch {
                    path: p(),
                    expected: "a".into(),
                    found: "b".into(),
                    rule: "r",
                },
                6,
            ),
            (
                Error::FpgaManagerTimeout {
                    path: p(),
                    state: "s".into(),
                    elapsed: d,
                    timeout: d,
                },
                6,
            ),
            (
                Error::FpgaManagerFailed {
                    path: p(),
                    firmware: "f".into(),
                    state: "write error".into(),
                },
                6,
            ),
            (Error::Contract(abi()), 7),
            (
                Error::Input {
                    path: p(),
                    reason: "r".into(),
                },
                7,
            ),
            (
                Error::Length {
                    what: "inputs",
                    expected: 4,
                    found: 5,
                },
                7,
            ),
            (
                Error::NonFinite {
                    index: 0,
                    value: f64::NAN,
                },
                7,
            ),
            (
                Error::RawRange {
                    index: 0,
                    value: 1 << 20,
                    bits: 16,
                },
                7,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(exit_code(&e), code, "{e:?}");
            assert_eq!(exit_code_of(&e), code, "{e:?}");
        }

        // Inside other errors: the first host, output or contract error in the chain decides.
        #[derive(Debug, thiserror::Error)]
        #[error("while doing something")]
        struct Wrap(#[source] Box<dyn std::error::Error + Send + Sync>);
        let timeout = Error::Timeout {
            timeout: d,
            elapsed: d,
            sim_cycles: Some(9),
        };
        assert_eq!(exit_code_of(&Wrap(Box::new(timeout))), 4);
        assert_eq!(exit_code_of(&Wrap(Box::new(abi()))), 7);
        assert_eq!(exit_code_of(&abi()), 7);
        assert_eq!(
            exit_code_of(&Wrap(Box::new(OutputError::Exists { out: p() }))),
            1
        );
        assert_eq!(exit_code_of(&Wrap(Box::new(std::io::Error::other("x")))), 1);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_u64("0x43c0_0000").unwrap(), 0x43c0_0000);
        assert_eq!(parse_u64("4096").unwrap(), 4096);
        assert!(parse_u64("0xzz").is_err());
    }
}
