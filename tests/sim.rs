//! End to end across the crates: a network (the jet descriptions from shared/benchmarks, or a
//! synthetic model) -> compressed model -> plan -> bundle (generator) -> checked bundle ->
//! Verilator simulation -> `Device` (host). The simulated RTL, driven only through AXI4-Lite
//! transactions, must equal the golden model bit for bit.

use bramble::generate::{self, Options};
use bramble::golden;
use bramble::model::Model;
use bramble::parts;
use bramble::plan;
use bramble::synthetic::{self, LayerSpec, Spec};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn bundle(model: &Model, part: &str, pes: usize, dir: &Path) -> PathBuf {
    let part = parts::find(part).unwrap();
    let (g, p) = plan::choose(model, part, Some(pes)).unwrap();
    let out = dir.join("bundle");
    let opts = Options {
        tb_inputs: None,
        tb_count: 1,
        ..Default::default()
    };
    let bundle = generate::generate(model, part, &g, &p, &opts).unwrap();
    bundle.write(&out, false).unwrap();
    out
}

fn cache() -> PathBuf {
    // Shared by all tests of this binary, inside the target directory.
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bramble-sim-cache")
}

fn open(dir: &Path) -> bramble_host::Device {
    let b = bramble_host::Bundle::load_checked(dir).unwrap();
    let opts = bramble_host::sim::SimOptions {
        cache_dir: Some(cache()),
        ..Default::default()
    };
    bramble_host::sim::open(b, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Run `inputs` through the simulated hardware and the golden model; they must agree exactly.
fn check(model: &Model, part: &str, pes: usize, inputs: &[Vec<i64>]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundle(model, part, pes, tmp.path());
    let mut dev = open(&dir);
    let batch = dev
        .run_batch_raw(inputs, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    for (i, x) in inputs.iter().enumerate() {
        let want = golden::run(model, x);
        assert_eq!(
            batch.raw[i],
            want,
            "input {i} of {}: hardware vs golden",
            inputs.len()
        );
        assert!(batch.cycles[i] > 0);
    }
}

fn jet(name: &str) -> Model {
    bramble::benchmarks::jet(name).unwrap()
}

/// 100 float inputs like the physics features (mostly within +-4), quantised.
fn jet_inputs(model: &Model) -> Vec<Vec<i64>> {
    let mut rng = synthetic::Rng::new(2024);
    (0..100)
        .map(|_| {
            let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
            golden::quantize_input(model, &x)
        })
        .collect()
}

#[test]
fn jet_dense_bit_exact() {
    let m = jet("jet_dense");
    check(&m, "xc7z020", 8, &jet_inputs(&m));
}

#[test]
fn jet_70pruned_bit_exact() {
    let m = jet("jet_70pruned");
    check(&m, "xczu3eg", 4, &jet_inputs(&m));
}

#[test]
fn jet_95pruned_bit_exact() {
    let m = jet("jet_95pruned");
    check(&m, "xcu250", 16, &jet_inputs(&m));
}

#[test]
fn mismatched_bundle_is_refused() {
    let m = jet("jet_70pruned");
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundle(&m, "xc7z020", 2, tmp.path());
    let path = dir.join("manifest.json");
    // Only the manifest's hash (model.json's SHA-256 in `files` starts with the same digits).
    let mut manifest = bramble_abi::manifest::Manifest::load(&dir).unwrap();
    assert_eq!(manifest.network_hash, m.hash_hex());
    manifest.network_hash = "0123456789abcdef".into();
    std::fs::write(&path, manifest.to_json()).unwrap();
    let b = bramble_host::Bundle::load_checked(&dir).unwrap();
    let opts = bramble_host::sim::SimOptions {
        cache_dir: Some(cache()),
        ..Default::default()
    };
    let err = bramble_host::sim::open(b, &opts)
        .err()
        .expect("a wrong hash must be refused");
    let msg = err.to_string();
    assert!(msg.contains("hash") || msg.contains("HASH"), "{msg}");
}

struct R {
    shape: &'static [usize],
    density: f64,
    act: u32,
    wb: u32,
    cb: u32,
    empty: usize,
    pes: usize,
    part: &'static str,
}

fn random_case(seed: u64, r: R) {
    let layers = r
        .shape
        .windows(2)
        .enumerate()
        .map(|(i, w)| LayerSpec {
            rows: w[1],
            cols: w[0],
            density: r.density,
            relu: i % 2 == 0,
        })
        .collect();
    let m = synthetic::model(&Spec {
        name: format!("sim{seed}"),
        input: r.shape[0],
        layers,
        act_bits: r.act,
        weight_bits: r.wb,
        codebook_bits: r.cb,
        empty_every: r.empty,
        seed,
    });
    let bits = m.input.format.bits;
    let (hi, lo) = ((1i64 << (bits - 1)) - 1, -(1i64 << (bits - 1)));
    let mut inputs = synthetic::inputs(&m, 10, 0.4, seed ^ 0x55);
    inputs.push(vec![0; m.input.size]); // all-zero activations
    inputs.push(vec![hi; m.input.size]); // saturating, both rails
    inputs.push(vec![lo; m.input.size]);
    inputs.push(
        (0..m.input.size)
            .map(|i| if i % 2 == 0 { hi } else { lo })
            .collect(),
    );
    check(&m, r.part, r.pes, &inputs);
}

macro_rules! random {
    ($($name:ident: $seed:expr => $r:expr;)*) => {
        $(#[test] fn $name() { random_case($seed, $r); })*
    };
}

random! {
    random_01: 101 => R { shape: &[5, 3], density: 1.0, act: 16, wb: 4, cb: 16, empty: 0, pes: 1, part: "xc7z020" };
    random_02: 102 => R { shape: &[12, 20, 7], density: 0.3, act: 8, wb: 4, cb: 8, empty: 0, pes: 2, part: "xc7z020" };
    random_03: 103 => R { shape: &[30, 18, 4], density: 0.2, act: 16, wb: 3, cb: 12, empty: 3, pes: 3, part: "xczu3eg" };
    random_04: 104 => R { shape: &[64, 64], density: 0.05, act: 16, wb: 4, cb: 16, empty: 0, pes: 4, part: "xczu9eg" };
    random_05: 105 => R { shape: &[9, 40, 40, 6], density: 0.5, act: 12, wb: 5, cb: 14, empty: 0, pes: 5, part: "xc7z045" };
    random_06: 106 => R { shape: &[50, 3], density: 0.9, act: 16, wb: 2, cb: 16, empty: 0, pes: 6, part: "xcu250" };
    random_07: 107 => R { shape: &[16, 200, 8], density: 0.02, act: 16, wb: 4, cb: 16, empty: 0, pes: 7, part: "xcu55c" };
    random_08: 108 => R { shape: &[20, 20, 20], density: 0.0, act: 16, wb: 4, cb: 16, empty: 0, pes: 8, part: "xc7z020" };
    random_09: 109 => R { shape: &[33, 17, 9], density: 0.6, act: 8, wb: 6, cb: 10, empty: 4, pes: 9, part: "xczu3eg" };
    random_10: 110 => R { shape: &[7, 100], density: 0.7, act: 16, wb: 4, cb: 18, empty: 0, pes: 10, part: "xczu9eg" };
    random_11: 111 => R { shape: &[100, 11], density: 0.15, act: 16, wb: 8, cb: 16, empty: 0, pes: 11, part: "xcu250" };
    random_12: 112 => R { shape: &[24, 24, 24, 24, 24], density: 0.3, act: 16, wb: 4, cb: 16, empty: 5, pes: 12, part: "xc7z045" };
    random_13: 113 => R { shape: &[3, 60, 2], density: 0.8, act: 10, wb: 4, cb: 16, empty: 0, pes: 13, part: "xcu55c" };
    random_14: 114 => R { shape: &[40, 32], density: 0.25, act: 16, wb: 1, cb: 4, empty: 0, pes: 14, part: "xczu3eg" };
    random_15: 115 => R { shape: &[17, 45, 15], density: 0.35, act: 16, wb: 4, cb: 16, empty: 2, pes: 15, part: "xczu9eg" };
    random_16: 116 => R { shape: &[64, 48, 10], density: 0.1, act: 16, wb: 4, cb: 16, empty: 0, pes: 16, part: "xcu250" };
    random_17: 117 => R { shape: &[300, 40], density: 0.01, act: 16, wb: 4, cb: 16, empty: 0, pes: 3, part: "xc7z020" };
    random_18: 118 => R { shape: &[8, 8, 8, 8, 8, 8, 8], density: 0.5, act: 8, wb: 3, cb: 8, empty: 0, pes: 2, part: "xc7z020" };
    random_19: 119 => R { shape: &[256, 300, 16], density: 0.12, act: 16, wb: 4, cb: 16, empty: 7, pes: 8, part: "xczu9eg" };
    random_20: 120 => R { shape: &[1, 1], density: 1.0, act: 16, wb: 4, cb: 16, empty: 0, pes: 1, part: "xc7z020" };
    random_21: 121 => R { shape: &[2, 50, 1], density: 0.5, act: 16, wb: 4, cb: 16, empty: 0, pes: 4, part: "xcu55c" };
}
