//! Building the Verilator simulation library for a bundle, cached by content hash.
//!
//! The key hashes everything that goes into the `.so`: the harness source, the Verilog files and
//! the headers beside them (`bramble_defs.vh`), the top name, `verilator --version`, the flags,
//! and the trace switch. Memory images (`.mem`) are not in it: they are read by $readmemh at
//! model construction, not compiled in.
//!
//! Verilator runs inside the cache entry's build directory, so every path it is given (sources,
//! the include directory, the harness, `--Mdir`) is absolute; a bundle or cache named by a
//! relative path works from any working directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::manifest::Bundle;

/// The C-ABI harness, compiled into every simulation library (hw/sim/bramble_harness.cpp).
pub const HARNESS_SOURCE: &str = include_str!("../../../hw/sim/bramble_harness.cpp");

/// File name of the library inside its cache entry.
pub const LIBRARY_NAME: &str = "libbramble_sim.so";

/// How to build (and where to cache) the simulation library.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Cache directory; `None` = `$BRAMBLE_SIM_CACHE`, else `bramble-sim-cache` in the cargo
    /// target directory the running executable lives in, else `~/.cache/bramble/sim`.
    pub cache_dir: Option<PathBuf>,
    /// Write an FST waveform here (builds and uses the traced variant of the library).
    pub trace: Option<PathBuf>,
    /// The `verilator` executable; `None` = `$BRAMBLE_VERILATOR`, else `verilator` on PATH.
    pub verilator: Option<PathBuf>,
    /// Show a spinner while building (only ever when stderr is a terminal).
    pub progress: bool,
    /// Parallel compile jobs; `None` = available cores.
    pub jobs: Option<usize>,
}

/// A built (or cached) simulation library.
#[derive(Debug, Clone)]
pub struct SimLibrary {
    /// The `.so`.
    pub path: PathBuf,
    /// Built with `--trace-fst`.
    pub traced: bool,
    /// Content hash (hex) naming the cache entry.
    pub key: String,
    /// True if it came from the cache without building.
    pub cached: bool,
}

/// The cache directory `opts` resolves to ([`crate::fsutil::cache_dir`]).
pub fn cache_dir(opts: &SimOptions) -> PathBuf {
    crate::fsutil::cache_dir(opts.cache_dir.as_deref(), "BRAMBLE_SIM_CACHE", "sim")
}

