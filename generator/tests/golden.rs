//! The golden model against an independent, float-free (after input quantisation), dense
//! reimplementation of docs/numerics.md written here from the model JSON, on random networks:
//! random shapes, densities including all-zero layers, act_bits 8 and 16 (and others), relu and
//! none, and inputs that saturate.

mod common;

use bramble::desc::{Activation, FloatLayer, Network};
use bramble::ident::Ident;
use common::*;
use serde_json::Value;

/// Round half away from zero, written without `f64::round`: exact for |y| < 2^52.
fn round_half_away(y: f64) -> f64 {
    let t = y.trunc();
    let d = y - t;
    if d.abs() >= 0.5 {
        t + d.signum()
    } else {
        t
    }
}

fn quantize_ref(x: f64, bits: u32, frac: u32) -> i128 {
    let hi = (1i128 << (bits - 1)) - 1;
    let lo = -(1i128 << (bits - 1));
    let y = round_half_away(x * 2f64.powi(frac as i32)); // exact: a power-of-two scale
    if y >= hi as f64 {
        hi
    } else if y <= lo as f64 {
        lo
    } else {
        y as i128
    }
}

fn u(v: &Value) -> u32 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}")) as u32
}

/// The reference: dense loops over rows and columns in i128, straight from the JSON.
/// Returns the raw outputs; also checks every accumulator fits the layer's `acc_bits`.
fn reference(m: &Value, x: &[f64]) -> Vec<i64> {
    let fin = &m["input"]["format"];
    let mut frac = u(&fin["frac_bits"]);
    let mut a: Vec<i128> = x
        .iter()
        .map(|&v| quantize_ref(v, u(&fin["bits"]), frac))
        .collect();
    for layer in m["layers"].as_array().unwrap() {
        let w = &layer["weights"];
        let (rows, cols) = (
            w["rows"].as_u64().unwrap() as usize,
            w["cols"].as_u64().unwrap() as usize,
        );
        assert_eq!(a.len(), cols);
        let codebook: Vec<i128> = layer["codebook"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap() as i128)
            .collect();
        assert_eq!(codebook[0], 0);
        let mut dense = vec![vec![0i128; cols]; rows];
        let col_ptr: Vec<usize> = w["col_ptr"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u(v) as usize)
            .collect();
        let row: Vec<usize> = w["row"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u(v) as usize)
            .collect();
        let code: Vec<usize> = w["code"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u(v) as usize)
            .collect();
        for j in 0..cols {
            for e in col_ptr[j]..col_ptr[j + 1] {
                assert_ne!(code[e], 0, "stored weights never use codebook entry 0");
                dense[row[e]][j] = codebook[code[e]];
            }
        }
        let bias: Vec<i128> = layer["bias"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_i64().unwrap() as i128)
            .collect();
        let out_bits = u(&layer["out"]["bits"]);
        let out_frac = u(&layer["out"]["frac_bits"]);
        let p = frac + u(&layer["codebook_frac"]);
        assert!(out_frac <= p, "negative shift");
        let s = p - out_frac;
        let acc_lim = (1i128 << (u(&layer["acc_bits"]) - 1)) - 1;
        let relu = layer["activation"] == "relu";
        let (lo, hi) = (-(1i128 << (out_bits - 1)), (1i128 << (out_bits - 1)) - 1);
        let mut next = Vec::with_capacity(rows);
        for i in 0..rows {
            let mut acc = bias[i];
            assert!(acc.abs() <= acc_lim);
            for j in 0..cols {
                acc += a[j] * dense[i][j];
                assert!(acc.abs() <= acc_lim, "partial sum exceeds acc_bits");
            }
            let r = if s == 0 {
                acc
            } else {
                let half = 1i128 << (s - 1);
                assert!(
                    (acc + half).abs() <= acc_lim,
                    "rounding step exceeds acc_bits"
                );
                (acc + half).div_euclid(1i128 << s) // floor: round half up
            };
            let y = r.clamp(lo, hi);
            next.push(if relu { y.max(0) } else { y });
        }
        a = next;
        frac = out_frac;
    }
    a.into_iter().map(|v| v as i64).collect()
}

