//! The shared jet-tagging networks (`../shared/benchmarks/jet/`, Keras layout) compress, inspect
//! and infer; reported densities equal the files' real densities; safetensors equals npz.

mod common;

use common::*;
use std::path::{Path, PathBuf};

const NETS: [&str; 3] = ["jet_dense", "jet_70pruned", "jet_95pruned"];
const TENSORS: [(&str, &str); 4] = [
    ("fc1", "fc1_relu"),
    ("fc2", "fc2_relu"),
    ("fc3", "fc3_relu"),
    ("out", "output_softmax"),
];

fn jet_dir() -> PathBuf {
    let d = workspace_root().join("../shared/benchmarks/jet");
    assert!(
        d.join("jet_dense.npz").is_file(),
        "the shared jet networks are missing: expected {}/jet_{{dense,70pruned,95pruned}}.npz \
         (a checkout of `shared` next to the workspace)",
        d.display()
    );
    d
}

fn jet_yaml(name: &str, weights: &Path) -> String {
    let mut y = format!(
        "name: {name}\nweights: {}\nlayout: in_out\ninput: {{size: 16, frac_bits: 10}}\n\
         defaults: {{act_bits: 16, weight_bits: 4, codebook_bits: 16, prune: 0.0}}\nlayers:\n",
        weights.display()
    );
    for (i, (n, t)) in TENSORS.iter().enumerate() {
        let act = if i == 3 { "none" } else { "relu" };
        y.push_str(&format!(
            "  - {{name: {n}, weight: {t}/kernel, bias: {t}/bias, activation: {act}}}\n"
        ));
    }
    y
}

/// Inputs: typical magnitudes, zeros, and values that saturate the 16-bit, 10-frac input.
fn inputs() -> Vec<Vec<f32>> {
    let mut rng = Rng::new(16);
    let mut rows: Vec<Vec<f32>> = (0..6)
        .map(|_| (0..16).map(|_| rng.range(-2.0, 2.0) as f32).collect())
        .collect();
    rows.push(vec![0.0; 16]);
    rows.push(
        (0..16)
            .map(|i| if i % 2 == 0 { 1e6 } else { -1e6 })
            .collect(),
    );
    rows
}

