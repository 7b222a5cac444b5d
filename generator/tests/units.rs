//! Unit testbenches of the engine's stage modules that have a contract of their own
//! (`hw/test/*_tb.v`): the SRL FIFO (order, `empty_o`, the registered `room_o` margin), the
//! scanner (exactly the non-zero activations, each once, `bc_end_o` after the last), the
//! accumulate stage (the read-after-write forwarding), the stream input and output (the
//! packing, backpressure, framing and TLAST rules of docs/register-map.md "Streams") and the
//! run-time weight loader (the image's records, every error case, the CRC, `clear_i`, both TDATA
//! widths; docs/bundle.md "Weight loading"). Each testbench is self-checking and
//! prints `UNIT PASS <module> ...` or `UNIT FAIL <module> ...`; this test compiles it with
//! `iverilog -g2005 -Wall` once per parameter set, runs it under `vvp`, and lints the module
//! under test with the same parameters (`verilator --lint-only -Wall`, any warning fails).
//!
//! The modules include the generated `bramble_defs.vh`: its text comes from
//! `bramble_abi::verilog::defs()` and is written into a scratch directory used as the include
//! path. The testbenches live in `hw/test/`, out of the bundles (`build.rs` embeds `hw/*.v`
//! only); `testbenches_stay_out_of_bundles` holds that. The tools must be installed (`.ci/run`
//! installs them); a missing tool fails the test with a clear message.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bramble_abi::rng::Rng;

/// Longest a compile, lint or simulation may take before the test kills it and fails.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

fn hw() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../hw")
}

/// One testbench: `hw/test/<module>_tb.v` for `hw/<module>.v` (and the modules it instantiates).
struct Unit {
    module: &'static str,
    /// Modules of `hw/` the testbench needs besides `module`.
    deps: &'static [&'static str],
    /// Testbench parameters that the module under test does not have (not passed to the lint).
    tb_only: &'static [&'static str],
    cases: &'static [Case],
}

