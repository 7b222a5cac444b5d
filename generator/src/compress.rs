//! Deep Compression: magnitude pruning, weight sharing (1-D k-means with linear initialisation),
//! and the choice of every fixed-point format (docs/numerics.md). Input: a validated
//! [`Network`]; output: a [`Model`] in integers.

use crate::desc::{Activation, Compression, FloatLayer, Network};
use crate::error::{Error, Result};
use crate::golden::quantize;
use crate::model::{Csc, Format, Input, Layer, Model, WeightError, MODEL_FORMAT, MODEL_VERSION};

/// Iteration cap of k-means (it usually converges in a few dozen).
pub const KMEANS_MAX_ITERS: usize = 300;
/// Fewer calibration rows than this get a note from `calibrated`.
pub const MIN_CALIBRATION_ROWS: usize = 16;
/// Widest accumulator accepted.
pub const MAX_ACC_BITS: u32 = 62;

/// A note for the user about a choice compression made (printed by the CLI).
#[derive(Debug, Clone)]
pub struct Note(pub String);

/// Prune `w` in place so that at least `ceil(prune * len)` entries are zero. Existing zeros
/// count and are never revived; the smallest magnitudes go first, ties by index.
pub fn prune(w: &mut [f64], prune: f64) {
    let target = ((prune * w.len() as f64) - 1e-9).ceil().max(0.0) as usize;
    let zeros = w.iter().filter(|v| **v == 0.0).count();
    if target <= zeros {
        return;
    }
    let mut idx: Vec<usize> = (0..w.len()).filter(|&i| w[i] != 0.0).collect();
    idx.sort_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()).then(a.cmp(&b)));
    for &i in &idx[..target - zeros] {
        w[i] = 0.0;
    }
}

