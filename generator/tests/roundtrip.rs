//! The compressed model file loads back exactly: `inspect --json` and `infer --json` agree between
//! a description and its compressed model, `Model::load` + `save` reproduces the bytes, and the
//! structs compare equal (also for awkward floats).

mod common;

use bramble::model::Model;
use common::*;
use std::path::Path;

/// A network with calibration (formats chosen from data), per-layer overrides and pruning.
fn calibrated_dir() -> tempfile::TempDir {
    let mut rng = Rng::new(7);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut w = |name: &str, shape: &[usize]| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|_| {
                if rng.chance(0.3) {
                    0.0
                } else {
                    rng.range(-1.0, 1.0) as f32
                }
            })
            .collect();
        t(name, shape, data)
    };
    let ts = vec![
        w("a/kernel", &[6, 10]),
        w("a/bias", &[10]),
        w("b/kernel", &[10, 7]),
        w("b/bias", &[7]),
        w("c/kernel", &[7, 3]),
    ];
    write_npz(&d.join("w.npz"), &ts, false);
    let mut rng = Rng::new(8);
    let calib: Vec<Vec<f32>> = (0..20)
        .map(|_| (0..6).map(|_| rng.range(-3.0, 3.0) as f32).collect())
        .collect();
    write_npy_rows(&d.join("calib.npy"), &calib);
    let x: Vec<Vec<f64>> = (0..9)
        .map(|_| (0..6).map(|_| rng.range(-4.0, 4.0)).collect())
        .collect();
    write_npy_rows_f64(&d.join("x.npy"), &x);
    std::fs::write(
        d.join("net.yml"),
        "name: rt\nweights: w.npz\nlayout: in_out\ninput: {size: 6}\ncalibration: calib.npy\n\
         defaults: {act_bits: 12, weight_bits: 3, codebook_bits: 10, prune: 0.5}\nlayers:\n\
         \x20 - {name: a, weight: a/kernel, bias: a/bias, activation: relu, act_bits: 16}\n\
         \x20 - {name: b, weight: b/kernel, bias: b/bias, activation: relu, weight_bits: 5, prune: 0.2}\n\
         \x20 - {name: c, weight: c/kernel, act_bits: 8, codebook_bits: 18, prune: 0.0}\n",
    )
    .unwrap();
    dir
}

/// Description and model file give byte-identical `inspect` and `infer` output (hash included).
fn check_cli_roundtrip(d: &Path, yaml: &str) {
    let c = bramble_in(d, &["compress", yaml, "-o", "model.bin"]).expect_ok("compress");
    assert!(c.stdout.contains("wrote model.bin"), "{}", c.stdout);
    for pes in ["1", "3"] {
        let a = bramble_in(d, &["inspect", yaml, "--json", "--pes", pes]).expect_ok("inspect yaml");
        let b = bramble_in(d, &["inspect", "model.bin", "--json", "--pes", pes])
            .expect_ok("inspect model");
        assert_eq!(
            a.stdout, b.stdout,
            "inspect --json text differs (pes {pes})"
        );
        let v = a.json();
        assert!(v["compression_ratio"].as_f64().unwrap() > 0.0);
        assert_eq!(v["pes"].as_u64().unwrap().to_string(), pes);
    }
    let a = bramble_in(d, &["inspect", yaml]).expect_ok("inspect text");
    let b = bramble_in(d, &["inspect", "model.bin"]).expect_ok("inspect text");
    assert_eq!(a.stdout, b.stdout, "inspect text differs");
    let a = bramble_in(d, &["infer", yaml, "--input", "x.npy", "--json"]).expect_ok("infer yaml");
    let b = bramble_in(d, &["infer", "model.bin", "--input", "x.npy", "--json"])
        .expect_ok("infer model");
    assert_eq!(a.stdout, b.stdout, "infer --json differs");
    let a = bramble_in(d, &["infer", yaml, "--input", "x.npy"]).expect_ok("infer text");
    let b = bramble_in(d, &["infer", "model.bin", "--input", "x.npy"]).expect_ok("infer text");
    assert_eq!(a.stdout, b.stdout, "infer text differs");
    // The model file is not re-compressed: no notes on stderr.
    assert!(b.stderr.is_empty(), "{}", b.stderr);
}

#[test]
fn cli_description_and_model_agree_tiny() {
    let dir = tiny_dir(TINY_YAML);
    write_npy_rows(
        &dir.path().join("x.npy"),
        &[vec![0.5, -1.0, 2.0], vec![0.0; 3], vec![100.0, -100.0, 7.0]],
    );
    check_cli_roundtrip(dir.path(), "net.yaml");
}

#[test]
fn cli_description_and_model_agree_calibrated() {
    let dir = calibrated_dir();
    check_cli_roundtrip(dir.path(), "net.yml");
}

#[test]
fn library_load_save_is_byte_identical_tiny() {
    let dir = tiny_dir(TINY_YAML);
    let d = dir.path();
    bramble_in(d, &["compress", "net.yaml", "-o", "m.json"]).expect_ok("compress");
    let bytes = std::fs::read(d.join("m.json")).unwrap();
    let m = Model::load(&d.join("m.json")).unwrap();
    m.save(&d.join("m2.json")).unwrap();
    assert_eq!(bytes, std::fs::read(d.join("m2.json")).unwrap());
    let net = bramble::desc::Network::load(&d.join("net.yaml")).unwrap();
    let (fresh, _) = bramble::compress::compress(&net).unwrap();
    assert_eq!(fresh, m);
    assert_eq!(fresh.canonical_bytes(), bytes);
    assert_eq!(dir_names(d), ["m.json", "m2.json", "net.yaml", "w.npz"]);
}