/// One parameter set (testbench parameter name, Verilog value).
struct Case {
    params: &'static [(&'static str, &'static str)],
    /// A codebook image `(file, entries, bits)` written into the run directory, which the
    /// module loads with `BRAMBLE_READMEMH and the testbench reads for its reference.
    image: Option<(&'static str, usize, u32)>,
}

const FIFO: Unit = Unit {
    module: "bramble_fifo",
    deps: &[],
    tb_only: &["Seed"],
    cases: &[
        Case {
            params: &[("Width", "7"), ("Depth", "16"), ("Margin", "3")],
            image: None,
        },
        Case {
            params: &[
                ("Width", "20"),
                ("Depth", "32"),
                ("Margin", "8"),
                ("Seed", "2"),
            ],
            image: None,
        },
        // Depth not a power of two: the pointers wrap at the memory's 32 entries, room_o and
        // the Margin contract at 24.
        Case {
            params: &[
                ("Width", "5"),
                ("Depth", "24"),
                ("Margin", "2"),
                ("Seed", "4"),
            ],
            image: None,
        },
        // The smallest FIFO: one-bit pointers, room_o = not full.
        Case {
            params: &[
                ("Width", "1"),
                ("Depth", "2"),
                ("Margin", "1"),
                ("Seed", "3"),
            ],
            image: None,
        },
    ],
};

const SCANNER: Unit = Unit {
    module: "bramble_scanner",
    deps: &[],
    tb_only: &["Layers", "Seed"],
    cases: &[
        Case {
            params: &[
                ("NumPes", "1"),
                ("ActBits", "16"),
                ("RowBits", "6"),
                ("PtrIdxBits", "10"),
            ],
            image: None,
        },
        Case {
            params: &[
                ("NumPes", "3"),
                ("ActBits", "8"),
                ("RowBits", "5"),
                ("PtrIdxBits", "10"),
                ("Seed", "2"),
            ],
            image: None,
        },
        Case {
            params: &[
                ("NumPes", "8"),
                ("ActBits", "16"),
                ("RowBits", "4"),
                ("PtrIdxBits", "9"),
                ("Seed", "3"),
            ],
            image: None,
        },
    ],
};

const PE_MAC: Unit = Unit {
    module: "bramble_pe_mac",
    deps: &["bramble_ram_sdp"],
    tb_only: &["Rounds", "Seed"],
    cases: &[
        // Codebook in LUT logic, accumulators in block RAM, a 40-bit accumulator.
        Case {
            params: &[
                ("ActBits", "16"),
                ("IdxBits", "4"),
                ("CbBits", "16"),
                ("AccBits", "40"),
                ("LayerBits", "1"),
                ("CbDepth", "32"),
                ("CbBlock", "0"),
                ("CbFile", "\"cb16.mem\""),
                ("AccDepth", "16"),
                ("RowBits", "4"),
                ("AccBlock", "1"),
            ],
            image: Some(("cb16.mem", 32, 16)),
        },
        // Codebook in block RAM, accumulators in LUT RAM with a depth that is not a power of
        // two, four layers, and an accumulator exactly as wide as the product (sums wrap).
        Case {
            params: &[
                ("ActBits", "8"),
                ("IdxBits", "3"),
                ("CbBits", "8"),
                ("AccBits", "16"),
                ("LayerBits", "2"),
                ("CbDepth", "32"),
                ("CbBlock", "1"),
                ("CbFile", "\"cb8.mem\""),
                ("AccDepth", "12"),
                ("RowBits", "4"),
                ("AccBlock", "0"),
                ("Seed", "2"),
            ],
            image: Some(("cb8.mem", 32, 8)),
        },
    ],
};

const AXIS_IN: Unit = Unit {
    module: "bramble_axis_in",
    deps: &[],
    tb_only: &["Seed"],
    cases: &[
        // Two lanes of 16 bits, a last beat with one lane, three banks.
        Case {
            params: &[
                ("NumPes", "3"),
                ("ActBits", "12"),
                ("TdataBits", "32"),
                ("LaneBits", "16"),
                ("InSize", "7"),
                ("RowBits", "3"),
            ],
            image: None,
        },
        // One bank, 16-bit activations filling their lanes.
        Case {
            params: &[
                ("NumPes", "1"),
                ("ActBits", "16"),
                ("TdataBits", "32"),
                ("LaneBits", "16"),
                ("InSize", "5"),
                ("RowBits", "3"),
                ("Seed", "2"),
            ],
            image: None,
        },
        // Eight 8-bit lanes of a 64-bit beat.
        Case {
            params: &[
                ("NumPes", "8"),
                ("ActBits", "8"),
                ("TdataBits", "64"),
                ("LaneBits", "8"),
                ("InSize", "21"),
                ("RowBits", "2"),
                ("Seed", "3"),
            ],
            image: None,
        },
        // One beat per vector: vectors back to back.
        Case {
            params: &[
                ("NumPes", "4"),
                ("ActBits", "6"),
                ("TdataBits", "32"),
                ("LaneBits", "8"),
                ("InSize", "4"),
                ("RowBits", "1"),
                ("Seed", "4"),
            ],
            image: None,
        },
    ],
};

const AXIS_OUT: Unit = Unit {
    module: "bramble_axis_out",
    deps: &[],
    tb_only: &["Seed"],
    cases: &[
        Case {
            params: &[
                ("NumPes", "3"),
                ("ActBits", "12"),
                ("TdataBits", "32"),
                ("LaneBits", "16"),
                ("OutSize", "7"),
                ("RowBits", "3"),
            ],
            image: None,
        },
        Case {
            params: &[
                ("NumPes", "1"),
                ("ActBits", "16"),
                ("TdataBits", "32"),
                ("LaneBits", "16"),
                ("OutSize", "5"),
                ("RowBits", "3"),
                ("Seed", "2"),
            ],
            image: None,
        },
        Case {
            params: &[
                ("NumPes", "8"),
                ("ActBits", "8"),
                ("TdataBits", "64"),
                ("LaneBits", "8"),
                ("OutSize", "21"),
                ("RowBits", "2"),
                ("Seed", "3"),
            ],
            image: None,
        },
        // One activation per vector, a 64-bit cycles beat.
        Case {
            params: &[
                ("NumPes", "4"),
                ("ActBits", "6"),
                ("TdataBits", "64"),
                ("LaneBits", "8"),
                ("OutSize", "1"),
                ("RowBits", "1"),
                ("Seed", "4"),
            ],
            image: None,
        },
    ],
};

const WLOAD: Unit = Unit {
    module: "bramble_wload",
    deps: &[],
    tb_only: &["Seed"],
    cases: &[
        // 32-bit TDATA, three PEs, bias words of two chunks, a three-entry layer table.
        Case {
            params: &[
                ("NumPes", "3"),
                ("TdataBits", "32"),
                ("AddrBits", "5"),
                ("EntryWidth", "18"),
                ("EntryDepth", "20"),
                ("PtrWidth", "7"),
                ("PtrDepth", "12"),
                ("BiasWidth", "40"),
                ("BiasDepth", "10"),
                ("CbWidth", "16"),
                ("CbDepth", "16"),
                ("LayersDepth", "3"),
            ],
            image: None,
        },
        // 64-bit TDATA (two words per beat, TREADY every other clock), eight PEs, entry words
        // of three chunks, the codebook filling the 6-bit bus, one layer.
        Case {
            params: &[
                ("NumPes", "8"),
                ("TdataBits", "64"),
                ("AddrBits", "6"),
                ("EntryWidth", "72"),
                ("EntryDepth", "9"),
                ("PtrWidth", "10"),
                ("PtrDepth", "33"),
                ("BiasWidth", "48"),
                ("BiasDepth", "8"),
                ("CbWidth", "8"),
                ("CbDepth", "64"),
                ("LayersDepth", "1"),
                ("Seed", "2"),
            ],
            image: None,
        },
        // The loader of the tiny snapshot design with run-time weights (3-bit bus).
        Case {
            params: &[
                ("NumPes", "2"),
                ("TdataBits", "32"),
                ("AddrBits", "3"),
                ("EntryWidth", "5"),
                ("EntryDepth", "6"),
                ("PtrWidth", "3"),
                ("PtrDepth", "5"),
                ("BiasWidth", "17"),
                ("BiasDepth", "3"),
                ("CbWidth", "8"),
                ("CbDepth", "8"),
                ("LayersDepth", "2"),
                ("Seed", "3"),
            ],
            image: None,
        },
        // 64-bit TDATA, one PE, bias words of three chunks, a memory as deep as the bus.
        Case {
            params: &[
                ("NumPes", "1"),
                ("TdataBits", "64"),
                ("AddrBits", "4"),
                ("EntryWidth", "64"),
                ("EntryDepth", "16"),
                ("PtrWidth", "12"),
                ("PtrDepth", "5"),
                ("BiasWidth", "96"),
                ("BiasDepth", "3"),
                ("CbWidth", "32"),
                ("CbDepth", "16"),
                ("LayersDepth", "2"),
                ("Seed", "4"),
            ],
            image: None,
        },
    ],
};

const UNITS: &[&Unit] = &[&FIFO, &SCANNER, &PE_MAC, &AXIS_IN, &AXIS_OUT, &WLOAD];

/// Run `cmd` in `dir` with a deadline; returns (success, stdout + stderr).
fn run(mut cmd: Command, dir: &Path) -> (bool, String) {
    let what = format!("{cmd:?}");
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run {what} ({e}); install iverilog and verilator \
             (e.g. apt-get install iverilog verilator)"
        )
    });
    // Drain both pipes on threads so a chatty tool cannot block on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TOOL_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took longer than {TOOL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = format!("{}{}", out_t.join().unwrap(), err_t.join().unwrap());
    (status.success(), text)
}

