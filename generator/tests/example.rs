//! The bundled example (examples/digits) compresses, inspects and infers, and the golden model's
//! accuracy on the 360 test images is at least 0.95 (measured 0.9861 when this test was written).

mod common;

use common::*;
use std::path::PathBuf;

fn digits() -> PathBuf {
    let d = workspace_root().join("examples/digits");
    assert!(
        d.join("digits.yaml").is_file(),
        "{} is missing",
        d.display()
    );
    d
}

fn argmax(v: &[serde_json::Value]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if x.as_f64().unwrap() > v[best].as_f64().unwrap() {
            best = i;
        }
    }
    best
}

#[test]
fn digits_compresses_and_infers_accurately() {
    let ex = digits();
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("digits.model");
    let yaml = ex.join("digits.yaml");
    let c = bramble(&[
        "compress".as_ref(),
        yaml.as_os_str(),
        "-o".as_ref(),
        model.as_os_str(),
    ])
    .expect_ok("compress digits");
    assert!(c.stdout.contains("digits: 3 layers"), "{}", c.stdout);
    // Calibration chose the formats and says so.
    assert!(
        c.stderr.contains("note: input: calibration max"),
        "{}",
        c.stderr
    );
    for l in ["fc1", "fc2", "out"] {
        assert!(
            c.stderr.contains(&format!("note: {l}: calibration")),
            "{}",
            c.stderr
        );
    }

    // Densities equal the trained zeros (the prune targets are already met).
    let ins = bramble(&["inspect".as_ref(), model.as_os_str(), "--json".as_ref()])
        .expect_ok("inspect")
        .json();
    let file = read_npz(&ex.join("digits.npz"));
    for (l, name) in ["fc1", "fc2", "out"].iter().enumerate() {
        let w = &file[&format!("{name}.weight")];
        let nnz = w.data.iter().filter(|v| **v != 0.0).count();
        assert_eq!(ins["layers"][l]["nonzeros"], nnz, "{name}");
        assert_eq!(
            ins["layers"][l]["density"].as_f64().unwrap(),
            nnz as f64 / w.data.len() as f64,
            "{name}"
        );
    }
    assert!(ins["compression_ratio"].as_f64().unwrap() > 1.0);

    let x = ex.join("test_x.npy");
    let inf = bramble(&[
        "infer".as_ref(),
        model.as_os_str(),
        "--input".as_ref(),
        x.as_os_str(),
        "--json".as_ref(),
    ])
    .expect_ok("infer")
    .json();
    let labels = read_npy_i64(&ex.join("test_y.npy"));
    let (shape, _) = read_npy_f32(&x);
    let outs = inf["outputs"].as_array().unwrap();
    assert_eq!(outs.len(), labels.len());
    assert_eq!(shape, [labels.len(), 64]);
    let correct = outs
        .iter()
        .zip(&labels)
        .filter(|(o, &y)| argmax(o.as_array().unwrap()) as i64 == y)
        .count();
    let acc = correct as f64 / labels.len() as f64;
    eprintln!(
        "digits golden accuracy: {acc:.4} ({correct}/{})",
        labels.len()
    );
    assert!(
        acc >= 0.95,
        "golden accuracy {acc:.4} ({correct}/{})",
        labels.len()
    );

    // The description compressed on the fly gives the same raw outputs.
    let inf2 = bramble(&[
        "infer".as_ref(),
        yaml.as_os_str(),
        "--input".as_ref(),
        x.as_os_str(),
        "--json".as_ref(),
    ])
    .expect_ok("infer yaml")
    .json();
    assert_eq!(inf2["raw"], inf["raw"]);
    // Nothing but the model was written.
    assert_eq!(dir_names(tmp.path()), ["digits.model"]);
}