#[test]
fn library_load_save_is_byte_identical() {
    let dir = calibrated_dir();
    let d = dir.path();
    bramble_in(d, &["compress", "net.yml", "-o", "m.json"]).expect_ok("compress");
    let bytes = std::fs::read(d.join("m.json")).unwrap();
    let m = Model::load(&d.join("m.json")).unwrap();
    m.save(&d.join("m2.json")).unwrap();
    assert_eq!(bytes, std::fs::read(d.join("m2.json")).unwrap());
    assert_eq!(m.canonical_bytes(), bytes);
    // Equal to compressing in-process, and so is the hash.
    let net = bramble::desc::Network::load(&d.join("net.yml")).unwrap();
    let (fresh, notes) = bramble::compress::compress(&net).unwrap();
    assert!(!notes.is_empty(), "calibration should explain its choices");
    assert_eq!(fresh, m);
    assert_eq!(fresh.hash(), m.hash());
    let ins = bramble_in(d, &["inspect", "m.json", "--json"]).json();
    assert_eq!(ins["network_hash"], m.hash_hex());
    // No temporary files are left next to the outputs.
    assert_eq!(
        dir_names(d),
        [
            "calib.npy",
            "m.json",
            "m2.json",
            "net.yml",
            "w.npz",
            "x.npy"
        ]
    );
}

#[test]
fn hash_is_sha256_prefix_of_canonical_bytes() {
    use sha2::Digest;
    let dir = tiny_dir(TINY_YAML);
    bramble_in(dir.path(), &["compress", "net.yaml", "-o", "m.json"]).expect_ok("compress");
    let bytes = std::fs::read(dir.path().join("m.json")).unwrap();
    let m = Model::load(&dir.path().join("m.json")).unwrap();
    let d = sha2::Sha256::digest(&bytes);
    assert_eq!(m.hash(), u64::from_be_bytes(d[..8].try_into().unwrap()));
    assert_eq!(m.hash_hex().len(), 16);
    // Any change to the model changes the hash.
    let mut m2 = m.clone();
    m2.layers[0].bias[0] += 1;
    assert_ne!(m.hash(), m2.hash());
}

/// The model file is plain JSON with the documented top-level shape.
#[test]
fn model_file_shape() {
    let dir = tiny_dir(TINY_YAML);
    bramble_in(dir.path(), &["compress", "net.yaml", "-o", "m.json"]).expect_ok("compress");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["format", "input", "layers", "name", "version"]);
    assert_eq!(v["format"], "bramble-model");
    assert_eq!(v["version"], 1);
    assert_eq!(keys(&v["input"]), ["format", "size"]);
    assert_eq!(keys(&v["input"]["format"]), ["bits", "frac_bits"]);
    assert_eq!(
        keys(&v["layers"][0]),
        [
            "acc_bits",
            "activation",
            "bias",
            "centroids",
            "codebook",
            "codebook_bits",
            "codebook_frac",
            "float_nnz",
            "name",
            "out",
            "prune",
            "weight_bits",
            "weight_error",
            "weights"
        ]
    );
    assert_eq!(
        keys(&v["layers"][0]["weights"]),
        ["code", "col_ptr", "cols", "row", "rows"]
    );
    assert_eq!(
        keys(&v["layers"][0]["weight_error"]),
        ["max_abs", "mean_abs"]
    );
    assert_eq!(v["layers"][0]["activation"], "relu");
    assert_eq!(v["layers"][1]["activation"], "none");
}

/// Floats in the model (centroids, prune, weight errors) must survive save + load bit for bit,
/// or the file does not "load back exactly" and the network hash changes on a re-save.
/// serde_json's default float parser is not exact (its `float_roundtrip` feature is).
#[test]
fn awkward_floats_round_trip_exactly() {
    let dir = tiny_dir(TINY_YAML);
    let d = dir.path();
    bramble_in(d, &["compress", "net.yaml", "-o", "m.json"]).expect_ok("compress");
    let base = Model::load(&d.join("m.json")).unwrap();
    let mut rng = Rng::new(99);
    let mut bad = Vec::new();
    for case in 0..400 {
        let mut m = base.clone();
        let mut vals = Vec::new();
        for c in m.layers[0].centroids.iter_mut().skip(1) {
            // Random bit patterns of finite doubles, and values with 17 significant digits.
            let x = loop {
                let x = if rng.chance(0.5) {
                    f64::from_bits(rng.next_u64())
                } else {
                    rng.range(-1.0, 1.0) * 10f64.powi(rng.int(-30, 30) as i32)
                };
                if x.is_finite() {
                    break x;
                }
            };
            *c = x;
            vals.push(x);
        }
        m.layers[1].weight_error.mean_abs = rng.unit() / 3.0;
        m.layers[1].prune = rng.unit();
        let p = d.join("f.json");
        m.save(&p).unwrap();
        let back = Model::load(&p).unwrap();
        if back != m {
            let got = &back.layers[0].centroids;
            bad.push(format!("case {case}: wrote {vals:?}, read {:?}", &got[1..]));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of 400 models changed:\n{}",
        bad.len(),
        bad[..bad.len().min(5)].join("\n")
    );
}
