//! The host crate's error type: every variant names what went wrong and where (file, register,
//! field, expected vs found, limit), so a caller can print the chain once and be done.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias for the host crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to a Bramble accelerator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or device node could not be read, written or opened for a reason not covered below.
    #[error("cannot {action} {path}", path = path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A bundle (manifest or files) or an input file breaks the contract of bramble-abi: an invalid
    /// manifest, a missing, modified or extra bundle file, an unreadable array.
    #[error(transparent)]
    Contract(#[from] bramble_abi::error::Error),

    /// An output file that would overwrite an input or an existing file.
    #[error(transparent)]
    Output(#[from] crate::fsutil::OutputError),

    /// A command-line combination that cannot work (an option a backend needs is missing).
    #[error("{detail}")]
    Usage { detail: String },

    /// A register access whose byte offset is not word aligned.
    #[error("register access at offset {offset:#x}: offset must be a multiple of 4")]
    Unaligned { offset: u64 },

    /// A register access outside the accelerator's address space (or the backend's mapping).
    #[error(
        "register access of {words} word(s) at offset {offset:#x} is outside the {limit:#x}-byte address space"
    )]
    OutOfRange {
        offset: u64,
        words: usize,
        limit: u64,
    },

    /// The identification block read from the device does not match the bundle's manifest.
    #[error("device does not match the bundle: {field}: expected {expected}, found {found}")]
    Mismatch {
        field: &'static str,
        expected: String,
        found: String,
    },

    /// The wrong number of values for the input or output window.
    #[error("{what}: expected {expected} values, got {found}")]
    Length {
        what: &'static str,
        expected: usize,
        found: usize,
    },

    /// An input value that is NaN or infinite (the hardware has neither).
    #[error("input value {index} is {value}: inputs must be finite")]
    NonFinite { index: usize, value: f64 },

    /// A raw input that does not fit the signed `act_bits` range.
    #[error("raw input {index} = {value} does not fit in {bits}-bit signed ({min}..={max})",
        min = -(1i64 << (bits - 1)), max = (1i64 << (bits - 1)) - 1)]
    RawRange { index: usize, value: i64, bits: u32 },

    /// DONE did not come within the timeout. Not a failure of the device as such: the caller may
    /// wait again.
    #[error("timed out after {elapsed:?} waiting for DONE (timeout {timeout:?}{})",
        sim_cycles.map(|c| format!(", {c} simulated cycles reached")).unwrap_or_default())]
    Timeout {
        timeout: Duration,
        elapsed: Duration,
        /// For the simulator: the simulated clock cycles reached when the wait gave up.
        sim_cycles: Option<u64>,
    },

    /// A streamed batch did not come back within the timeout: how far it got, from the
    /// accelerator's counters (since this transfer's SCTRL.CLEAR) and the transport.
    #[error("stream stalled: timed out after {elapsed:?} (timeout {timeout:?}) streaming {vectors} vector(s) \
        ({done_before} delivered before this transfer); the accelerator counted VECTORS {streamed}, \
        IN_BEATS {in_beats} of {in_beats_expected}, OUT_BEATS {out_beats} of {out_beats_expected}; \
        {transport}{}", sim_cycles.map(|c| format!("; {c} simulated cycles reached")).unwrap_or_default())]
    StreamTimeout {
        timeout: Duration,
        elapsed: Duration,
        /// Vectors in the stalled transfer.
        vectors: usize,
        /// Vectors of the batch delivered by earlier transfers.
        done_before: usize,
        /// VECTORS, IN_BEATS, OUT_BEATS as read after the stall.
        streamed: u32,
        in_beats: u32,
        in_beats_expected: u64,
        out_beats: u32,
        out_beats_expected: u64,
        /// What the transport (DMA, XDMA) knows: bytes moved and its state.
        transport: String,
        sim_cycles: Option<u64>,
    },

    /// The stream path failed: a DMA error bit, a short or malformed transfer, a framing error,
    /// or a backend without a stream path asked to stream.
    #[error("{backend}: {detail}")]
    Stream { backend: String, detail: String },

    /// A weight image that cannot be loaded into the bundle's design: not whole words or beats,
    /// a record the engine would refuse, a CRC that does not check, a CRC other than the
    /// manifest's. Found before anything is sent.
    #[error("weight image {path}: {reason}", path = path.display())]
    WeightImage { path: PathBuf, reason: String },

    /// The device does not hold the bundle's weights (WHASH differs from the manifest's
    /// `weights.crc32`, or a run-time-weights design has none loaded): a run is refused.
    #[error("{}", stale_text(bundle, *expected, *found, *loaded, *runtime))]
    StaleWeights {
        /// The bundle whose weights were expected.
        bundle: PathBuf,
        expected: u32,
        /// WHASH as read.
        found: u32,
        /// WSTATUS.LOADED as read.
        loaded: bool,
        /// The bundle's weights are loaded at run time.
        runtime: bool,
    },

    /// WSTATUS.LOADED did not come within the timeout after the image was sent.
    #[error("timed out after {elapsed:?} (timeout {timeout:?}) loading weights: the engine took \
        {taken} of the {sent} image words sent (WWORDS){}",
        sim_cycles.map(|c| format!(", {c} simulated cycles reached")).unwrap_or_default())]
    WeightsTimeout {
        timeout: Duration,
        elapsed: Duration,
        /// Image words the host sent (or had sent when the transport gave up).
        sent: u64,
        /// WWORDS as read after the wait.
        taken: u32,
        sim_cycles: Option<u64>,
    },

    /// Loading weights failed on the device (WSTATUS.ERROR, a read-back WHASH other than the
    /// image's CRC) or cannot be done (a bundle or design without run-time weights).
    #[error("loading weights through {backend}: {detail}")]
    WeightsLoad { backend: String, detail: String },

    /// The accelerator is still running (an earlier run timed out and was not waited for): inputs
    /// must not be written and a START would be ignored, so nothing is touched.
    #[error("the accelerator is busy (STATUS.BUSY is set, probably an earlier run that timed out); wait for it to finish before writing inputs or starting")]
    Busy,

    /// A device node or sysfs entry that should exist does not.
    #[error("{what} not found at {path}", path = path.display())]
    DeviceAbsent { what: String, path: PathBuf },

    /// Opening or mapping a device node was refused.
    #[error("permission denied opening {path} ({hint})", path = path.display())]
    PermissionDenied { path: PathBuf, hint: &'static str },

    /// The device's mapping is smaller than the manifest's register map needs.
    #[error("mapping of {path} is {size:#x} bytes, but the bundle's register map needs {needed:#x}", path = path.display())]
    MapTooSmall {
        path: PathBuf,
        size: u64,
        needed: u64,
    },

    /// The backend or the device failed an access (AXI error response, short transfer, ...).
    #[error("{backend}: {detail}")]
    Backend { backend: String, detail: String },

    /// A `.bit` file that cannot be used.
    #[error("bitstream {path}: {reason}", path = path.display())]
    Bitstream { path: PathBuf, reason: String },

    /// The bitstream was built for another part than the bundle.
    #[error("bitstream {path} is for part {found}, but the bundle is for {expected} ({rule})", path = path.display())]
    PartMismatch {
        path: PathBuf,
        expected: String,
        found: String,
        rule: &'static str,
    },

    /// fpga_manager did not reach "operating".
    #[error("fpga_manager {path}: state is `{state}` after {elapsed:?} (timeout {timeout:?}), expected `operating`", path = path.display())]
    FpgaManagerTimeout {
        path: PathBuf,
        state: String,
        elapsed: Duration,
        timeout: Duration,
    },

    /// fpga_manager reported an error state while loading: the load failed (wrong or corrupt
    /// image for this device, a `.bin` the kernel could not find in its firmware path).
    #[error("fpga_manager {path}: loading {firmware} failed: state is `{state}`", path = path.display())]
    FpgaManagerFailed {
        path: PathBuf,
        firmware: String,
        state: String,
    },

    /// A bus address computed from a configured base and an offset does not fit: the base is
    /// wrong (checked, never wrapped to a small address).
    #[error("{what}: base {base:#x} + offset {offset:#x} exceeds the largest address {limit:#x}")]
    AddressOverflow {
        what: &'static str,
        base: u64,
        offset: u64,
        limit: u64,
    },

    /// Standard output could not be set aside for the program's own output (see
    /// [`crate::report::claim_stdout`]).
    #[error("cannot set aside standard output (fd 1) for the results")]
    Stdout {
        #[source]
        source: std::io::Error,
    },

    /// An input file (.npy) that cannot be used.
    #[error("input {path}: {reason}", path = path.display())]
    Input { path: PathBuf, reason: String },

    /// `verilator` is not installed or not on PATH.
    #[error("verilator not found ({detail}); install it (Debian: apt-get install verilator) or put it on PATH")]
    VerilatorMissing { detail: String },

    /// Building the simulation library failed; `log_tail` is the end of the compiler output.
    #[error("building the simulation library in {dir} failed ({status}); full log in {log}; last lines:\n{log_tail}", dir = dir.display(), log = log.display())]
    SimBuild {
        dir: PathBuf,
        status: String,
        log: PathBuf,
        log_tail: String,
    },

    /// The simulation library could not be loaded or lacks a harness symbol.
    #[error("loading the simulation library {path}: {detail}", path = path.display())]
    SimLoad { path: PathBuf, detail: String },
}