struct Case {
    net: Network,
    inputs: Vec<Vec<f64>>,
}

fn random_weights(rng: &mut Rng, n: usize) -> Vec<f64> {
    let density = *rng.pick(&[0.0, 0.0, 0.05, 0.3, 0.7, 1.0]);
    let scale = 10f64.powf(rng.range(-3.0, 1.0));
    let few: Vec<f64> = (0..3).map(|_| rng.range(-scale, scale)).collect();
    let repeated = rng.chance(0.2);
    (0..n)
        .map(|_| {
            if !rng.chance(density) {
                0.0
            } else if repeated {
                *rng.pick(&few)
            } else {
                rng.range(-scale, scale)
            }
        })
        .collect()
}

fn random_case(rng: &mut Rng, idx: usize) -> Case {
    let input_size = rng.usize(1, 24);
    let n_layers = rng.usize(1, 4);
    let use_calib = rng.chance(0.3);
    let mut layers = Vec::new();
    let mut cols = input_size;
    for l in 0..n_layers {
        let rows = rng.usize(1, 24);
        let act_bits = if rng.chance(0.8) {
            *rng.pick(&[8u32, 16])
        } else {
            rng.int(2, 16) as u32
        };
        let bias_scale = *rng.pick(&[0.0, 0.1, 1.0, 50.0]);
        layers.push(FloatLayer {
            name: Ident::new(&format!("l{l}")).unwrap(),
            rows,
            cols,
            weights: random_weights(rng, rows * cols),
            bias: (0..rows)
                .map(|_| rng.range(-bias_scale, bias_scale))
                .collect(),
            activation: if rng.chance(0.5) {
                Activation::Relu
            } else {
                Activation::None
            },
            act_bits,
            weight_bits: rng.int(1, 8) as u32,
            codebook_bits: rng.int(2, 18) as u32,
            prune: *rng.pick(&[0.0, 0.0, 0.3, 0.5, 0.9]),
            frac_bits: if rng.chance(0.3) {
                Some(rng.int(0, 20) as u32)
            } else {
                None
            },
            compression: Default::default(),
        });
        cols = rows;
    }
    let a0 = layers[0].act_bits;
    let f0 = rng.int(0, (a0 as i64 + 2).min(14)) as u32;
    let full = 2f64.powi(a0 as i32 - 1 - f0 as i32); // input range limit
    let mut inputs: Vec<Vec<f64>> = (0..6)
        .map(|_| {
            let s = full * *rng.pick(&[0.1, 0.5, 1.0, 4.0]);
            (0..input_size).map(|_| rng.range(-s, s)).collect()
        })
        .collect();
    inputs.push(vec![0.0; input_size]);
    inputs.push(vec![-full; input_size]); // the most negative input exactly
    inputs.push(vec![-1e9; input_size]); // saturates low
    inputs.push(vec![1e9; input_size]); // saturates high
                                        // Rounding ties of the input quantiser: (k + 0.5) / 2^f.
    inputs.push(
        (0..input_size)
            .map(|j| (j as f64 - 3.0 + 0.5) / 2f64.powi(f0 as i32))
            .collect(),
    );
    let calibration = use_calib.then(|| inputs[..6].to_vec());
    Case {
        net: Network {
            path: format!("random{idx}.yaml").into(),
            files: vec![],
            name: Ident::new(&format!("random{idx}")).unwrap(),
            input_size,
            input_frac_bits: if use_calib && rng.chance(0.5) {
                None
            } else {
                Some(f0)
            },
            calibration,
            layers,
        },
        inputs,
    }
}

