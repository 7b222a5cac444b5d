//! Synthetic compressed networks with a fixed seed: random shapes, densities, formats and
//! codebooks, for tests and benchmarks (e.g. EIE's layer shapes). They go straight to a
//! [`Model`], skipping float weights, so any corner of the integer format can be reached.

use crate::ident::Ident;
use crate::model::Activation;
use crate::model::{Csc, Format, Input, Layer, Model, WeightError, MODEL_FORMAT, MODEL_VERSION};

/// The project's one deterministic generator (splitmix64, bramble-abi).
pub use bramble_abi::rng::Rng;

/// One synthetic layer.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    pub rows: usize,
    pub cols: usize,
    pub density: f64,
    pub relu: bool,
}

/// A synthetic network.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub input: usize,
    pub layers: Vec<LayerSpec>,
    pub act_bits: u32,
    pub weight_bits: u32,
    pub codebook_bits: u32,
    /// Rows and columns forced empty: every `empty_every`-th row and column (0 = none).
    pub empty_every: usize,
    pub seed: u64,
}

/// Build the model. Codebook entries are random non-zero integers of full range, biases random
/// at accumulator precision, frac bits chosen so shifts are non-trivial.
pub fn model(spec: &Spec) -> Model {
    let mut rng = Rng::new(spec.seed);
    let a = spec.act_bits;
    let f0 = a / 2;
    let mut m = Model {
        format: MODEL_FORMAT.into(),
        version: MODEL_VERSION,
        name: Ident::new(&spec.name).expect("synthetic names are identifiers"),
        input: Input {
            size: spec.input,
            format: Format {
                bits: a,
                frac_bits: f0,
            },
        },
        layers: Vec::new(),
    };
    let mut prev = spec.input;
    for (l, ls) in spec.layers.iter().enumerate() {
        assert_eq!(ls.cols, prev, "synthetic layers must chain");
        let k = 1usize << spec.weight_bits;
        let lim = 1i64 << (spec.codebook_bits - 1);
        let mut codebook = vec![0i64];
        for _ in 1..k {
            let mut c = 0;
            while c == 0 {
                c = rng.int(-lim, lim - 1);
            }
            codebook.push(c);
        }
        let mut codes = vec![0u8; ls.rows * ls.cols];
        for i in 0..ls.rows {
            for j in 0..ls.cols {
                let empty = spec.empty_every > 0
                    && (i % spec.empty_every == spec.empty_every - 1
                        || j % spec.empty_every == spec.empty_every - 1);
                if !empty && rng.unit() < ls.density {
                    codes[i * ls.cols + j] = rng.int(1, k as i64 - 1) as u8;
                }
            }
        }
        let c_frac = spec.codebook_bits - 1;
        let in_frac = m.in_format(l).frac_bits;
        // Output frac: keep the accumulated scale roughly in range so outputs are neither all
        // saturated nor all zero: shift by about log2(fan-in) + codebook bits.
        let nnz_row = (ls.density * ls.cols as f64).max(1.0);
        let grow = (nnz_row.log2().ceil() as u32).min(in_frac + c_frac);
        let out_frac = (in_frac + c_frac)
            .saturating_sub(grow + spec.codebook_bits / 2)
            .min(in_frac + c_frac);
        let p = in_frac + c_frac;
        let bias_lim = 1i64 << (a + p.saturating_sub(out_frac)).min(40).saturating_sub(1);
        let bias = (0..ls.rows).map(|_| rng.int(-bias_lim, bias_lim)).collect();
        let layer = Layer {
            name: Ident::new(&format!("l{l}")).unwrap(),
            activation: if ls.relu {
                Activation::Relu
            } else {
                Activation::None
            },
            weight_bits: spec.weight_bits,
            codebook_bits: spec.codebook_bits,
            codebook_frac: c_frac,
            centroids: codebook
                .iter()
                .map(|&c| c as f64 / (2f64).powi(c_frac as i32))
                .collect(),
            codebook,
            bias,
            out: Format {
                bits: a,
                frac_bits: out_frac,
            },
            acc_bits: 0,
            prune: 0.0,
            weights: Csc::from_dense(ls.rows, ls.cols, &codes),
            float_nnz: 0,
            weight_error: WeightError::default(),
        };
        m.layers.push(layer);
        m.layers[l].float_nnz = m.layers[l].weights.nnz();
        m.layers[l].acc_bits = crate::compress::acc_bits_needed(&m, l);
        prev = ls.rows;
    }
    debug_assert_eq!(m.check(), Ok(()));
    m
}

/// Random quantised inputs with a given fraction of non-zeros.
pub fn inputs(model: &Model, count: usize, density: f64, seed: u64) -> Vec<Vec<i64>> {
    let mut rng = Rng::new(seed);
    let bits = model.input.format.bits;
    let lim = 1i64 << (bits - 1);
    (0..count)
        .map(|_| {
            (0..model.input.size)
                .map(|_| {
                    if rng.unit() < density {
                        let mut v = 0;
                        while v == 0 {
                            v = rng.int(-lim, lim - 1);
                        }
                        v
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect()
}