/// The text of [`Error::StaleWeights`]: what the device holds, what the bundle expects, and the
/// command that fixes it.
fn stale_text(
    bundle: &std::path::Path,
    expected: u32,
    found: u32,
    loaded: bool,
    runtime: bool,
) -> String {
    let b = bundle.display();
    if runtime && !loaded {
        format!(
            "the device holds no loaded weights (WSTATUS.LOADED is 0; WHASH {found:08x}), the \
             bundle {b} expects weights with CRC {expected:08x}: run `bramble-host load-weights \
             {b}` (or `run --weights {b}`) first"
        )
    } else if runtime {
        format!(
            "the device holds weights with CRC {found:08x}, the bundle {b} expects \
             {expected:08x}: run `bramble-host load-weights {b}` (or `run --weights {b}`) first"
        )
    } else {
        format!(
            "the device holds weights with CRC {found:08x}, the bundle {b} expects \
             {expected:08x} (its weights are in the bitstream): load the bundle's bitstream"
        )
    }
}

impl Error {
    /// Wraps an I/O error on `path`, turning the common cases into the dedicated variants.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        let path = path.into();
        match source.kind() {
            std::io::ErrorKind::NotFound => Error::DeviceAbsent {
                what: format!("file to {action}"),
                path,
            },
            std::io::ErrorKind::PermissionDenied => Error::PermissionDenied {
                path,
                hint: "run as root or grant the user access to the device node",
            },
            _ => Error::Io {
                action,
                path,
                source,
            },
        }
    }

    /// True for [`Error::Timeout`], the one error after which waiting again makes sense.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True for [`Error::Timeout`], [`Error::StreamTimeout`] and [`Error::WeightsTimeout`]: the
    /// device did not finish in time (exit code 4).
    pub fn is_any_timeout(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. } | Error::StreamTimeout { .. } | Error::WeightsTimeout { .. }
        )
    }
}