/// 1-D k-means over `values` into `k` centroids, linear initialisation between min and max.
/// Returns sorted centroids. Deterministic; stops when assignments no longer change or after
/// [`KMEANS_MAX_ITERS`] iterations.
pub fn kmeans(values: &[f64], k: usize) -> Vec<f64> {
    assert!(k >= 1);
    if values.is_empty() {
        return vec![0.0; k];
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let mut c: Vec<f64> = if k == 1 {
        vec![(lo + hi) / 2.0]
    } else {
        (0..k)
            .map(|i| lo + (hi - lo) * i as f64 / (k - 1) as f64)
            .collect()
    };
    // Prefix sums make each cluster's mean O(1): clusters are contiguous runs of sorted values.
    let mut prefix = Vec::with_capacity(v.len() + 1);
    prefix.push(0.0f64);
    for x in &v {
        prefix.push(prefix.last().unwrap() + x);
    }
    let mut bounds: Vec<usize> = Vec::new();
    for _ in 0..KMEANS_MAX_ITERS {
        let nb = cluster_bounds(&v, &c);
        if nb == bounds {
            break;
        }
        for i in 0..k {
            let (s, e) = (nb[i], nb[i + 1]);
            if e > s {
                c[i] = (prefix[e] - prefix[s]) / (e - s) as f64;
            }
        }
        c.sort_by(f64::total_cmp);
        bounds = nb;
    }
    c
}

/// For sorted values and sorted centroids: cluster i is `values[b[i]..b[i+1]]`.
fn cluster_bounds(v: &[f64], c: &[f64]) -> Vec<usize> {
    let mut b = Vec::with_capacity(c.len() + 1);
    b.push(0);
    for i in 0..c.len() - 1 {
        let mid = (c[i] + c[i + 1]) / 2.0;
        b.push(v.partition_point(|&x| x <= mid));
    }
    b.push(v.len());
    b
}

/// Index (0-based) of the nearest centroid of sorted `c`; ties go to the lower index.
pub fn nearest(c: &[f64], x: f64) -> usize {
    (0..c.len() - 1)
        .find(|&i| x <= (c[i] + c[i + 1]) / 2.0)
        .unwrap_or(c.len() - 1)
}

/// Largest `f` in `0..=max_f` with `round(max_abs * 2^f) <= 2^(bits-1) - 1`, or `None`.
pub fn frac_for(max_abs: f64, bits: u32, max_f: u32) -> Option<u32> {
    let lim = ((1i64 << (bits - 1)) - 1) as f64;
    (0..=max_f)
        .rev()
        .find(|&f| (max_abs * (2f64).powi(f as i32)).round() <= lim)
}

/// The accumulator width layer `l` needs (docs/numerics.md).
pub fn acc_bits_needed(model: &Model, l: usize) -> u32 {
    let layer = &model.layers[l];
    let a_max = 1u128 << (model.in_format(l).bits - 1);
    let s = model.shift(l);
    let round = if s > 0 { 1u128 << (s - 1) } else { 0 };
    let w = &layer.weights;
    let mut row_sum = vec![0u128; w.rows];
    for (e, &r) in w.row.iter().enumerate() {
        row_sum[r as usize] += layer.codebook[w.code[e] as usize].unsigned_abs() as u128;
    }
    let bound = (0..w.rows)
        .map(|i| row_sum[i] * a_max + layer.bias[i].unsigned_abs() as u128 + round)
        .max()
        .unwrap_or(0);
    // Smallest n with bound <= 2^(n-1) - 1.
    (128 - bound.leading_zeros()) + 1
}

/// Shared weights of one layer before formats are chosen.
struct Shared {
    codes: Vec<u8>,
    centroids: Vec<f64>,
    float_nnz: usize,
}

fn share(layer: &FloatLayer, notes: &mut Vec<Note>) -> Shared {
    let float_nnz = layer.weights.iter().filter(|v| **v != 0.0).count();
    let mut w = layer.weights.clone();
    prune(&mut w, layer.prune);
    let nz: Vec<f64> = w.iter().copied().filter(|v| *v != 0.0).collect();
    let k = (1usize << layer.weight_bits) - 1;
    let c = kmeans(&nz, k);
    // A cluster whose mean is exactly 0.0 (symmetric weights) would store zero weights as
    // non-zeros; those weights are pruned instead, and the user is told.
    let mut zeroed = 0usize;
    let codes = w
        .iter()
        .map(|&x| {
            if x == 0.0 {
                return 0;
            }
            let i = nearest(&c, x);
            if c[i] == 0.0 {
                zeroed += 1;
                0
            } else {
                (i + 1) as u8
            }
        })
        .collect();
    if zeroed > 0 {
        notes.push(Note(format!(
            "layer `{}`: {zeroed} weights fell in a cluster whose mean is exactly 0 and were pruned",
            layer.name
        )));
    }
    let mut centroids = vec![0.0];
    centroids.extend(c);
    Shared {
        codes,
        centroids,
        float_nnz,
    }
}

/// Compress a validated network. Returns the model and notes on the formats chosen.
///
/// Layers are compressed in order. A `calibrated` layer (docs/compression.md) is fitted to the
/// inputs the already-compressed earlier layers really produce, so each layer's formats are
/// settled before the next one is compressed.
pub fn compress(net: &Network) -> Result<(Model, Vec<Note>)> {
    compress_with(net, &mut |_, _| {})
}

/// [`compress`], calling `progress(l, layers)` before layer `l` is compressed and
/// `progress(layers, layers)` at the end.
pub fn compress_with(
    net: &Network,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Model, Vec<Note>)> {
    let path = &net.path;
    let lerr = |layer: &FloatLayer, field: &str, message: String| Error::Layer {
        path: path.clone(),
        layer: layer.name.to_string(),
        field: field.into(),
        message,
    };
    let mut notes = Vec::new();
    let calibrated_from = net
        .layers
        .iter()
        .position(|l| l.compression == Compression::Calibrated);

    // Activation formats per boundary: the input's first.
    let a0 = net.layers[0].act_bits;
    let mut calib = net.calibration.as_ref().map(|rows| Boundary::new(rows));
    let f0 = match (net.input_frac_bits, &calib) {
        (Some(f), _) => f,
        (None, Some(b)) => choose_frac(b.max, a0, "input", &mut notes),
        (None, None) => unreachable!("validated: input.frac_bits or calibration"),
    };
    let input = Input {
        size: net.input_size,
        format: Format {
            bits: a0,
            frac_bits: f0,
        },
    };
    let mut model = Model {
        format: MODEL_FORMAT.into(),
        version: MODEL_VERSION,
        name: net.name.clone(),
        input,
        layers: Vec::with_capacity(net.layers.len()),
    };
    // For calibrated layers: the float network's activations (targets) and the fixed-point
    // network's (inputs) on the calibration rows, advanced layer by layer.
    let rows = net.calibration.as_deref().unwrap_or(&[]);
    let mut float_acts: Vec<Vec<f64>> = match calibrated_from {
        Some(_) => rows.to_vec(),
        None => Vec::new(),
    };
    let mut fixed_acts: Vec<Vec<i64>> = match calibrated_from {
        Some(_) => rows
            .iter()
            .map(|x| crate::golden::quantize_input(&model, x))
            .collect(),
        None => Vec::new(),
    };

    for (l, layer) in net.layers.iter().enumerate() {
        progress(l, net.layers.len());
        let (s, float_bias) = match layer.compression {
            Compression::Magnitude => (share(layer, &mut notes), layer.bias.clone()),
            Compression::Calibrated => {
                let in_frac = model.in_format(l).frac_bits;
                let n = rows.len();
                if n < MIN_CALIBRATION_ROWS {
                    notes.push(Note(format!(
                        "layer `{}`: calibrated with only {n} calibration rows; the refit fits \
                         weights to the variation between rows, so use a few hundred",
                        layer.name
                    )));
                }
                let x: Vec<f64> = fixed_acts
                    .iter()
                    .flat_map(|a| a.iter().map(|&q| crate::golden::dequantize(q, in_frac)))
                    .collect();
                let y = float_layer(layer, &float_acts, false);
                let c = crate::calibrated::compress_layer(layer, &x, &y, n)
                    .map_err(|e| lerr(layer, "compression", format!("calibrated: {}", e.0)))?;
                if c.zeroed > 0 {
                    notes.push(Note(format!(
                        "layer `{}`: {} weights fell on a centroid that is exactly 0 and were pruned",
                        layer.name, c.zeroed
                    )));
                }
                let mut centroids = vec![0.0];
                centroids.extend(c.centroids);
                let float_nnz = layer.weights.iter().filter(|v| **v != 0.0).count();
                (
                    Shared {
                        codes: c.codes,
                        centroids,
                        float_nnz,
                    },
                    c.bias,
                )
            }
        };
        let (c, ints) = codebook_format(layer, &s, &lerr)?;
        let in_fmt = model.in_format(l);
        let p = in_fmt.frac_bits + c;
        if let Some(b) = &mut calib {
            b.advance(layer, &s, c, &ints, &float_bias);
        }
        let wanted = match (layer.frac_bits, &calib) {
            (Some(f), _) => f,
            (None, Some(b)) => choose_frac(b.max, layer.act_bits, layer.name.as_str(), &mut notes),
            (None, None) => f0,
        };
        let f_out = wanted.min(p);
        if f_out < wanted {
            notes.push(Note(format!(
                "layer `{}`: output frac_bits {wanted} clamped to {f_out} (input frac {} + codebook frac {c})",
                layer.name, in_fmt.frac_bits)));
        }
        let bfmt = Format {
            bits: 63,
            frac_bits: p,
        };
        let mut bias = Vec::with_capacity(layer.rows);
        for (i, &b) in float_bias.iter().enumerate() {
            let q = b * (2f64).powi(p as i32);
            if q.abs() >= (1u64 << 60) as f64 {
                return Err(lerr(layer, "bias", format!(
                    "bias {i} = {b} needs more than 60 bits at {p} fractional bits; use fewer frac_bits")));
            }
            bias.push(quantize(b, bfmt));
        }
        // Weight error against the original float weights.
        let mut max_abs = 0.0f64;
        let mut sum = 0.0f64;
        for (k, &w) in layer.weights.iter().enumerate() {
            let code = s.codes[k] as usize;
            let q = ints[code] as f64 / (2f64).powi(c as i32);
            let e = (q - w).abs();
            max_abs = max_abs.max(e);
            sum += e;
        }
        let n = layer.weights.len().max(1) as f64;
        model.layers.push(Layer {
            name: layer.name.clone(),
            activation: layer.activation,
            weight_bits: layer.weight_bits,
            codebook_bits: layer.codebook_bits,
            codebook_frac: c,
            codebook: ints,
            centroids: s.centroids,
            bias,
            out: Format {
                bits: layer.act_bits,
                frac_bits: f_out,
            },
            acc_bits: 0,
            prune: layer.prune,
            weights: Csc::from_dense(layer.rows, layer.cols, &s.codes),
            float_nnz: s.float_nnz,
            weight_error: WeightError {
                max_abs,
                mean_abs: sum / n,
            },
        });
        let acc = acc_bits_needed(&model, l);
        if acc > MAX_ACC_BITS {
            return Err(lerr(layer, "act_bits", format!(
                "the accumulator would need {acc} bits (limit {MAX_ACC_BITS}); use fewer act_bits, codebook_bits or frac_bits")));
        }
        model.layers[l].acc_bits = acc;
        if net.layers[l + 1..]
            .iter()
            .any(|x| x.compression == Compression::Calibrated)
        {
            float_acts = float_layer(layer, &float_acts, true)
                .chunks(layer.rows)
                .map(<[f64]>::to_vec)
                .collect();
            fixed_acts = fixed_acts
                .iter()
                .map(|a| crate::golden::run_layer(&model, l, a))
                .collect();
        }
    }
    progress(net.layers.len(), net.layers.len());
    debug_assert_eq!(model.check(), Ok(()));
    Ok((model, notes))
}

/// The float layer on every row of `acts`: row-major (rows of `acts`) x (layer outputs), before
/// the activation unless `activate`.
fn float_layer(layer: &FloatLayer, acts: &[Vec<f64>], activate: bool) -> Vec<f64> {
    use faer::{linalg::matmul::matmul, Accum, Mat, MatRef, Par};
    use rayon::prelude::*;
    /// Calibration rows per matrix product: fixed, so the sums do not depend on the threads.
    const ROWS: usize = 16;
    let (r, d) = (layer.rows, layer.cols);
    let w = MatRef::from_row_major_slice(&layer.weights, r, d);
    let mut out = vec![0.0; acts.len() * r];
    out.par_chunks_mut(r * ROWS)
        .zip(acts.par_chunks(ROWS))
        .for_each(|(o, a)| {
            let x = Mat::<f64>::from_fn(a.len(), d, |s, j| a[s][j]);
            let mut y = Mat::<f64>::from_fn(a.len(), r, |_, i| layer.bias[i]);
            matmul(
                y.as_mut(),
                Accum::Add,
                x.as_ref(),
                w.transpose(),
                1.0,
                Par::Seq,
            );
            for (s, row) in o.chunks_mut(r).enumerate() {
                for (i, v) in row.iter_mut().enumerate() {
                    let z = y[(s, i)];
                    *v = if activate && layer.activation == Activation::Relu {
                        z.max(0.0)
                    } else {
                        z
                    };
                }
            }
        });
    out
}

/// The codebook's fractional bits and integer entries for a shared layer.
fn codebook_format(
    layer: &FloatLayer,
    s: &Shared,
    lerr: &dyn Fn(&FloatLayer, &str, String) -> Error,
) -> Result<(u32, Vec<i64>)> {
    let cbits = layer.codebook_bits;
    let max_abs = s.centroids.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    let c = if max_abs == 0.0 {
        cbits - 1
    } else {
        frac_for(max_abs, cbits, 2 * cbits + 8).ok_or_else(|| {
            lerr(layer, "codebook_bits", format!(
                "largest shared weight {max_abs} does not fit {cbits} signed bits even with 0 fractional bits"))
        })?
    };
    let fmt = Format {
        bits: cbits,
        frac_bits: c,
    };
    let ints: Vec<i64> = s
        .centroids
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let q = quantize(x, fmt);
            if i > 0 && q == 0 && x != 0.0 {
                if x > 0.0 {
                    1
                } else {
                    -1
                }
            } else {
                q
            }
        })
        .collect();
    Ok((c, ints))
}

