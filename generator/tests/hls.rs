//! The HLS C++ kernel (docs/hls.md): compiled with g++ `-std=c++17 -Wall -Wextra -Werror` (and
//! clang++ when present), its raw outputs equal the golden model's (`bramble infer`) on the jet
//! networks, the digits example and random networks (all-zero layers, saturating inputs, empty
//! rows and columns, 1 to 16 PEs, 2 to 8 weight bits, both TDATA widths), its self-checking
//! testbench passes under `make csim`, and one tiny kernel is pinned by snapshots.
//!
//! Each kernel is compiled once (cached by content hash in the target directory, as
//! `bramble csim` does). The throughput measurement is `#[ignore]`d:
//! `cargo test --release -p bramble --test hls -- --ignored --nocapture csim_throughput`.

mod common;

use bramble::csim::{self, CsimOptions, Driver};
use bramble::generate::{self, Options};
use bramble::golden;
use bramble::hls::HlsOptions;
use bramble::model::Model;
use bramble::parts;
use bramble::plan;
use bramble::synthetic::{self, LayerSpec, Spec};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A generated bundle with its HLS kernel compiled.
struct Kernel {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    driver: Driver,
}

fn kernel(model: &Model, part: &str, pes: usize, tdata_bits: u32, tb: Vec<Vec<i64>>) -> Kernel {
    kernel_gap(model, part, pes, None, tdata_bits, tb)
}