#[test]
fn golden_matches_reference_on_random_networks() {
    let mut rng = Rng::new(2026);
    let (mut compared, mut rejected, mut zero_layers, mut saturated) = (0, 0, 0, 0);
    for idx in 0..300 {
        let case = random_case(&mut rng, idx);
        let model = match bramble::compress::compress(&case.net) {
            Ok((m, _)) => m,
            Err(e) => {
                // Only the documented limits may reject a random network.
                let msg = e.to_string();
                assert!(
                    msg.contains("bits") && !msg.contains("panicked"),
                    "case {idx}: {msg}"
                );
                eprintln!("rejected case {idx}: {msg}");
                rejected += 1;
                continue;
            }
        };
        zero_layers += model.layers.iter().filter(|l| l.weights.nnz() == 0).count();
        let json: Value = serde_json::from_slice(&model.canonical_bytes()).unwrap();
        let out = model.output();
        for x in &case.inputs {
            let want = reference(&json, x);
            let got = bramble::golden::run(&model, &bramble::golden::quantize_input(&model, x));
            assert_eq!(got, want, "case {idx}, input {x:?}\nmodel {json}");
            let lim = 1i64 << (out.bits - 1);
            saturated += want.iter().filter(|&&v| v == lim - 1 || v == -lim).count();
            compared += 1;
        }
    }
    eprintln!(
        "compared {compared} inputs; rejected {rejected} networks; {zero_layers} all-zero layers; {saturated} saturated outputs"
    );
    assert!(rejected < 30, "{rejected} of 300 random networks rejected");
    assert!(
        zero_layers >= 20,
        "only {zero_layers} all-zero layers exercised"
    );
    assert!(
        saturated >= 50,
        "only {saturated} saturated outputs exercised"
    );
    assert!(compared >= 2500, "{compared}");
}

/// A few random networks end to end through files and the CLI: the YAML compressed on the fly and
/// the model file both give the reference's raw outputs, and `outputs` = raw / 2^f_L.
#[test]
fn cli_infer_matches_reference() {
    let mut rng = Rng::new(77);
    let mut done = 0;
    for idx in 0..40 {
        if done == 10 {
            break;
        }
        let case = random_case(&mut rng, idx);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let mut ts = Vec::new();
        let mut yaml = format!(
            "name: {}\nweights: w.safetensors\nlayout: out_in\n",
            case.net.name
        );
        match case.net.input_frac_bits {
            Some(f) => yaml.push_str(&format!(
                "input: {{size: {}, frac_bits: {f}}}\n",
                case.net.input_size
            )),
            None => yaml.push_str(&format!("input: {{size: {}}}\n", case.net.input_size)),
        }
        if let Some(c) = &case.net.calibration {
            write_npy_rows_f64(&d.join("calib.npy"), c);
            yaml.push_str("calibration: calib.npy\n");
        }
        yaml.push_str("layers:\n");
        for l in &case.net.layers {
            ts.push(t(
                &format!("{}.w", l.name),
                &[l.rows, l.cols],
                l.weights.iter().map(|&v| v as f32).collect(),
            ));
            ts.push(t(
                &format!("{}.b", l.name),
                &[l.rows],
                l.bias.iter().map(|&v| v as f32).collect(),
            ));
            yaml.push_str(&format!(
                "  - {{name: {0}, weight: {0}.w, bias: {0}.b, activation: {1}, act_bits: {2}, weight_bits: {3}, codebook_bits: {4}, prune: {5}",
                l.name,
                if l.activation == Activation::Relu { "relu" } else { "none" },
                l.act_bits,
                l.weight_bits,
                l.codebook_bits,
                l.prune
            ));
            if let Some(f) = l.frac_bits {
                yaml.push_str(&format!(", frac_bits: {f}"));
            }
            yaml.push_str("}\n");
        }
        write_safetensors(&d.join("w.safetensors"), &ts);
        std::fs::write(d.join("net.yaml"), &yaml).unwrap();
        let c = bramble_in(d, &["compress", "net.yaml", "-o", "m.json"]);
        if !c.ok() {
            assert!(!c.stderr.contains("panicked"), "{}", c.stderr);
            continue;
        }
        write_npy_rows_f64(&d.join("x.npy"), &case.inputs);
        let json: Value =
            serde_json::from_slice(&std::fs::read(d.join("m.json")).unwrap()).unwrap();
        let frac = u(&json["layers"].as_array().unwrap().last().unwrap()["out"]["frac_bits"]);
        for net in ["net.yaml", "m.json"] {
            let v = bramble_in(d, &["infer", net, "--input", "x.npy", "--json"])
                .expect_ok(net)
                .json();
            for (r, x) in case.inputs.iter().enumerate() {
                let want = reference(&json, x);
                let raw: Vec<i64> = v["raw"][r]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| q.as_i64().unwrap())
                    .collect();
                assert_eq!(raw, want, "case {idx} ({net}) row {r}\n{yaml}");
                let outs = v["outputs"][r].as_array().unwrap();
                for (o, q) in outs.iter().zip(&raw) {
                    assert_eq!(o.as_f64().unwrap(), *q as f64 / 2f64.powi(frac as i32));
                }
            }
        }
        done += 1;
    }
    assert_eq!(done, 10, "too many random networks rejected");
}