fn choose_frac(max_abs: f64, bits: u32, what: &str, notes: &mut Vec<Note>) -> u32 {
    let max_f = 2 * bits;
    if max_abs == 0.0 {
        notes.push(Note(format!(
            "{what}: calibration values are all zero; frac_bits {} chosen",
            bits - 1
        )));
        return bits - 1;
    }
    match frac_for(max_abs, bits, max_f) {
        Some(f) => {
            notes.push(Note(format!(
                "{what}: calibration max |x| = {max_abs:.6}; frac_bits {f} of {bits} bits"
            )));
            f
        }
        None => {
            notes.push(Note(format!(
                "{what}: calibration max |x| = {max_abs:.6} exceeds {bits}-bit integers; frac_bits 0, values will saturate")));
            0
        }
    }
}

/// Max |activation| at one layer boundary over the calibration rows, running the float network
/// with the shared, quantised weights (and the bias the layer will store) one layer at a time.
struct Boundary {
    acts: Vec<Vec<f64>>,
    max: f64,
}

impl Boundary {
    fn new(rows: &[Vec<f64>]) -> Boundary {
        let max = rows
            .iter()
            .fold(0.0f64, |m, a| a.iter().fold(m, |m, v| m.max(v.abs())));
        Boundary {
            acts: rows.to_vec(),
            max,
        }
    }