/// [`kernel`] with the entry format's row-gap width pinned (`--gap-bits`).
fn kernel_gap(
    model: &Model,
    part: &str,
    pes: usize,
    gap_bits: Option<u32>,
    tdata_bits: u32,
    tb: Vec<Vec<i64>>,
) -> Kernel {
    let part = parts::find(part).unwrap();
    let req = plan::Request {
        pes: Some(pes),
        gap_bits,
        ..Default::default()
    };
    let (g, p) = plan::choose_with(model, part, req).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    let opts = Options {
        tb_inputs: Some(tb),
        tb_count: 8,
        ..Default::default()
    };
    let hls = HlsOptions { tdata_bits };
    let bundle = generate::generate_with(model, part, &g, &p, &opts, Some(&hls)).unwrap();
    bundle.write(&dir, false).unwrap();
    let manifest = bramble_host::Bundle::load_checked(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .manifest()
        .clone();
    let driver =
        csim::build(&dir, &manifest, &CsimOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    Kernel {
        _tmp: tmp,
        dir,
        driver,
    }
}

/// Compiles `model`'s kernel and checks its raw outputs against the golden model on `inputs`.
fn check(model: &Model, part: &str, pes: usize, tdata_bits: u32, inputs: Vec<Vec<i64>>) -> Kernel {
    let k = kernel(model, part, pes, tdata_bits, inputs.clone());
    let run = csim::run(&k.driver, &inputs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.raw.len(), inputs.len());
    for (i, (x, got)) in inputs.iter().zip(&run.raw).enumerate() {
        assert_eq!(
            got,
            &golden::run(model, x),
            "{}: input {i}: C simulation vs golden model ({pes} PEs, TDATA {tdata_bits})",
            model.name
        );
    }
    k
}

/// The bundle's own test vectors (all zeros, saturating, mixed) plus random sparse ones.
fn inputs(model: &Model, seed: u64) -> Vec<Vec<i64>> {
    let mut v = generate::random_inputs(model, 6, seed);
    v.extend(synthetic::inputs(model, 6, 0.5, seed));
    v
}

fn jet(name: &str) -> Model {
    bramble::benchmarks::jet(name).unwrap()
}

#[test]
fn jet_70pruned_bit_exact() {
    let m = jet("jet_70pruned");
    check(&m, "xc7z020", 4, 32, inputs(&m, 1));
}

#[test]
fn jet_dense_bit_exact() {
    let m = jet("jet_dense");
    check(&m, "xczu3eg", 8, 64, inputs(&m, 2));
}

#[test]
fn jet_95pruned_empty_rows_and_columns_bit_exact() {
    let m = jet("jet_95pruned");
    check(&m, "xc7z020", 3, 32, inputs(&m, 3));
}

#[allow(clippy::too_many_arguments)]
fn spec(seed: u64, shape: &[usize], d: f64, act: u32, wb: u32, cb: u32, empty: usize) -> Model {
    let layers = shape
        .windows(2)
        .enumerate()
        .map(|(i, w)| LayerSpec {
            rows: w[1],
            cols: w[0],
            density: d,
            relu: i + 2 < shape.len(),
        })
        .collect();
    synthetic::model(&Spec {
        name: format!("rnd{seed}"),
        input: shape[0],
        layers,
        act_bits: act,
        weight_bits: wb,
        codebook_bits: cb,
        empty_every: empty,
        seed,
    })
}

/// The random networks of tests/rtl.rs, and a few more formats:
/// (seed, shape, density, act_bits, weight_bits, codebook_bits, empty_every, PEs, part, TDATA).
#[allow(clippy::type_complexity)]
const RANDOM: &[(u64, &[usize], f64, u32, u32, u32, usize, usize, &str, u32)] = &[
    (1, &[7, 5], 0.6, 16, 4, 16, 0, 1, "xc7z020", 32),
    (2, &[20, 13, 6], 0.3, 8, 4, 8, 0, 2, "xczu3eg", 64),
    (3, &[33, 40, 9], 0.25, 16, 4, 12, 4, 3, "xc7z020", 32),
    (4, &[24, 300, 10], 0.03, 16, 4, 16, 0, 16, "xczu9eg", 64),
    (5, &[16, 16, 16, 16], 0.5, 16, 5, 18, 0, 5, "xc7z045", 32),
    (6, &[40, 12], 0.9, 12, 2, 10, 0, 7, "xcu250", 64),
    (7, &[10, 64, 4], 1.0, 16, 4, 16, 0, 8, "xcu55c", 32),
    (8, &[12, 9, 5], 0.0, 16, 4, 16, 0, 4, "xc7z020", 64),
    (9, &[256, 512, 10], 0.15, 16, 4, 16, 0, 2, "xc7z020", 32),
    (10, &[300, 400, 32], 0.2, 16, 4, 16, 5, 4, "xczu9eg", 64),
    (
        11,
        &[9, 17, 3, 25, 8, 11, 2],
        0.4,
        16,
        3,
        14,
        0,
        6,
        "xczu3eg",
        32,
    ),
    (12, &[30, 20], 0.5, 16, 8, 16, 0, 9, "xc7z045", 64),
    // Beyond the RTL set: narrow activations (8-bit lanes), 6 and 7 weight bits, odd widths.
    (13, &[19, 23, 7], 0.35, 5, 6, 9, 3, 3, "xc7z020", 32),
    (14, &[31, 11], 0.7, 8, 7, 6, 0, 16, "xczu9eg", 64),
    (15, &[5, 40, 40, 3], 0.05, 2, 2, 2, 0, 1, "xc7z020", 32),
];

/// Every row-gap width (issue 14) on a network with long gaps: the kernel's GAP_MASK comes from
/// the plan, so 3-bit gaps pad often and 8-bit ones never.
#[test]
fn every_gap_width_bit_exact() {
    let m = spec(21, &[24, 300, 10], 0.03, 16, 4, 16, 0);
    let x = inputs(&m, 21);
    for gap_bits in 3..=8 {
        let k = kernel_gap(&m, "xczu9eg", 4, Some(gap_bits), 32, x.clone());
        let h = std::fs::read_dir(k.dir.join("hls"))
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .find(|t| t.contains("GAP_MASK"))
            .expect("a kernel header in hls/");
        assert!(
            h.contains(&format!("const int GAP_BITS = {gap_bits};")),
            "the kernel header carries the plan's gap width"
        );
        let run = csim::run(&k.driver, &x).unwrap_or_else(|e| panic!("{e}"));
        for (i, (xi, got)) in x.iter().zip(&run.raw).enumerate() {
            assert_eq!(got, &golden::run(&m, xi), "gap {gap_bits}, input {i}");
        }
    }
}

#[test]
fn random_networks_bit_exact() {
    for &(seed, shape, d, a, wb, cb, e, pes, part, t) in RANDOM {
        let m = spec(seed, shape, d, a, wb, cb, e);
        check(&m, part, pes, t, inputs(&m, seed));
    }
}

/// A wider sweep than CI runs: random shapes (1 to 4 layers, 1 to 80 wide), densities, activation
/// widths 2 to 16, 1 to 8 weight bits, codebook widths 2 to 18, 1 to 16 PEs, empty rows and
/// columns, both TDATA widths. `BRAMBLE_HLS_SWEEP=N` networks (default 40, about a minute):
/// `cargo test --release -p bramble --test hls -- --ignored random_sweep`.
#[test]
#[ignore = "sweep: cargo test --release -p bramble --test hls -- --ignored random_sweep"]
fn random_sweep() {
    let count: u64 = std::env::var("BRAMBLE_HLS_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut rng = synthetic::Rng::new(0x4b15);
    let mut ran = 0;
    for i in 0..count {
        let layers = rng.int(1, 4) as usize;
        let shape: Vec<usize> = (0..=layers).map(|_| rng.int(1, 80) as usize).collect();
        let density = [0.0, 0.02, 0.1, 0.3, 0.6, 1.0][rng.int(0, 5) as usize];
        let a = rng.int(2, 16) as u32;
        let wb = rng.int(1, 8) as u32;
        let cb = rng.int(2, 18) as u32;
        let empty = rng.int(0, 5) as usize;
        let pes = rng.int(1, 16) as usize;
        let t = [32, 64][rng.int(0, 1) as usize];
        let seed = 1000 + i;
        let m = spec(seed, &shape, density, a, wb, cb, empty);
        if let Err(e) = m.check() {
            eprintln!("skipped {shape:?} a{a} w{wb} c{cb}: {e}");
            continue;
        }
        if plan::choose(&m, parts::find("xcu250").unwrap(), Some(pes)).is_err() {
            eprintln!("skipped {shape:?} with {pes} PEs: does not plan");
            continue;
        }
        check(&m, "xcu250", pes, t, inputs(&m, seed));
        ran += 1;
    }
    eprintln!("{ran} of {count} random networks bit-exact");
    assert!(ran * 2 >= count, "too many skipped");
}

/// The example end to end through the command line: `bramble csim --json` prints exactly what
/// `bramble infer --json` prints, on all 360 test images.
#[test]
fn digits_csim_equals_infer() {
    let ex = workspace_root().join("examples/digits");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let model = d.join("digits.model");
    let x = ex.join("test_x.npy");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    bramble_in(
        d,
        &["compress", &s(&ex.join("digits.yaml")), "-o", &s(&model)],
    )
    .expect_ok("compress");
    bramble_in(
        d,
        &[
            "generate",
            "digits.model",
            "--part",
            "xc7z020",
            "--hls",
            "--tdata-bits",
            "64",
            "-o",
            "b",
        ],
    )
    .expect_ok("generate --hls");
    let csim = bramble_in(d, &["csim", "b", "--input", &s(&x), "--json"]).expect_ok("csim");
    let infer =
        bramble_in(d, &["infer", "digits.model", "--input", &s(&x), "--json"]).expect_ok("infer");
    assert_eq!(csim.json()["raw"].as_array().unwrap().len(), 360);
    assert_eq!(csim.stdout, infer.stdout, "csim vs infer, byte for byte");
    // Text form too.
    let text = bramble_in(d, &["csim", "b", "--input", &s(&x)]).expect_ok("csim text");
    let itext = bramble_in(d, &["infer", "digits.model", "--input", &s(&x)]).expect_ok("infer");
    assert_eq!(text.stdout, itext.stdout);
}

/// Every HLS file is in the manifest, and the generated testbench passes under `make csim`
/// (building outside the bundle, which stays as generated).
#[test]
fn make_csim_passes_and_bundle_stays_clean() {
    let m = spec(21, &[13, 8, 6], 0.5, 16, 4, 16, 0);
    let k = check(&m, "xc7z020", 3, 32, inputs(&m, 21));
    let manifest = bramble_abi::manifest::Manifest::load(&k.dir).unwrap();
    for f in [
        "hls/rnd21_top.cpp",
        "hls/rnd21_top.h",
        "hls/rnd21_top_params.h",
        "hls/tb.cpp",
        "hls/driver.cpp",
        "hls/tb_input.beats",
        "hls/tb_expected.beats",
        "hls/build.tcl",
        "hls/Makefile",
    ] {
        assert!(manifest.files.iter().any(|e| e.path == f), "{f} not listed");
    }
    if Command::new("make").arg("--version").output().is_err() {
        eprintln!("make not installed: `make csim` not checked");
        return;
    }
    let build = k.dir.with_extension("hls-build-test");
    let out = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(k.dir.join("hls"))
        .arg("csim")
        .arg(format!("BUILD={}", build.display()))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make csim failed:\n{text}");
    assert!(
        text.contains("rnd21_top C simulation: 12 vectors, 0 mismatches: PASS"),
        "{text}"
    );
    manifest.check_files(&k.dir).unwrap();
}

/// clang++ accepts the same code with the same warnings as errors (skipped when not installed).
#[test]
fn clang_compiles_warning_free() {
    if Command::new("clang++").arg("--version").output().is_err() {
        eprintln!("clang++ not installed: skipped");
        return;
    }
    let m = spec(22, &[9, 12, 4], 0.5, 8, 3, 8, 3);
    let k = kernel(&m, "xc7z020", 2, 64, inputs(&m, 22));
    let exe = k.dir.with_extension("clang-tb");
    let hls = k.dir.join("hls");
    let out = Command::new("clang++")
        .args(csim::CXX_FLAGS)
        .arg(format!("-I{}", hls.display()))
        .arg("-o")
        .arg(&exe)
        .arg(hls.join("rnd22_top.cpp"))
        .arg(hls.join("tb.cpp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe)
        .arg(hls.join("tb_input.beats"))
        .arg(hls.join("tb_expected.beats"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The `ap_int` branch of the kernel (BRAMBLE_XILINX_TYPES) compiles warning-free against the
/// minimal stand-ins of the Xilinx headers in tests/hls_mock/ and its testbench passes there; under
/// `__SYNTHESIS__` every `BRAMBLE_HLS(...)` becomes a `#pragma HLS` line. This is not Vitis HLS:
/// it catches mistakes in the branch no CI machine can compile for real (docs/hls.md).
#[test]
fn xilinx_types_branch_against_mock_headers() {
    let m = spec(23, &[17, 21, 6], 0.4, 16, 4, 16, 4);
    let k = kernel(&m, "xczu3eg", 3, 64, inputs(&m, 23));
    let hls = k.dir.join("hls");
    let mock = workspace_root().join("generator/tests/hls_mock");
    let exe = k.dir.with_extension("mock-tb");
    let out = Command::new("g++")
        .args(csim::CXX_FLAGS)
        .arg("-DBRAMBLE_XILINX_TYPES")
        .arg(format!("-I{}", mock.display()))
        .arg(format!("-I{}", hls.display()))
        .arg("-o")
        .arg(&exe)
        .arg(hls.join("rnd23_top.cpp"))
        .arg(hls.join("tb.cpp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe)
        .arg(hls.join("tb_input.beats"))
        .arg(hls.join("tb_expected.beats"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let pre = Command::new("g++")
        .args(["-std=c++17", "-E", "-D__SYNTHESIS__"])
        .arg(format!("-I{}", mock.display()))
        .arg(format!("-I{}", hls.display()))
        .arg(hls.join("rnd23_top.cpp"))
        .output()
        .unwrap();
    assert!(pre.status.success());
    let text = String::from_utf8_lossy(&pre.stdout);
    let kernel_src = std::fs::read_to_string(hls.join("rnd23_top.cpp")).unwrap();
    let wanted = kernel_src.matches("BRAMBLE_HLS(").count() - 1; // one is in a comment
    let got = text
        .lines()
        .filter(|l| l.trim_start().starts_with("#pragma HLS "))
        .count();
    // The header's make_beat adds one INLINE.
    assert_eq!(got, wanted + 1, "pragmas after preprocessing:\n{text}");
    assert!(text.contains("#pragma HLS PIPELINE II=1"));
    assert!(text.contains(
        "#pragma HLS DEPENDENCE variable=acc type=inter direction=RAW dependent=true distance=2"
    ));
}

/// The tiny network of tests/snapshots.rs as a kernel: a change here is a reviewed change
/// (`cargo insta review`, or `INSTA_UPDATE=always cargo test --test hls` and read the diff).
#[test]
fn tiny_kernel_snapshot() {
    let m = tiny();
    let k = check(
        &m,
        "xc7z020",
        2,
        32,
        generate::random_inputs(&m, 2, m.hash()),
    );
    let read = |p: &str| std::fs::read_to_string(k.dir.join(p)).unwrap();
    insta::assert_snapshot!("tiny_hls_kernel_cpp", read("hls/tiny_top.cpp"));
    insta::assert_snapshot!("tiny_hls_params_h", read("hls/tiny_top_params.h"));
}

/// Bad requests get a clear error, never a panic: a TDATA width the streams do not have,
/// `csim` on a bundle without a kernel. (--tdata-bits without --hls sets the RTL streams' width.)
#[test]
fn clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tiny().save(&d.join("tiny.model")).unwrap();
    let base = ["generate", "tiny.model", "--part", "xc7z020", "-o", "b"];
    let o = bramble_in(d, &[&base[..], &["--hls", "--tdata-bits", "48"]].concat());
    assert!(!o.ok());
    assert!(o.stderr.contains("--tdata-bits 48"), "{}", o.stderr);
    assert!(o.stderr.contains("32 or 64"), "{}", o.stderr);
    let o = bramble_in(d, &[&base[..], &["--tdata-bits", "48"]].concat());
    assert!(!o.ok());
    assert!(o.stderr.contains("32 or 64"), "{}", o.stderr);
    assert!(!d.join("b").exists());

    bramble_in(d, &base).expect_ok("generate without --hls");
    write_npy_rows(&d.join("x.npy"), &[vec![0.5, -0.25, 0.0, 1.0]]);
    let o = bramble_in(d, &["csim", "b", "--input", "x.npy"]);
    assert!(!o.ok());
    assert!(o.stderr.contains("no HLS kernel"), "{}", o.stderr);
    assert!(o.stderr.contains("--hls"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);

    // A bundle is code: a kernel changed after generation is refused before anything compiles.
    bramble_in(d, &[&base[..], &["--hls", "--force"]].concat()).expect_ok("generate --hls");
    let cpp = d.join("b/hls/tiny_top.cpp");
    let mut text = std::fs::read_to_string(&cpp).unwrap();
    text.push_str("// edited\n");
    std::fs::write(&cpp, text).unwrap();
    let o = bramble_in(d, &["csim", "b", "--input", "x.npy"]);
    assert_eq!(o.code, Some(BAD_INPUT_FILE), "{}", o.stderr);
    assert!(o.stderr.contains("hls/tiny_top.cpp"), "{}", o.stderr);
    assert!(o.stderr.contains("modified"), "{}", o.stderr);
}

/// Inferences per second of the C simulation (the kernel call alone, as the driver times it)
/// next to the golden model's (best of five runs each), on the same inputs; the first two rows use exactly the designs and
/// inputs of `cargo bench -p bramble --bench sim` (Verilator), so the three can be compared.
/// Prints a table; asserts only exactness.
#[test]
#[ignore = "measurement: cargo test --release -p bramble --test hls -- --ignored --nocapture csim_throughput"]
fn csim_throughput() {
    let jet70 = jet("jet_70pruned");
    let mut rng = synthetic::Rng::new(5);
    let jet_inputs: Vec<Vec<i64>> = (0..2000)
        .map(|_| {
            let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
            golden::quantize_input(&jet70, &x)
        })
        .collect();
    let big = synthetic::model(&Spec {
        name: "fc1024".into(),
        input: 1024,
        layers: vec![LayerSpec {
            rows: 1024,
            cols: 1024,
            density: 0.10,
            relu: false,
        }],
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed: 42,
    });
    let big_inputs = synthetic::inputs(&big, 50, 0.35, 7);
    let digits = {
        let ex = workspace_root().join("examples/digits");
        bramble::source::load(&ex.join("digits.yaml")).unwrap().0
    };
    let digits_inputs = {
        let rows =
            bramble_abi::array::read_inputs(&workspace_root().join("examples/digits/test_x.npy"))
                .unwrap();
        rows.iter()
            .map(|x| golden::quantize_input(&digits, x))
            .collect()
    };
    let dense = jet("jet_dense");
    let dense_inputs = synthetic::inputs(&dense, 2000, 0.8, 9);
    let nets: Vec<(&str, &Model, usize, Vec<Vec<i64>>)> = vec![
        ("jet_70pruned", &jet70, 4, jet_inputs),
        ("1024x1024 10%/35%", &big, 8, big_inputs),
        ("jet_dense", &dense, 8, dense_inputs),
        ("digits (test_x.npy)", &digits, 4, digits_inputs),
    ];
    println!(
        "| design | PEs | inputs | C simulation (inferences/s) | golden model (inferences/s) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, m, pes, x) in nets {
        let k = kernel(m, "xcu250", pes, 32, x[..4].to_vec());
        // Best of five runs of each (the machine is shared; the fastest run is the least
        // disturbed one).
        let mut csim_ns = u64::MAX;
        for _ in 0..5 {
            let run = csim::run(&k.driver, &x).unwrap();
            assert_eq!(run.raw.len(), x.len());
            csim_ns = csim_ns.min(run.kernel_ns);
        }
        let run = csim::run(&k.driver, &x).unwrap();
        let mut golden_s = f64::MAX;
        let mut gold = Vec::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            gold = x.iter().map(|v| golden::run(m, v)).collect();
            golden_s = golden_s.min(t.elapsed().as_secs_f64());
        }
        assert_eq!(run.raw, gold, "{name}");
        println!(
            "| {name} | {pes} | {} | {:.0} | {:.0} |",
            x.len(),
            x.len() as f64 / (csim_ns as f64 * 1e-9),
            x.len() as f64 / golden_s
        );
    }
}