/// Hand-built edge cases through the library: the most negative input times the most negative
/// codebook entry, and an all-zero network (bias only).
#[test]
fn edge_networks() {
    let layer = |name: &str, rows, cols, w: Vec<f64>, b: Vec<f64>, act_bits, act| FloatLayer {
        name: Ident::new(name).unwrap(),
        rows,
        cols,
        weights: w,
        bias: b,
        activation: act,
        act_bits,
        weight_bits: 2,
        codebook_bits: 8,
        prune: 0.0,
        frac_bits: Some(0),
        compression: Default::default(),
    };
    let net = Network {
        path: "edge.yaml".into(),
        files: vec![],
        name: Ident::new("edge").unwrap(),
        input_size: 3,
        input_frac_bits: Some(0),
        calibration: None,
        layers: vec![
            layer(
                "a",
                2,
                3,
                vec![-1.0, -1.0, -1.0, 1.0, 0.5, 0.25],
                vec![0.0, 0.0],
                8,
                Activation::None,
            ),
            layer(
                "z",
                2,
                2,
                vec![0.0; 4],
                vec![-1.5, 2.5],
                8,
                Activation::Relu,
            ),
            layer("o", 1, 2, vec![1.0, -1.0], vec![0.0], 16, Activation::None),
        ],
    };
    let (m, _) = bramble::compress::compress(&net).unwrap();
    assert_eq!(m.layers[1].weights.nnz(), 0);
    let json: Value = serde_json::from_slice(&m.canonical_bytes()).unwrap();
    for x in [
        [-128.0, -128.0, -128.0],
        [127.0, 127.0, 127.0],
        [-1e9, 0.0, 1e9],
        [0.5, -0.5, 1.5],
    ] {
        let got = bramble::golden::run(&m, &bramble::golden::quantize_input(&m, &x));
        assert_eq!(got, reference(&json, &x), "{x:?}");
    }
}

/// docs/numerics.md: "a non-zero weight never becomes a zero weight silently", and the issue:
/// "non-zero weights never map to [entry 0]". When a k-means cluster's mean is exactly 0.0 (a
/// symmetric cluster such as {-1, 1}), compress keeps the centroid 0.0, quantises it to the
/// integer 0, and the weights are stored as entries whose codebook value is 0: they vanish from
/// the arithmetic while `inspect` still counts them as non-zeros, and no note is printed.
#[test]
fn symmetric_cluster_does_not_zero_weights() {
    for (weight_bits, w) in [(2u32, vec![-3.0, -1.0, 1.0, 3.0]), (1, vec![-1.0, 1.0])] {
        let n = w.len();
        let net = Network {
            path: "sym.yaml".into(),
            files: vec![],
            name: Ident::new("sym").unwrap(),
            input_size: n,
            input_frac_bits: Some(4),
            calibration: None,
            layers: vec![FloatLayer {
                name: Ident::new("l").unwrap(),
                rows: 1,
                cols: n,
                weights: w.clone(),
                bias: vec![0.0],
                activation: Activation::None,
                act_bits: 16,
                weight_bits,
                codebook_bits: 8,
                prune: 0.0,
                frac_bits: None,
                compression: Default::default(),
            }],
        };
        let (m, notes) = bramble::compress::compress(&net).unwrap();
        let l = &m.layers[0];
        let zeroed = l
            .weights
            .code
            .iter()
            .filter(|&&c| l.codebook[c as usize] == 0)
            .count();
        assert_eq!(
            zeroed,
            0,
            "weights {w:?}, weight_bits {weight_bits}: codebook {:?}, centroids {:?}, notes {:?}",
            l.codebook,
            l.centroids,
            notes.iter().map(|n| &n.0).collect::<Vec<_>>()
        );
    }
}
