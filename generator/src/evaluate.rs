//! Accuracy you can see: the float network and the compressed fixed-point network run side by
//! side on the same inputs (`bramble compare`), class accuracy against labels (`bramble infer
//! --labels`), and the per-point evaluation of `bramble sweep`.

use crate::desc::{Activation, Network};
use crate::golden;
use crate::model::Model;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Bad labels: the error names the file, the label and the limit.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("{path}: {count} labels but {inputs} input rows in {input}; one label per input row")]
    Count {
        path: PathBuf,
        count: usize,
        inputs: usize,
        input: PathBuf,
    },
    #[error("{path}: label {index} is {value}; network `{net}` has {classes} outputs, so labels must be 0..={}", classes - 1)]
    Range {
        path: PathBuf,
        index: usize,
        value: i64,
        net: String,
        classes: usize,
    },
}

/// Check labels against the inputs and the number of classes (the network's outputs).
pub fn check_labels(
    labels: &[i64],
    path: &Path,
    inputs: usize,
    input: &Path,
    net: &str,
    classes: usize,
) -> Result<(), LabelError> {
    if labels.len() != inputs {
        return Err(LabelError::Count {
            path: path.into(),
            count: labels.len(),
            inputs,
            input: input.into(),
        });
    }
    if let Some((index, &value)) = labels
        .iter()
        .enumerate()
        .find(|(_, &v)| v < 0 || v as usize >= classes)
    {
        return Err(LabelError::Range {
            path: path.into(),
            index,
            value,
            net: net.into(),
            classes,
        });
    }
    Ok(())
}

/// Index of the largest value; ties go to the lower index (numpy's argmax).
pub fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Fraction of `preds` equal to `labels`.
pub fn accuracy(preds: &[usize], labels: &[i64]) -> f64 {
    let hits = preds
        .iter()
        .zip(labels)
        .filter(|(p, l)| **p as i64 == **l)
        .count();
    hits as f64 / preds.len().max(1) as f64
}

/// The float network's outputs of every layer (after the activation) for one input.
pub fn float_layers(net: &Network, x: &[f64]) -> Vec<Vec<f64>> {
    let mut a = x.to_vec();
    let mut outs = Vec::with_capacity(net.layers.len());
    for layer in &net.layers {
        let d = layer.cols;
        let y: Vec<f64> = (0..layer.rows)
            .map(|i| {
                let w = &layer.weights[i * d..(i + 1) * d];
                let v = layer.bias[i] + w.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>();
                if layer.activation == Activation::Relu {
                    v.max(0.0)
                } else {
                    v
                }
            })
            .collect();
        outs.push(y.clone());
        a = y;
    }
    outs
}

/// One layer of a comparison: the fixed-point outputs against the float ones.
#[derive(Debug, Clone, Serialize)]
pub struct LayerCompare {
    pub name: String,
    /// `10 log10(sum float^2 / sum (fixed - float)^2)` over all inputs and outputs (dB);
    /// `null` in JSON when the fixed-point outputs are exact.
    pub sqnr_db: Option<f64>,
    pub max_abs_error: f64,
    /// Outputs clamped to the `act_bits` range (that the activation did not hide).
    pub saturated: usize,
    pub outputs: usize,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Compare {
    pub inputs: usize,
    pub layers: Vec<LayerCompare>,
    /// Fraction of inputs where the float and the fixed-point network pick the same class.
    pub agreement: f64,
    pub float_accuracy: Option<f64>,
    pub fixed_accuracy: Option<f64>,
}

/// Run the float network `net` and its compressed `model` side by side on `inputs`.
pub fn compare(
    net: &Network,
    model: &Model,
    inputs: &[Vec<f64>],
    labels: Option<&[i64]>,
) -> Compare {
    let nl = model.layers.len();
    let mut sig = vec![0.0f64; nl];
    let mut noise = vec![0.0f64; nl];
    let mut maxe = vec![0.0f64; nl];
    let mut sat = vec![0usize; nl];
    let mut fpred = Vec::with_capacity(inputs.len());
    let mut qpred = Vec::with_capacity(inputs.len());
    for x in inputs {
        let fl = float_layers(net, x);
        let mut a = golden::quantize_input(model, x);
        for l in 0..nl {
            let (o, s) = golden::run_layer_counted(model, l, &a);
            sat[l] += s;
            let frac = model.layers[l].out.frac_bits;
            for (q, f) in o.iter().zip(&fl[l]) {
                let e = golden::dequantize(*q, frac) - f;
                sig[l] += f * f;
                noise[l] += e * e;
                maxe[l] = maxe[l].max(e.abs());
            }
            a = o;
        }
        fpred.push(argmax(&fl[nl - 1]));
        qpred.push(argmax(&a));
    }
    let layers = (0..nl)
        .map(|l| LayerCompare {
            name: model.layers[l].name.to_string(),
            sqnr_db: (noise[l] > 0.0).then(|| 10.0 * (sig[l] / noise[l]).log10()),
            max_abs_error: maxe[l],
            saturated: sat[l],
            outputs: inputs.len() * model.layers[l].rows(),
        })
        .collect();
    let same = fpred.iter().zip(&qpred).filter(|(a, b)| a == b).count();
    Compare {
        inputs: inputs.len(),
        layers,
        agreement: same as f64 / inputs.len().max(1) as f64,
        float_accuracy: labels.map(|y| accuracy(&fpred, y)),
        fixed_accuracy: labels.map(|y| accuracy(&qpred, y)),
    }
}

/// Class predictions of the fixed-point model.
pub fn predict(model: &Model, inputs: &[Vec<f64>]) -> Vec<usize> {
    inputs
        .iter()
        .map(|x| argmax(&golden::run(model, &golden::quantize_input(model, x))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_ties_go_low_and_accuracy_counts() {
        assert_eq!(argmax(&[1, 3, 3, 0]), 1);
        assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 1, 1, 2]), 0.75);
    }

    #[test]
    fn labels_are_checked_against_inputs_and_classes() {
        let p = Path::new("y.npy");
        let e = check_labels(&[0, 10], p, 2, Path::new("x.npy"), "n", 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "y.npy: label 1 is 10; network `n` has 10 outputs, so labels must be 0..=9"
        );
        let e = check_labels(&[0], p, 2, Path::new("x.npy"), "n", 10).unwrap_err();
        assert!(
            e.to_string().contains("1 labels but 2 input rows in x.npy"),
            "{e}"
        );
        assert!(check_labels(&[-1], p, 1, Path::new("x.npy"), "n", 3).is_err());
        assert!(check_labels(&[2, 0], p, 2, Path::new("x.npy"), "n", 3).is_ok());
    }
}
