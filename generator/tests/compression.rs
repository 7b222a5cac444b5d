//! Compression methods (docs/compression.md): `magnitude` stays byte-identical to the method
//! Bramble shipped before `calibrated` existed, and `calibrated` finds known optima and beats
//! `magnitude` where it should.

mod common;

use bramble::compress::compress;
use bramble::desc::Network;
use common::*;
use std::path::{Path, PathBuf};

fn digits_dir() -> PathBuf {
    workspace_root().join("examples/digits")
}

fn jet_dir() -> PathBuf {
    let d = workspace_root().join("../shared/benchmarks/jet");
    assert!(
        d.join("jet_dense.npz").is_file(),
        "the shared jet networks are missing: expected {}/jet_dense.npz (a checkout of `shared` \
         next to the workspace)",
        d.display()
    );
    d
}

/// Write `yaml` into `dir` as `net.yaml` and compress it; the model's hash.
fn model_hash(dir: &Path, yaml: &str) -> String {
    let p = dir.join("net.yaml");
    std::fs::write(&p, yaml).unwrap();
    let net = Network::load(&p).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    let (model, _) = compress(&net).unwrap();
    model.hash_hex()
}

fn digits_yaml(defaults: &str, extra: &str) -> String {
    format!(
        "name: digits\nweights: digits.npz\ninput: {{size: 64}}\ncalibration: calib.npy\n\
         defaults: {{{defaults}}}\nlayers:\n\
         \x20 - {{name: fc1, weight: fc1.weight, bias: fc1.bias, activation: relu{extra}}}\n\
         \x20 - {{name: fc2, weight: fc2.weight, bias: fc2.bias, activation: relu}}\n\
         \x20 - {{name: out, weight: out.weight, bias: out.bias}}\n"
    )
}

fn jet_yaml(weights: &str, defaults: &str) -> String {
    let mut y = format!(
        "name: jet\nweights: {weights}\nlayout: in_out\ninput: {{size: 16, frac_bits: 10}}\n\
         defaults: {{{defaults}}}\nlayers:\n"
    );
    for (i, t) in ["fc1_relu", "fc2_relu", "fc3_relu", "output_softmax"]
        .iter()
        .enumerate()
    {
        let act = if i == 3 { "none" } else { "relu" };
        y.push_str(&format!(
            "  - {{name: l{i}, weight: {t}/kernel, bias: {t}/bias, activation: {act}}}\n"
        ));
    }
    y
}

/// Regression pin: `magnitude` (the default) gives the same model bytes as before issue 13
/// added `compression:`. The hashes were recorded with the compressor of commit 1836421.
#[test]
fn magnitude_models_are_byte_identical_to_before() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for f in ["digits.npz", "calib.npy"] {
        std::fs::copy(digits_dir().join(f), d.join(f)).unwrap();
    }
    for f in ["jet_dense.npz", "jet_95pruned.npz"] {
        std::fs::copy(jet_dir().join(f), d.join(f)).unwrap();
    }
    let cases = [
        ("shipped digits example", None, PINNED[0]),
        (
            "digits at 90% zeros, 3-bit codebooks",
            Some(digits_yaml("prune: 0.9, weight_bits: 3", "")),
            PINNED[1],
        ),
        (
            "digits at 50% zeros, 8-bit activations, per-layer 5 bits",
            Some(digits_yaml("prune: 0.5, act_bits: 8", ", weight_bits: 5")),
            PINNED[2],
        ),
        (
            "dense jet at 70% zeros",
            Some(jet_yaml("jet_dense.npz", "prune: 0.7")),
            PINNED[3],
        ),
        (
            "jet 95% pruned (empty rows and columns)",
            Some(jet_yaml("jet_95pruned.npz", "weight_bits: 2")),
            PINNED[4],
        ),
    ];
    let mut got = Vec::new();
    for (what, yaml, _) in &cases {
        let h = match yaml {
            None => {
                let net = Network::load(&digits_dir().join("digits.yaml")).unwrap();
                compress(&net).unwrap().0.hash_hex()
            }
            Some(y) => model_hash(d, y),
        };
        got.push((what, h));
    }
    for ((what, h), (_, _, want)) in got.iter().zip(&cases) {
        assert_eq!(h, want, "{what}: magnitude model changed (all: {got:?})");
    }
    // The explicit spelling is the same method.
    let explicit = model_hash(
        d,
        &digits_yaml("prune: 0.9, weight_bits: 3, compression: magnitude", ""),
    );
    assert_eq!(explicit, PINNED[1]);
}

const PINNED: [&str; 5] = [
    "43eb779acc98f9a5",
    "fa3283181c962942",
    "a0ca5db60a5d8e3c",
    "0c75754e994fee20",
    "0ec35f38b31d91b2",
];
