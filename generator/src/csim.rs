//! `bramble csim`: the bundle's HLS kernel (docs/hls.md) compiled with a C++ compiler together
//! with its driver, cached by content hash, and run on quantised inputs. The streams are packed
//! and unpacked here by bramble_abi::stream, the one packing every stream producer and consumer
//! uses; the raw outputs must equal the golden model's.
//!
//! The cache key hashes everything that goes into the executable: the compiler's `--version`,
//! the flags, and the kernel, header, parameter header and driver sources. A build happens in a
//! private directory renamed into place, so concurrent builders of one key never see half a
//! build (as the Verilator cache in bramble-host does).

use bramble_abi::manifest::Manifest;
use bramble_abi::stream::Packing;
use bramble_host::cleanup::TempPath;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hls::{kernel_sources, DRIVER_FILE, HLS_DIR};

/// Flags every C simulation build uses: the generated C++ is warning-free by contract.
pub const CXX_FLAGS: [&str; 5] = ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror"];
/// File name of the driver executable inside its cache entry.
pub const DRIVER_EXE: &str = "bramble_csim_driver";

/// Why a C simulation could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum CsimError {
    #[error("bundle {dir}: no HLS kernel ({file} is not listed in the manifest); generate the bundle with `bramble generate --hls`", dir = dir.display())]
    NoHls { dir: PathBuf, file: String },
    #[error("C++ compiler `{cxx}` not usable ({detail}); install g++ (e.g. apt-get install g++) or set BRAMBLE_CXX", cxx = cxx.display())]
    Compiler { cxx: PathBuf, detail: String },
    #[error("compiling the HLS kernel failed ({status}); full log in {log}:\n{tail}", log = log.display())]
    Build {
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("cannot {action} {path}: {source}", path = path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("C simulation driver {exe}: {detail}", exe = exe.display())]
    Run { exe: PathBuf, detail: String },
    #[error("bundle {dir}: {detail}", dir = dir.display())]
    Mismatch { dir: PathBuf, detail: String },
}

pub type Result<T> = std::result::Result<T, CsimError>;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CsimError {
    let path = path.to_path_buf();
    move |source| CsimError::Io {
        action,
        path,
        source,
    }
}

/// Where and with what to build.
#[derive(Debug, Clone, Default)]
pub struct CsimOptions {
    /// Cache directory; `None` = `$BRAMBLE_CSIM_CACHE`, else `bramble-csim-cache` in the cargo
    /// target directory the running executable lives in, else `~/.cache/bramble/csim`.
    pub cache_dir: Option<PathBuf>,
    /// The C++ compiler; `None` = `$BRAMBLE_CXX`, else `g++`.
    pub cxx: Option<PathBuf>,
}

/// The cache directory `opts` resolves to (`bramble_host::fsutil::cache_dir`, as the Verilator
/// builds).
pub fn cache_dir(opts: &CsimOptions) -> PathBuf {
    bramble_host::fsutil::cache_dir(opts.cache_dir.as_deref(), "BRAMBLE_CSIM_CACHE", "csim")
}