    fn advance(&mut self, layer: &FloatLayer, shared: &Shared, c: u32, ints: &[i64], bias: &[f64]) {
        use rayon::prelude::*;
        let scale = (2f64).powi(-(c as i32));
        // Each row's non-zero weights in column order, as `ints[code] * scale`: the same
        // products and the same order of additions as a dense loop that skips zero codes.
        let d = layer.cols;
        let nz: Vec<Vec<(u32, f64)>> = (0..layer.rows)
            .into_par_iter()
            .map(|i| {
                shared.codes[i * d..(i + 1) * d]
                    .iter()
                    .enumerate()
                    .filter(|(_, &code)| code != 0)
                    .map(|(j, &code)| (j as u32, ints[code as usize] as f64 * scale))
                    .collect()
            })
            .collect();
        // Rows in parallel; max is order-independent.
        self.max = self
            .acts
            .par_iter_mut()
            .map(|a| {
                let mut y = bias.to_vec();
                for (yi, row) in y.iter_mut().zip(&nz) {
                    for &(j, wv) in row {
                        *yi += wv * a[j as usize];
                    }
                }
                if layer.activation == Activation::Relu {
                    y.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                let m = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                *a = y;
                m
            })
            .reduce(|| 0.0, f64::max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_counts_existing_zeros_and_breaks_ties_by_index() {
        let mut w = vec![0.0, 0.5, -0.5, 0.1, 0.0, 2.0];
        prune(&mut w, 0.5); // 3 zeros wanted, 2 exist: the smallest non-zero (0.1) goes.
        assert_eq!(w, vec![0.0, 0.5, -0.5, 0.0, 0.0, 2.0]);
        prune(&mut w, 0.6); // ceil(3.6) = 4: 0.5 and -0.5 tie; index 1 goes first.
        assert_eq!(w, vec![0.0, 0.0, -0.5, 0.0, 0.0, 2.0]);
        let mut z = vec![0.0, 0.0, 1.0];
        prune(&mut z, 0.1); // more zeros than the target: nothing changes, nothing revived.
        assert_eq!(z, vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn kmeans_finds_separated_clusters() {
        let v = [-1.0, -1.1, -0.9, 1.0, 1.1, 0.9, 3.0];
        let c = kmeans(&v, 3);
        assert!(
            (c[0] + 1.0).abs() < 1e-12 && (c[1] - 1.0).abs() < 1e-12 && c[2] == 3.0,
            "{c:?}"
        );
        assert_eq!(nearest(&c, -0.95), 0);
        assert_eq!(nearest(&c, 2.0), 1); // exact midpoint: lower index
    }

    #[test]
    fn frac_choice_never_saturates_the_max() {
        assert_eq!(frac_for(1.0, 16, 32), Some(14));
        assert_eq!(frac_for(0.99, 8, 16), Some(7));
        assert_eq!(frac_for(40000.0, 16, 32), None);
    }
}