#[test]
fn jet_networks_compress_inspect_infer() {
    let jd = jet_dir();
    let mut summary = Vec::new();
    for net in NETS {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let wpath = jd.join(format!("{net}.npz"));
        std::fs::write(d.join("net.yaml"), jet_yaml(net, &wpath)).unwrap();
        bramble_in(d, &["compress", "net.yaml", "-o", "m.json"]).expect_ok(net);
        let ins = bramble_in(d, &["inspect", "m.json", "--json"])
            .expect_ok(net)
            .json();
        let file = read_npz(&wpath);
        let layers = ins["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 4, "{net}");
        for (l, (n, t)) in TENSORS.iter().enumerate() {
            let k = &file[&format!("{t}/kernel")];
            let (cin, cout) = (k.shape[0], k.shape[1]);
            let nnz = k.data.iter().filter(|v| **v != 0.0).count();
            let real = nnz as f64 / (cin * cout) as f64;
            let li = &layers[l];
            assert_eq!(li["name"], *n, "{net}");
            assert_eq!(li["rows"], cout, "{net} {n}: Keras (in, out) -> rows = out");
            assert_eq!(li["cols"], cin, "{net} {n}");
            assert_eq!(li["nonzeros"], nnz, "{net} {n}");
            assert_eq!(
                li["density"].as_f64().unwrap(),
                real,
                "{net} {n}: reported density vs the file's"
            );
            assert_eq!(li["float_density"].as_f64().unwrap(), real, "{net} {n}");
        }
        let ratio = ins["compression_ratio"]
            .as_f64()
            .expect("compression_ratio");
        assert!(ratio > 1.0, "{net}: compression ratio {ratio}");
        summary.push(format!("{net}: {ratio:.2}x"));

        // The description gives the same report.
        let ins_yaml = bramble_in(d, &["inspect", "net.yaml", "--json"])
            .expect_ok(net)
            .json();
        assert_eq!(ins_yaml, ins.clone(), "{net}: inspect of yaml vs model");

        let rows = inputs();
        write_npy_rows(&d.join("x.npy"), &rows);
        let inf = bramble_in(d, &["infer", "m.json", "--input", "x.npy", "--json"])
            .expect_ok(net)
            .json();
        let frac = layers[3]["out_frac_bits"].as_u64().unwrap() as i32;
        let (outs, raw) = (
            inf["outputs"].as_array().unwrap(),
            inf["raw"].as_array().unwrap(),
        );
        assert_eq!(outs.len(), rows.len(), "{net}");
        assert_eq!(raw.len(), rows.len(), "{net}");
        for (o, r) in outs.iter().zip(raw) {
            let (o, r) = (o.as_array().unwrap(), r.as_array().unwrap());
            assert_eq!(o.len(), 5, "{net}");
            assert_eq!(r.len(), 5, "{net}");
            for (ov, rv) in o.iter().zip(r) {
                let q = rv.as_i64().expect("raw outputs are integers");
                assert!((-(1 << 15)..(1 << 15)).contains(&q), "{net}: raw {q}");
                let f = ov.as_f64().unwrap();
                assert!(f.is_finite(), "{net}");
                assert_eq!(f, q as f64 / 2f64.powi(frac), "{net}: dequantised output");
            }
        }
        // Different inputs give different outputs (the network is not degenerate). jet_95pruned
        // keeps 3 of fc1's 1024 weights, so most inputs give the same outputs there.
        let distinct: std::collections::BTreeSet<String> =
            raw.iter().map(|r| r.to_string()).collect();
        let want = if net == "jet_95pruned" {
            2
        } else {
            rows.len() - 1
        };
        assert!(distinct.len() >= want, "{net}: {distinct:?}");
    }
    eprintln!("compression ratios: {}", summary.join(", "));
}

#[test]
fn safetensors_gives_the_same_model_as_npz() {
    let jd = jet_dir();
    for net in NETS {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let tensors: Vec<T> = read_npz(&jd.join(format!("{net}.npz")))
            .into_values()
            .collect();
        write_npz(&d.join("w.npz"), &tensors, false);
        write_safetensors(&d.join("w.safetensors"), &tensors);
        std::fs::write(d.join("a.yaml"), jet_yaml(net, Path::new("w.npz"))).unwrap();
        std::fs::write(d.join("b.yaml"), jet_yaml(net, Path::new("w.safetensors"))).unwrap();
        bramble_in(d, &["compress", "a.yaml", "-o", "a.json"]).expect_ok(net);
        bramble_in(d, &["compress", "b.yaml", "-o", "b.json"]).expect_ok(net);
        assert_eq!(
            std::fs::read(d.join("a.json")).unwrap(),
            std::fs::read(d.join("b.json")).unwrap(),
            "{net}: safetensors and npz give different models"
        );
        // And the shared file itself (deflated by numpy) gives the same model again.
        std::fs::write(
            d.join("c.yaml"),
            jet_yaml(net, &jd.join(format!("{net}.npz"))),
        )
        .unwrap();
        bramble_in(d, &["compress", "c.yaml", "-o", "c.json"]).expect_ok(net);
        assert_eq!(
            std::fs::read(d.join("a.json")).unwrap(),
            std::fs::read(d.join("c.json")).unwrap(),
            "{net}: rewritten npz vs original"
        );
    }
}

/// Pruning the 70% network further to 0.9 per layer gives exactly that density (the target
/// counts existing zeros), and never revives zeros when the target is already met.
#[test]
fn prune_targets_on_jet() {
    let jd = jet_dir();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let w = jd.join("jet_70pruned.npz");
    let file = read_npz(&w);
    for (prune, net) in [(0.9, "p90"), (0.5, "p50")] {
        let y = jet_yaml(net, &w).replace("prune: 0.0", &format!("prune: {prune}"));
        std::fs::write(d.join("p.yaml"), y).unwrap();
        let ins = bramble_in(d, &["inspect", "p.yaml", "--json"])
            .expect_ok(net)
            .json();
        for (l, (n, t)) in TENSORS.iter().enumerate() {
            let k = &file[&format!("{t}/kernel")];
            let size = k.data.len();
            let zeros = k.data.iter().filter(|v| **v == 0.0).count();
            let want_zeros = ((prune * size as f64) - 1e-9).ceil() as usize;
            let expect_nnz = size - zeros.max(want_zeros);
            assert_eq!(
                ins["layers"][l]["nonzeros"], expect_nnz,
                "{net} {n}: {zeros} zeros of {size} in the file, prune {prune}"
            );
        }
    }
}
