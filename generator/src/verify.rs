//! Running a bundle through the tools users trust: Verilator lint, the self-checking testbench
//! under Icarus and Verilator, and Yosys `synth_xilinx` for utilisation, BRAM inference and the
//! logic depth in LUT levels (crate::timing).
//! Used by `bramble verify`, the test suite and the benchmarks.

use crate::parts::Family;
use crate::timing::{self, ClockEstimate, LutDepth};
use bramble_abi::manifest::Manifest;
use bramble_host::cleanup::TempPath;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a tool run failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("`{tool}` is not installed or not on PATH ({source}); install verilator, iverilog and yosys (e.g. apt-get install verilator iverilog yosys)")]
    Missing {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed (exit {code:?}) in {dir}:\n{output}")]
    Failed {
        what: String,
        code: Option<i32>,
        dir: PathBuf,
        output: String,
    },
    #[error("{path}: {source}")]
    Netlist {
        path: PathBuf,
        #[source]
        source: timing::NetlistError,
    },
    #[error("{what}: {message}\n{output}")]
    Check {
        what: String,
        message: String,
        output: String,
    },
}

pub type Result<T> = std::result::Result<T, VerifyError>;

/// A checked copy of a bundle in a scratch directory, where the tools run and write their
/// outputs (`tb.vvp`, `obj_tb/`, Yosys reports). The bundle itself is only read, so it may be
/// read-only, and its files are checked against the manifest's hashes first. The scratch
/// directory is removed on drop and on Ctrl-C.
#[derive(Debug)]
pub struct BundleDir {
    /// The scratch directory (a copy of the bundle's listed files).
    pub dir: PathBuf,
    pub manifest: Manifest,
    _scratch: TempPath,
}

impl BundleDir {
    /// Checks the bundle at `src` (manifest, then every file's SHA-256, no extra files or
    /// symlinks) and copies its files into a new scratch directory.
    pub fn scratch(src: &Path) -> std::result::Result<BundleDir, bramble_abi::error::Error> {
        let manifest = Manifest::load(src)?;
        manifest.check_files(src)?;
        let base = std::env::temp_dir();
        let scratch = TempPath::new(base.join(format!(
            "bramble-verify-{}-{}",
            std::process::id(),
            SCRATCH_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )));
        let io = |path: &Path, source| bramble_abi::error::Error::Io {
            action: "copy bundle file to",
            path: path.to_path_buf(),
            source,
        };
        let _ = std::fs::remove_dir_all(scratch.path());
        for f in &manifest.files {
            let to = scratch.path().join(&f.path);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::copy(src.join(&f.path), &to).map_err(|e| io(&to, e))?;
        }
        Ok(BundleDir {
            dir: scratch.path().to_path_buf(),
            manifest,
            _scratch: scratch,
        })
    }

    pub fn rtl(&self) -> PathBuf {
        self.dir.join("rtl")
    }

    /// The top module's name.
    pub fn top(&self) -> &str {
        &self.manifest.top
    }

    /// The Verilog sources in compile order, as plain names inside `rtl/` (checked by the
    /// manifest's rules, so no name can be read as an option).
    pub fn rtl_files(&self) -> Vec<String> {
        self.manifest.rtl_files.clone()
    }

    fn tb_file(&self) -> String {
        format!("../tb/{}_tb.v", self.manifest.top)
    }
}

static SCRATCH_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn run(mut cmd: Command, tool: &str, what: &str, dir: &Path) -> Result<String> {
    cmd.current_dir(dir).stdin(std::process::Stdio::null());
    let out =
        bramble_host::cleanup::run(&mut cmd, true).map_err(|source| VerifyError::Missing {
            tool: tool.into(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(VerifyError::Failed {
            what: what.into(),
            code: out.status.code(),
            dir: dir.into(),
            output: tail(&text, 60),
        });
    }
    Ok(text)
}

fn tail(text: &str, lines: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

/// `verilator --lint-only -Wall` on the RTL: any warning is a failure.
pub fn lint(b: &BundleDir) -> Result<()> {
    let mut c = Command::new("verilator");
    c.args(["--lint-only", "-Wall", "--top-module", b.top()])
        .arg(format!("-I{}", b.rtl().display()))
        .args(b.rtl_files());
    let out = run(c, "verilator", "verilator --lint-only -Wall", &b.rtl())?;
    if out.contains("%Warning") || out.contains("%Error") {
        return Err(VerifyError::Check {
            what: "verilator --lint-only -Wall".into(),
            message: "warnings".into(),
            output: tail(&out, 60),
        });
    }
    Ok(())
}

/// Outcome of the self-checking testbench.
#[derive(Debug, Clone)]
pub struct TbResult {
    /// Cycle counter (START to DONE) per input vector.
    pub cycles: Vec<u64>,
    pub output: String,
}

fn parse_tb(what: &str, out: String) -> Result<TbResult> {
    let checked = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("TB PASS n="))
        .and_then(|n| n.trim().parse::<usize>().ok());
    if !matches!(checked, Some(n) if n > 0) {
        return Err(VerifyError::Check {
            what: what.into(),
            message: "testbench did not print `TB PASS n=<count>` with a count above 0".into(),
            output: tail(&out, 60),
        });
    }
    let cycles = out
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("TB input ")?;
            let (_, c) = rest.split_once(": ")?;
            c.split_whitespace().next()?.parse().ok()
        })
        .collect();
    Ok(TbResult {
        cycles,
        output: out,
    })
}

