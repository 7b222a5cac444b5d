//! The bit-exact integer golden model (docs/numerics.md). The Verilog engine and every host path
//! must produce exactly these integers.

use crate::model::Activation;
use crate::model::{Format, Model};

/// Float to fixed point: round half away from zero, then saturate to `fmt.bits` signed. The
/// host's function, so the golden model and every host path quantise identically.
pub fn quantize(x: f64, fmt: Format) -> i64 {
    bramble_abi::numeric::quantize(x, fmt.frac_bits, fmt.bits)
}

/// Fixed point to float (the contract's function).
pub use bramble_abi::numeric::dequantize;

/// Shift, round half up, saturate to `bits` signed, then the activation.
pub fn requantize(acc: i64, shift: u32, bits: u32, act: Activation) -> i64 {
    let r = if shift == 0 {
        acc
    } else {
        // acc_bits leaves room for the rounding constant (docs/numerics.md); i128 is belt and braces.
        ((acc as i128 + (1i128 << (shift - 1))) >> shift) as i64
    };
    let hi = (1i64 << (bits - 1)) - 1;
    let lo = -(1i64 << (bits - 1));
    let y = r.clamp(lo, hi);
    match act {
        Activation::Relu => y.max(0),
        Activation::None => y,
    }
}

/// Run layer `l` on integer inputs in its input format.
pub fn run_layer(model: &Model, l: usize, input: &[i64]) -> Vec<i64> {
    run_layer_counted(model, l, input).0
}

/// [`run_layer`], and how many outputs saturated (were clamped to the `act_bits` range).
pub fn run_layer_counted(model: &Model, l: usize, input: &[i64]) -> (Vec<i64>, usize) {
    let layer = &model.layers[l];
    let w = &layer.weights;
    assert_eq!(
        input.len(),
        w.cols,
        "internal error: input width should have been checked"
    );
    let mut acc = layer.bias.clone();
    for (j, &a) in input.iter().enumerate() {
        if a == 0 {
            continue;
        }
        for e in w.col_ptr[j] as usize..w.col_ptr[j + 1] as usize {
            acc[w.row[e] as usize] += a * layer.codebook[w.code[e] as usize];
        }
    }
    let s = model.shift(l);
    let bits = layer.out.bits;
    // Clamped values that change the output (ReLU hides the negative ones).
    let (hi, lo) = ((1i128 << (bits - 1)) - 1, -(1i128 << (bits - 1)));
    let saturated = acc
        .iter()
        .filter(|&&v| {
            let r = if s == 0 {
                v as i128
            } else {
                (v as i128 + (1i128 << (s - 1))) >> s
            };
            r > hi || (r < lo && layer.activation == Activation::None)
        })
        .count();
    let out = acc
        .into_iter()
        .map(|v| requantize(v, s, bits, layer.activation))
        .collect();
    (out, saturated)
}

/// Run the whole network on one quantised input; returns the raw outputs.
pub fn run(model: &Model, input: &[i64]) -> Vec<i64> {
    let mut a = input.to_vec();
    for l in 0..model.layers.len() {
        a = run_layer(model, l, &a);
    }
    a
}

/// Quantise a float input row with the model's input format.
pub fn quantize_input(model: &Model, x: &[f64]) -> Vec<i64> {
    x.iter().map(|&v| quantize(v, model.input.format)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::Ident;
    use crate::model::{Csc, Input, Layer, WeightError, MODEL_FORMAT, MODEL_VERSION};

    fn f(bits: u32, frac_bits: u32) -> Format {
        Format { bits, frac_bits }
    }

    #[test]
    fn quantize_rounds_half_away_and_saturates() {
        assert_eq!(quantize(0.5, f(8, 0)), 1);
        assert_eq!(quantize(-0.5, f(8, 0)), -1);
        assert_eq!(quantize(1.25, f(8, 1)), 3);
        assert_eq!(quantize(1000.0, f(8, 0)), 127);
        assert_eq!(quantize(-1000.0, f(8, 0)), -128);
        assert_eq!(quantize(-128.0, f(8, 0)), -128);
        assert_eq!(dequantize(-3, 1), -1.5);
    }

    #[test]
    fn requantize_ties_round_up_and_saturate_both_ways() {
        // 5/2 = 2.5 -> 3 ; -5/2 = -2.5 -> -2 (towards +inf)
        assert_eq!(requantize(5, 1, 8, Activation::None), 3);
        assert_eq!(requantize(-5, 1, 8, Activation::None), -2);
        assert_eq!(requantize(-7, 2, 8, Activation::None), -2); // -1.75 -> -2
        assert_eq!(requantize(-6, 2, 8, Activation::None), -1); // -1.5 -> -1
        assert_eq!(requantize(1 << 20, 2, 8, Activation::None), 127);
        assert_eq!(requantize(-(1 << 20), 2, 8, Activation::None), -128);
        assert_eq!(requantize(-(1 << 20), 2, 8, Activation::Relu), 0);
        assert_eq!(requantize(i64::MIN / 2, 0, 16, Activation::None), -32768);
        assert_eq!(requantize(7, 0, 16, Activation::Relu), 7);
    }

    fn model_1x2(
        codebook: Vec<i64>,
        codes: [u8; 2],
        bias: i64,
        out: Format,
        act: Activation,
    ) -> Model {
        let mut m = Model {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            name: Ident::new("t").unwrap(),
            input: Input {
                size: 2,
                format: f(8, 0),
            },
            layers: vec![Layer {
                name: Ident::new("l0").unwrap(),
                activation: act,
                weight_bits: 1,
                codebook_bits: 8,
                codebook_frac: 1,
                centroids: vec![0.0; codebook.len()],
                codebook,
                bias: vec![bias],
                out,
                acc_bits: 0,
                prune: 0.0,
                weights: Csc::from_dense(1, 2, &codes),
                float_nnz: 2,
                weight_error: WeightError::default(),
            }],
        };
        m.layers[0].acc_bits = crate::compress::acc_bits_needed(&m, 0);
        m.check().unwrap();
        m
    }

    #[test]
    fn most_negative_inputs_and_weights() {
        // codebook entry 1 = -128 (frac 1: -64.0); inputs -128 * 2 entries.
        let m = model_1x2(vec![0, -128], [1, 1], 0, f(16, 0), Activation::None);
        // acc = 2 * (-128 * -128) = 32768 at frac 1 -> 16384 (exact), fits 16 bits.
        assert_eq!(run(&m, &[-128, -128]), vec![16384]);
        let m8 = model_1x2(vec![0, -128], [1, 1], 0, f(8, 0), Activation::None);
        assert_eq!(run(&m8, &[-128, -128]), vec![127]);
        assert_eq!(run(&m8, &[-128, 127]), vec![64]); // (16384 - 16256) / 2
    }

    #[test]
    fn all_zero_layer_gives_bias_only() {
        let m = model_1x2(vec![0, 3], [0, 0], -3, f(8, 0), Activation::None);
        assert_eq!(run(&m, &[100, -100]), vec![-1]); // -3/2 = -1.5 -> -1
        let r = model_1x2(vec![0, 3], [0, 0], -3, f(8, 0), Activation::Relu);
        assert_eq!(run(&r, &[100, -100]), vec![0]);
    }
}