/// A scratch directory holding the generated include.
fn include_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(bramble_abi::verilog::DEFS_FILE),
        bramble_abi::verilog::defs(bramble_abi::regs::entry::EIE_GAP_BITS),
    )
    .unwrap();
    dir
}

/// A codebook image: `entries` lines of `bits`-bit hex, the signed extremes, 0, +-1 and random
/// values.
fn codebook_image(entries: usize, bits: u32, seed: u64) -> String {
    let mask = (1u64 << bits) - 1;
    let min = 1u64 << (bits - 1);
    let special = [min, min - 1, mask, 0, 1];
    let mut rng = Rng::new(seed);
    let digits = bits.div_ceil(4) as usize;
    (0..entries)
        .map(|i| {
            let v = if i < special.len() {
                special[i]
            } else if rng.chance(0.2) {
                *rng.pick(&special)
            } else {
                rng.next_u64() & mask
            };
            format!("{v:0digits$x}\n")
        })
        .collect()
}

fn module_files(unit: &Unit) -> Vec<PathBuf> {
    std::iter::once(unit.module)
        .chain(unit.deps.iter().copied())
        .map(|m| hw().join(format!("{m}.v")))
        .collect()
}

fn case_text(case: &Case) -> String {
    case.params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `verilator --lint-only -Wall` on the module under test with the case's parameters.
fn lint(unit: &Unit, case: &Case, inc: &Path, dir: &Path) {
    let mut c = Command::new("verilator");
    c.args(["--lint-only", "-Wall", "--top-module", unit.module])
        .arg(format!("-I{}", inc.display()));
    for (k, v) in case.params {
        if !unit.tb_only.contains(k) {
            c.arg(format!("-G{k}={v}"));
        }
    }
    c.args(module_files(unit));
    let (ok, out) = run(c, dir);
    assert!(
        ok && !out.contains("%Warning") && !out.contains("%Error"),
        "verilator --lint-only -Wall {} ({}):\n{out}",
        unit.module,
        case_text(case)
    );
}

/// Compile the testbench with Icarus and run it; returns the PASS line.
fn simulate(unit: &Unit, case: &Case, inc: &Path, dir: &Path) -> String {
    let tb = format!("{}_tb", unit.module);
    let vvp = dir.join(format!("{tb}.vvp"));
    let mut c = Command::new("iverilog");
    c.args(["-g2005", "-Wall", "-s", &tb, "-o"])
        .arg(&vvp)
        .arg(format!("-I{}", inc.display()));
    for (k, v) in case.params {
        c.arg(format!("-P{tb}.{k}={v}"));
    }
    c.arg(hw().join("test").join(format!("{tb}.v")))
        .args(module_files(unit));
    let (ok, out) = run(c, dir);
    assert!(
        ok && !out.to_lowercase().contains("warning"),
        "iverilog -g2005 -Wall {tb} ({}):\n{out}",
        case_text(case)
    );

    let mut r = Command::new("vvp");
    r.arg("-n").arg(&vvp);
    let (ok, out) = run(r, dir);
    let pass: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(&format!("UNIT PASS {} ", unit.module)))
        .collect();
    assert!(
        ok && pass.len() == 1 && !out.contains("UNIT FAIL"),
        "{tb} ({}) did not pass:\n{out}",
        case_text(case)
    );
    for l in out.lines().filter(|l| l.starts_with("UNIT INFO")) {
        eprintln!("{l}");
    }
    pass[0].to_string()
}