/// Compile with `iverilog -g2005` and run the testbench under `vvp`.
pub fn icarus(b: &BundleDir) -> Result<TbResult> {
    let vvp = b.dir.join("tb.vvp");
    let mut c = Command::new("iverilog");
    c.args(["-g2005", "-o"])
        .arg(&vvp)
        .args(["-s", &format!("{}_tb", b.top())])
        .arg(format!("-I{}", b.rtl().display()))
        .args(b.rtl_files())
        .arg(b.tb_file());
    run(c, "iverilog", "iverilog -g2005", &b.rtl())?;
    let mut r = Command::new("vvp");
    r.arg("-n").arg(&vvp);
    let out = run(r, "vvp", "vvp (Icarus testbench)", &b.rtl())?;
    parse_tb("Icarus testbench", out)
}

/// Build the testbench with `verilator --binary --timing` and run it.
pub fn verilator(b: &BundleDir) -> Result<TbResult> {
    let obj = b.dir.join("obj_tb");
    let mut c = Command::new("verilator");
    c.args([
        "--binary",
        "--timing",
        "-O2",
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
    ])
    .args([
        "--top-module",
        &format!("{}_tb", b.top()),
        "-o",
        "tbsim",
        "--Mdir",
    ])
    .arg(&obj)
    .arg(format!("-I{}", b.rtl().display()))
    .args(b.rtl_files())
    .arg(b.tb_file());
    run(c, "verilator", "verilator --binary (testbench)", &b.rtl())?;
    let out = run(
        Command::new(obj.join("tbsim")),
        "tbsim",
        "Verilator testbench",
        &b.rtl(),
    )?;
    parse_tb("Verilator testbench", out)
}

/// The netlist `yosys` writes in the scratch directory when asked for the depth (`write_json`).
pub const NETLIST_JSON: &str = "yosys_netlist.json";

/// Cell counts from Yosys `synth_xilinx -flatten` and, when asked, the register-to-register depth
/// in LUT levels read from its JSON netlist (crate::timing, docs/timing.md).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Utilisation {
    pub ramb18: usize,
    pub ramb36: usize,
    pub uram: usize,
    pub dsp: usize,
    pub lut: usize,
    pub lutram_cells: usize,
    /// Shift-register LUTs (SRL16E, SRLC32E): the engine's FIFOs.
    pub srl: usize,
    pub ff: usize,
    pub carry: usize,
    /// LUT levels on the worst register-to-register path (LUTs count 1; MUXF7/8 and CARRY4/8
    /// count 0; flip-flops, block RAM, DSP, LUT RAM, SRL and ports cut paths).
    pub lut_levels: Option<usize>,
    /// That path, start to end, with readable names.
    pub worst_path: Option<LutDepth>,
}

impl Utilisation {
    /// The clock the LUT depth suggests for `family` (None without the depth).
    pub fn clock_estimate(&self, family: Family) -> Option<ClockEstimate> {
        self.lut_levels.map(|l| timing::estimate(family, l))
    }

    /// `logic depth: 8 LUT levels (worst path: ...); estimated Fmax ~ ...`, or None without
    /// the depth.
    pub fn depth_text(&self, family: Family) -> Option<String> {
        let (levels, path) = (self.lut_levels?, self.worst_path.as_ref()?);
        Some(format!(
            "logic depth: {levels} LUT levels (worst path: {}); {}",
            path.path_text(),
            self.clock_estimate(family)?
        ))
    }
}

/// Synthesise with Yosys for `family` and count cells; with `with_depth`, also write the JSON
/// netlist and find the worst path in LUT levels.
pub fn yosys(b: &BundleDir, family: Family, with_depth: bool) -> Result<Utilisation> {
    // The script names no file of the bundle: the sources are positional arguments (read before
    // the script runs, after `--`), and the reports go to fixed names in the scratch directory.
    let stat = b.dir.join("yosys_stat.txt");
    let netlist = b.dir.join(NETLIST_JSON);
    let mut script = format!(
        "synth_xilinx -flatten -family {} -top {}; tee -q -o ../yosys_stat.txt stat",
        family.yosys_family(),
        b.top(),
    );
    if with_depth {
        script.push_str(&format!("; write_json ../{NETLIST_JSON}"));
    }
    let mut c = Command::new("yosys");
    // No include path: Yosys finds bramble_defs.vh next to the file that includes it.
    c.args(["-q", "-p", &script, "--"]).args(b.rtl_files());
    run(c, "yosys", "yosys synth_xilinx", &b.rtl())?;
    let text = std::fs::read_to_string(&stat).unwrap_or_default();
    let count = |pred: &dyn Fn(&str) -> bool| -> usize {
        text.lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let cell = it.next()?;
                let n: usize = it.next()?.parse().ok()?;
                pred(cell).then_some(n)
            })
            .sum()
    };
    let depth = if with_depth {
        let json = std::fs::read(&netlist).map_err(|e| VerifyError::Check {
            what: "yosys write_json".into(),
            message: format!("{}: cannot read: {e}", netlist.display()),
            output: String::new(),
        })?;
        let d = timing::analyse(&json, b.top()).map_err(|source| VerifyError::Netlist {
            path: netlist.clone(),
            source,
        })?;
        Some(d)
    } else {
        None
    };
    Ok(Utilisation {
        ramb18: count(&|c| c == family.ramb18()),
        ramb36: count(&|c| c == family.ramb36()),
        uram: count(&|c| c == "URAM288"),
        dsp: count(&|c| c.starts_with("DSP48")),
        lut: count(&|c| c.starts_with("LUT")),
        lutram_cells: count(&|c| {
            c.starts_with("RAM32")
                || c.starts_with("RAM64")
                || c.starts_with("RAM128")
                || c.starts_with("RAM256")
        }),
        srl: count(&|c| c.starts_with("SRL")),
        ff: count(&|c| c.starts_with("FD")),
        carry: count(&|c| c.starts_with("CARRY")),
        lut_levels: depth.as_ref().map(|d| d.levels),
        worst_path: depth,
    })
}