fn verilator_exe(opts: &SimOptions) -> PathBuf {
    opts.verilator
        .clone()
        .or_else(|| std::env::var_os("BRAMBLE_VERILATOR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("verilator"))
}

/// `verilator --version`, or [`Error::VerilatorMissing`].
pub fn verilator_version(opts: &SimOptions) -> Result<String> {
    let exe = verilator_exe(opts);
    let out = Command::new(&exe)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::VerilatorMissing {
            detail: format!("running `{} --version`: {e}", exe.display()),
        })?;
    if !out.status.success() {
        return Err(Error::VerilatorMissing {
            detail: format!("`{} --version` exited with {}", exe.display(), out.status),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The Verilog sources of the bundle, in manifest order (`rtl_files`, which the manifest's
/// validation guarantees is non-empty and made of plain names listed in `files`).
pub fn rtl_sources(bundle: &Bundle) -> Result<Vec<PathBuf>> {
    let rtl = bundle.rtl_dir();
    Ok(bundle
        .manifest()
        .rtl_files
        .iter()
        .map(|f| rtl.join(f))
        .collect())
}

/// `p` made absolute against the working directory (without touching the file system).
fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io("make absolute", p, e))
}

/// The Verilog headers (`*.vh`, `*.svh`) in `dir`, sorted: not compiled on their own, but part of
/// every source that includes them.
fn include_headers(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut v: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "vh" || x == "svh"))
        .collect();
    v.sort();
    Ok(v)
}

/// Words of Verilator's runtime buffer for turning a register into a file name: enough for the
/// memory primitives' path register (`BRAMBLE_MEM_PATH_BYTES`, hw/bramble_ram_sdp.v). The
/// default, 64 words (256 bytes), is overrun by a longer `+bramble_mem_dir` path.
const VL_STRING_WORDS: usize = bramble_abi::verilog::MEM_PATH_BYTES / 4;

/// How the model is compiled, measured on jet_70pruned with 8 PEs for xc7z020 (`cargo bench -p
/// bramble --bench sim`, docs/benchmarks.md "Verilator throughput"). The generated top gives all
/// PEs the same parameters in this library, so the PE's code exists once (docs/engine.md,
/// "Memory images"); with that, the model is bound by instructions rather than by the
/// instruction cache, and:
/// - `OPT_FAST=-Os` (Verilator 5.006's default, passed so that another version's default does not
///   change it) executes 7% fewer instructions than `-O2` (callgrind) and runs about 9% faster
///   (median of interleaved rounds);
/// - `-Wl,-Bsymbolic` binds the model's calls into the PE's functions (about 70 per clock at 8
///   PEs) inside the library instead of through the PLT: 1% fewer instructions. The host loads
///   each library with `RTLD_LOCAL`, so this changes no symbol resolution;
/// - Verilator's own `-O3` generates the same C++ as `-O2` for these designs; `--x-assign fast` is
///   the default already; `--x-initial fast` only changes the constructor (to zeros, which is what
///   `randReset(0)` in the harness gives too). None of the three is passed.
const OPT_FAST: &str = "OPT_FAST=-Os";
const LDFLAGS: &str = "-shared -Wl,-Bsymbolic";

fn flags(bundle: &Bundle, traced: bool) -> Vec<String> {
    let cflags = format!(
        "-fPIC -DVL_USER_FINISH -DVL_USER_STOP -DVL_USER_FATAL \
         -DVL_VALUE_STRING_MAX_WORDS={VL_STRING_WORDS}"
    );
    let mut f: Vec<String> = [
        "--cc",
        "--exe",
        "--build",
        "-O2",
        "--no-timing",
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "--prefix",
        "Vbramble",
        "--top-module",
        &bundle.manifest().top,
        // Memory images come from +bramble_mem_dir (hw/bramble_ram_sdp.v).
        "+define+BRAMBLE_MEM_DIR_PLUSARG",
        "-CFLAGS",
        &cflags,
        "-LDFLAGS",
        LDFLAGS,
        "-MAKEFLAGS",
        OPT_FAST,
        "-o",
        LIBRARY_NAME,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if traced {
        f.extend(["--trace-fst", "-CFLAGS", "-DBRAMBLE_TRACE"].map(String::from));
    }
    f
}

static BUILD_SEQ: AtomicU64 = AtomicU64::new(0);

/// Returns the cached library for `bundle`, building it first if needed.
/// The bundle's files are checked against the manifest first (docs/bundle.md, "Integrity"):
/// nothing is compiled from a bundle with a missing, modified or extra file.
pub fn build(bundle: &Bundle, opts: &SimOptions) -> Result<SimLibrary> {
    if bundle.manifest().weights.weights_only {
        return Err(Error::Usage {
            detail: format!(
                "bundle {0} holds only weights (no rtl/): simulate the bundle whose geometry it \
                 was made for and load these weights with `--weights {0}`",
                bundle.dir().display()
            ),
        });
    }
    bundle.check_files()?;
    let traced = opts.trace.is_some();
    let version = verilator_version(opts)?;
    let sources = rtl_sources(bundle)?
        .iter()
        .map(|s| absolute(s))
        .collect::<Result<Vec<_>>>()?;
    let include_dir = absolute(&bundle.rtl_dir())?;
    let flags = flags(bundle, traced);

    let mut h = Sha256::new();
    h.update(b"bramble-sim-cache v1\0");
    h.update(version.as_bytes());
    h.update([0]);
    h.update(HARNESS_SOURCE.as_bytes());
    h.update([0]);
    for f in &flags {
        h.update(f.as_bytes());
        h.update([0]);
    }
    // The sources and the headers they include from rtl/ (bramble_defs.vh): a changed include
    // changes the model even when no source file does.
    for src in sources.iter().chain(&include_headers(&include_dir)?) {
        let bytes = std::fs::read(src).map_err(|source| Error::Io {
            action: "read RTL",
            path: src.clone(),
            source,
        })?;
        h.update(src.file_name().unwrap_or_default().as_encoded_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let key: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let cache = absolute(&cache_dir(opts))?;
    let entry = cache.join(&key);
    let lib = entry.join(LIBRARY_NAME);
    if lib.is_file() {
        return Ok(SimLibrary {
            path: lib,
            traced,
            key,
            cached: true,
        });
    }

    // Build in a private directory, then rename it into place: concurrent builders of the same
    // key (threads or processes) never see a half-written library.
    // Removed on drop and on Ctrl-C (crate::cleanup); by then it has been renamed into place or
    // kept as `.failed` when the build succeeded or failed.
    let tmp_guard = crate::cleanup::TempPath::new(cache.join(format!(
        "{key}.tmp.{}.{}",
        std::process::id(),
        BUILD_SEQ.fetch_add(1, Ordering::Relaxed)
    )));
    let tmp = tmp_guard.path().to_path_buf();
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io("create build directory", &tmp, e))?;
    let harness = tmp.join("bramble_harness.cpp");
    std::fs::write(&harness, HARNESS_SOURCE).map_err(|e| Error::io("write", &harness, e))?;
    let log_path = tmp.join("build.log");
    let log = std::fs::File::create(&log_path).map_err(|e| Error::io("create", &log_path, e))?;
    let log2 = log
        .try_clone()
        .map_err(|e| Error::io("open", &log_path, e))?;
    let jobs = opts
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let mut cmd = Command::new(verilator_exe(opts));
    cmd.current_dir(&tmp)
        .args(&flags)
        .arg("-j")
        .arg(jobs.to_string())
        .arg("--Mdir")
        .arg(tmp.join("obj"))
        .arg(format!("-I{}", include_dir.display()))
        .arg(&harness)
        .args(&sources)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);

    let spinner = (opts.progress && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!(
            "building the Verilator model of {} (first run only)",
            bundle.manifest().top
        ));
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    });
    // In its own process group: on Ctrl-C the whole build (make, g++) is stopped.
    let status = crate::cleanup::run(&mut cmd, false).map(|o| o.status);
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    let status = status.map_err(|e| Error::VerilatorMissing {
        detail: format!("running {}: {e}", verilator_exe(opts).display()),
    })?;
    let built = tmp.join("obj").join(LIBRARY_NAME);
    if !status.success() || !built.is_file() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(25)..].join("\n");
        // Keep the failed build's log where the error says it is.
        let failed = cache.join(format!("{key}.failed"));
        let _ = std::fs::remove_dir_all(&failed);
        let (dir, log) = match std::fs::rename(&tmp, &failed) {
            Ok(()) => (failed.clone(), failed.join("build.log")),
            Err(_) => (tmp.clone(), log_path.clone()),
        };
        return Err(Error::SimBuild {
            dir,
            status: status.to_string(),
            log,
            log_tail: tail,
        });
    }
    std::fs::rename(&built, tmp.join(LIBRARY_NAME)).map_err(|e| Error::io("move", &built, e))?;
    let _ = std::fs::remove_dir_all(tmp.join("obj"));
    if std::fs::rename(&tmp, &entry).is_err() {
        // Someone else finished the same key first; theirs is identical.
        let _ = std::fs::remove_dir_all(&tmp);
        if !lib.is_file() {
            return Err(Error::io(
                "install the built library at",
                &entry,
                std::io::Error::other("rename failed"),
            ));
        }
    }
    Ok(SimLibrary {
        path: lib,
        traced,
        key,
        cached: false,
    })
}

/// Where [`build`] would put the library for `key` (for tools and tests).
pub fn entry_path(opts: &SimOptions, key: &str) -> PathBuf {
    cache_dir(opts).join(key).join(LIBRARY_NAME)
}
