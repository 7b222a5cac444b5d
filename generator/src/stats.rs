//! What `bramble inspect` reports: density, codebook, storage cost of the EIE encoding and the
//! compression ratio against dense float32. The storage cost assumes EIE's 4-bit row gap unless
//! told another width ([`stats_with`]); `bramble plan` chooses the width per design.

use crate::encode::encode;
use crate::model::Model;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct LayerStats {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub nonzeros: usize,
    /// Non-zero fraction of the stored weights.
    pub density: f64,
    /// Non-zero fraction of the float weights before pruning.
    pub float_density: f64,
    pub weight_bits: u32,
    pub codebook_bits: u32,
    pub codebook_frac_bits: u32,
    /// Shared weights as real numbers (entry 0 is the zero).
    pub codebook: Vec<f64>,
    /// Stored entries including zero padding.
    pub entries: usize,
    pub padding_entries: usize,
    /// Bits per non-zero weight: entry (index + relative row) + padding + column pointers + codebook.
    pub bits_per_weight: f64,
    pub bytes: usize,
    pub float32_bytes: usize,
    pub compression_ratio: f64,
    pub weight_error_max: f64,
    pub weight_error_mean: f64,
    pub in_frac_bits: u32,
    pub out_bits: u32,
    pub out_frac_bits: u32,
    pub acc_bits: u32,
    pub shift: u32,
    pub activation: crate::model::Activation,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub name: String,
    pub network_hash: String,
    pub pes: usize,
    /// Row-gap bits of the entries costed here.
    pub gap_bits: u32,
    pub input_size: usize,
    pub input_bits: u32,
    pub input_frac_bits: u32,
    pub layers: Vec<LayerStats>,
    pub bytes: usize,
    pub float32_bytes: usize,
    pub compression_ratio: f64,
}

/// Bits needed to hold values `0..=max`.
pub fn bits_for(max: u64) -> u32 {
    (64 - max.leading_zeros()).max(1)
}

/// [`stats_with`] EIE's 4-bit row gap.
pub fn stats(model: &Model, pes: usize) -> Stats {
    stats_with(model, pes, bramble_abi::regs::entry::EIE_GAP_BITS)
}

/// Storage of `model` encoded for `pes` PEs with `gap_bits`-wide row gaps (3..=8).
pub fn stats_with(model: &Model, pes: usize, gap_bits: u32) -> Stats {
    let mut layers = Vec::new();
    for (l, layer) in model.layers.iter().enumerate() {
        let w = &layer.weights;
        let slices = encode(w, pes, gap_bits);
        let entries: usize = slices.iter().map(|s| s.entries.len()).sum();
        let ptr_bits = bits_for(
            slices
                .iter()
                .map(|s| s.entries.len() as u64)
                .max()
                .unwrap_or(0),
        );
        let total_bits = entries as u64 * (gap_bits + layer.weight_bits) as u64
            + (pes * (w.cols + 1)) as u64 * ptr_bits as u64
            + (1u64 << layer.weight_bits) * layer.codebook_bits as u64;
        let bytes = total_bits.div_ceil(8) as usize;
        let dense = w.rows * w.cols;
        let nnz = w.nnz();
        let scale = (2f64).powi(-(layer.codebook_frac as i32));
        layers.push(LayerStats {
            name: layer.name.to_string(),
            rows: w.rows,
            cols: w.cols,
            nonzeros: nnz,
            density: nnz as f64 / dense as f64,
            float_density: layer.float_nnz as f64 / dense as f64,
            weight_bits: layer.weight_bits,
            codebook_bits: layer.codebook_bits,
            codebook_frac_bits: layer.codebook_frac,
            codebook: layer.codebook.iter().map(|&c| c as f64 * scale).collect(),
            entries,
            padding_entries: entries - nnz,
            bits_per_weight: if nnz == 0 {
                0.0
            } else {
                total_bits as f64 / nnz as f64
            },
            bytes,
            float32_bytes: dense * 4,
            compression_ratio: (dense * 4) as f64 / bytes as f64,
            weight_error_max: layer.weight_error.max_abs,
            weight_error_mean: layer.weight_error.mean_abs,
            in_frac_bits: model.in_format(l).frac_bits,
            out_bits: layer.out.bits,
            out_frac_bits: layer.out.frac_bits,
            acc_bits: layer.acc_bits,
            shift: model.shift(l),
            activation: layer.activation,
        });
    }
    let bytes = layers.iter().map(|l| l.bytes).sum();
    let float32_bytes = layers.iter().map(|l| l.float32_bytes).sum();
    Stats {
        name: model.name.to_string(),
        network_hash: model.hash_hex(),
        pes,
        gap_bits,
        input_size: model.input.size,
        input_bits: model.input.format.bits,
        input_frac_bits: model.input.format.frac_bits,
        layers,
        bytes,
        float32_bytes,
        compression_ratio: float32_bytes as f64 / bytes as f64,
    }
}