fn cxx(opts: &CsimOptions) -> PathBuf {
    opts.cxx
        .clone()
        .or_else(|| {
            std::env::var_os("BRAMBLE_CXX")
                .filter(|c| !c.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("g++"))
}

/// The driver's interface, as `driver --info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub top: String,
    pub tdata_bits: u32,
    pub act_bits: u32,
    pub in_size: usize,
    pub out_size: usize,
}

/// A built (or cached) driver.
#[derive(Debug, Clone)]
pub struct Driver {
    pub exe: PathBuf,
    /// Content hash naming the cache entry.
    pub key: String,
    /// True if it came from the cache without compiling.
    pub cached: bool,
    pub info: Info,
    pub packing: Packing,
}

static BUILD_SEQ: AtomicU64 = AtomicU64::new(0);

/// The kernel and driver sources of the bundle at `dir` (absolute), checked to be listed in its
/// manifest (the caller has checked the files against their hashes).
fn sources(dir: &Path, m: &Manifest) -> Result<Vec<PathBuf>> {
    let [cpp, h, params] = kernel_sources(&m.top);
    let mut v = Vec::new();
    for name in [cpp, h, params, DRIVER_FILE.to_string()] {
        let rel = format!("{HLS_DIR}/{name}");
        if !m.files.iter().any(|f| f.path == rel) {
            return Err(CsimError::NoHls {
                dir: dir.to_path_buf(),
                file: rel,
            });
        }
        v.push(dir.join(rel));
    }
    Ok(v)
}

/// Returns the driver for the bundle at `dir` with manifest `m`, compiling it first if needed.
/// The caller has checked the bundle's files (`bramble_host::Bundle::load_checked`).
pub fn build(dir: &Path, m: &Manifest, opts: &CsimOptions) -> Result<Driver> {
    let dir = std::path::absolute(dir).map_err(io("make absolute", dir))?;
    let srcs = sources(&dir, m)?;
    let cxx = cxx(opts);
    let version = Command::new(&cxx)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CsimError::Compiler {
            cxx: cxx.clone(),
            detail: e.to_string(),
        })?;
    if !version.status.success() {
        return Err(CsimError::Compiler {
            cxx: cxx.clone(),
            detail: format!("`--version` exited with {}", version.status),
        });
    }
    let mut h = Sha256::new();
    h.update(b"bramble-csim-cache v1\0");
    h.update(&version.stdout);
    h.update([0]);
    for f in CXX_FLAGS {
        h.update(f.as_bytes());
        h.update([0]);
    }
    for src in &srcs {
        let bytes = std::fs::read(src).map_err(io("read", src))?;
        h.update(src.file_name().unwrap_or_default().as_encoded_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let key: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = cache_dir(opts);
    let cache = std::path::absolute(&cache).map_err(io("make absolute", &cache))?;
    let entry = cache.join(&key);
    let exe = entry.join(DRIVER_EXE);
    let cached = exe.is_file();
    if !cached {
        compile(&cxx, &srcs, &cache, &key, &entry)?;
    }
    let info = info(&exe)?;
    let packing = Packing::new(info.tdata_bits, info.act_bits).map_err(|e| CsimError::Run {
        exe: exe.clone(),
        detail: e.to_string(),
    })?;
    if info.top != m.top
        || info.act_bits != m.act_bits
        || info.in_size != m.input.size
        || info.out_size != m.output.size
    {
        return Err(CsimError::Mismatch {
            dir,
            detail: format!(
                "the HLS kernel is {} ({} inputs, {} outputs, {}-bit activations) but the manifest says {} ({}, {}, {})",
                info.top, info.in_size, info.out_size, info.act_bits, m.top, m.input.size, m.output.size, m.act_bits
            ),
        });
    }
    Ok(Driver {
        exe,
        key,
        cached,
        info,
        packing,
    })
}

fn compile(cxx: &Path, srcs: &[PathBuf], cache: &Path, key: &str, entry: &Path) -> Result<()> {
    let tmp_guard = TempPath::new(cache.join(format!(
        "{key}.tmp.{}.{}",
        std::process::id(),
        BUILD_SEQ.fetch_add(1, Ordering::Relaxed)
    )));
    let tmp = tmp_guard.path().to_path_buf();
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io("create build directory", &tmp))?;
    let include = srcs[0].parent().expect("hls/ holds the sources");
    let mut cmd = Command::new(cxx);
    cmd.current_dir(&tmp)
        .args(CXX_FLAGS)
        .arg(format!("-I{}", include.display()))
        .arg("-o")
        .arg(tmp.join(DRIVER_EXE))
        // Compilation units: the kernel and the driver (the headers come in through them).
        .arg(&srcs[0])
        .arg(&srcs[3])
        .stdin(Stdio::null());
    let out = bramble_host::cleanup::run(&mut cmd, true).map_err(|e| CsimError::Compiler {
        cxx: cxx.to_path_buf(),
        detail: e.to_string(),
    })?;
    if !out.status.success() {
        let log = cache.join(format!("{key}.failed.log"));
        let mut text = out.stdout.clone();
        text.extend_from_slice(&out.stderr);
        let _ = std::fs::write(&log, &text);
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        return Err(CsimError::Build {
            status: out.status.to_string(),
            log,
            tail: lines[lines.len().saturating_sub(25)..].join("\n"),
        });
    }
    if std::fs::rename(&tmp, entry).is_err() && !entry.join(DRIVER_EXE).is_file() {
        // Not someone else's identical build either.
        return Err(CsimError::Io {
            action: "install the built driver at",
            path: entry.to_path_buf(),
            source: std::io::Error::other("rename failed"),
        });
    }
    Ok(())
}

/// `driver --info`.
fn info(exe: &Path) -> Result<Info> {
    let bad = |detail: String| CsimError::Run {
        exe: exe.to_path_buf(),
        detail,
    };
    let out = Command::new(exe)
        .arg("--info")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| bad(format!("cannot run: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let field = |name: &str| -> Option<&str> {
        f.iter()
            .position(|w| *w == name)
            .and_then(|i| f.get(i + 1).copied())
    };
    let num = |name: &str| -> Result<u64> {
        field(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad(format!("`--info` printed no `{name}`: {text:?}")))
    };
    if !out.status.success() || f.first() != Some(&"bramble-csim") {
        return Err(bad(format!("`--info` failed ({}): {text:?}", out.status)));
    }
    Ok(Info {
        top: field("top").unwrap_or_default().to_string(),
        tdata_bits: num("tdata_bits")? as u32,
        act_bits: num("act_bits")? as u32,
        in_size: num("in")? as usize,
        out_size: num("out")? as usize,
    })
}

/// The outputs of one run.
#[derive(Debug, Clone)]
pub struct CsimRun {
    /// Raw output integers, one vector per input.
    pub raw: Vec<Vec<i64>>,
    /// Wall-clock time of the kernel call alone (all vectors), as the driver measured it.
    pub kernel_ns: u64,
}

/// Runs `inputs` (quantised, each `in_size` long and in range) through the driver.
pub fn run(d: &Driver, inputs: &[Vec<i64>]) -> Result<CsimRun> {
    let bad = |detail: String| CsimError::Run {
        exe: d.exe.clone(),
        detail,
    };
    let mut stdin = format!("{}\n", inputs.len());
    for (v, x) in inputs.iter().enumerate() {
        if x.len() != d.info.in_size {
            return Err(bad(format!(
                "input {v} has {} values; the kernel takes {}",
                x.len(),
                d.info.in_size
            )));
        }
        let text = crate::hls::beats_text(&d.packing, std::slice::from_ref(x))
            .map_err(|e| bad(format!("input {v}: {e}")))?;
        stdin.push_str(&text);
    }
    let mut child = Command::new(&d.exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| bad(format!("cannot run: {e}")))?;
    let mut pipe = child.stdin.take().expect("stdin is piped");
    // Written from a thread: the driver's output may fill its pipe before it has read all input.
    let writer = std::thread::spawn(move || pipe.write_all(stdin.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| bad(format!("waiting for it: {e}")))?;
    let written = writer.join().expect("the writer thread does not panic");
    if !out.status.success() {
        return Err(bad(format!(
            "exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    written.map_err(|e| bad(format!("writing its input: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let mut header = |name: &str| -> Result<u64> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| bad(format!("expected a `{name} N` line")))
    };
    let framing = header("framing")?;
    let kernel_ns = header("kernel_ns")?;
    if framing != 0 {
        return Err(bad(format!(
            "the kernel saw {framing} badly framed input vectors"
        )));
    }
    let beats: Vec<(u64, bool)> = lines
        .enumerate()
        .map(|(i, l)| {
            let mut w = l.split_whitespace();
            let data = w.next().and_then(|h| u64::from_str_radix(h, 16).ok());
            let last = w.next().and_then(|b| match b {
                "0" => Some(false),
                "1" => Some(true),
                _ => None,
            });
            data.zip(last)
                .ok_or_else(|| bad(format!("output beat {i}: expected `HEX LAST`, got {l:?}")))
        })
        .collect::<Result<_>>()?;
    let per = d.packing.beats(d.info.out_size);
    if beats.len() != per * inputs.len() {
        return Err(bad(format!(
            "{} output beats for {} vectors; expected {}",
            beats.len(),
            inputs.len(),
            per * inputs.len()
        )));
    }
    let mut raw = Vec::with_capacity(inputs.len());
    for (v, chunk) in beats.chunks(per).enumerate() {
        for (b, &(_, last)) in chunk.iter().enumerate() {
            if last != d.packing.is_last(b, d.info.out_size) {
                return Err(bad(format!(
                    "vector {v} beat {b}: TLAST {} but the packing puts it on beat {} only",
                    u8::from(last),
                    per - 1
                )));
            }
        }
        let data: Vec<u64> = chunk.iter().map(|&(w, _)| w).collect();
        raw.push(
            d.packing
                .unpack(&data, d.info.out_size)
                .map_err(|e| bad(format!("vector {v}: {e}")))?,
        );
    }
    Ok(CsimRun { raw, kernel_ns })
}