fn check_unit(unit: &Unit) {
    let inc = include_dir();
    for (i, case) in unit.cases.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        if let Some((file, entries, bits)) = case.image {
            std::fs::write(
                dir.path().join(file),
                codebook_image(entries, bits, 0xC0DE + i as u64),
            )
            .unwrap();
        }
        lint(unit, case, inc.path(), dir.path());
        let pass = simulate(unit, case, inc.path(), dir.path());
        eprintln!("{pass}");
    }
}

#[test]
fn fifo() {
    check_unit(&FIFO);
}

#[test]
fn scanner() {
    check_unit(&SCANNER);
}

#[test]
fn pe_mac_forwarding() {
    check_unit(&PE_MAC);
}

#[test]
fn axis_in_packing_and_framing() {
    check_unit(&AXIS_IN);
}

#[test]
fn axis_out_packing_backpressure_tlast() {
    check_unit(&AXIS_OUT);
}

#[test]
fn wload_records_errors_crc() {
    check_unit(&WLOAD);
}

/// Every testbench in `hw/test/` is run above, and none of them reaches a bundle: the embedded
/// modules (`build.rs`) are exactly the top-level `hw/*.v`.
#[test]
fn testbenches_stay_out_of_bundles() {
    let mut tbs: Vec<String> = std::fs::read_dir(hw().join("test"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".v"))
        .collect();
    tbs.sort();
    let mut run: Vec<String> = UNITS.iter().map(|u| format!("{}_tb.v", u.module)).collect();
    run.sort();
    assert_eq!(
        tbs, run,
        "hw/test/ testbenches and the units this test runs"
    );

    let mut top: Vec<String> = std::fs::read_dir(hw())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".v"))
        .collect();
    top.sort();
    let mut embedded: Vec<String> = bramble::generate::HW_FILES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(embedded, top, "modules embedded in bundles vs hw/*.v");
    for (name, text) in bramble::generate::HW_FILES {
        assert!(
            !name.contains('/') && !name.ends_with("_tb.v"),
            "{name} is embedded"
        );
        assert!(
            !text.contains("UNIT PASS"),
            "{name}: a unit testbench is embedded in bundles"
        );
    }
}
