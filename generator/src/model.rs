//! The compressed model: what `bramble compress` writes and every later stage reads. A JSON file
//! (docs/model-format.md) that loads back exactly; its canonical bytes give the network hash.

use crate::error::{io, Error, Result};
use crate::ident::Ident;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The `format` field of a model file.
pub const MODEL_FORMAT: &str = "bramble-model";
/// The version written, and the only one read.
pub const MODEL_VERSION: u32 = 1;

/// Activation applied after saturation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    None,
    Relu,
}

/// A fixed-point activation format at one layer boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// Total signed width.
    pub bits: u32,
    /// Fractional bits.
    pub frac_bits: u32,
}

/// The network's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub size: usize,
    pub format: Format,
}

/// Sparse weights as codebook indices in compressed sparse column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Csc {
    pub rows: usize,
    pub cols: usize,
    /// `col_ptr[j]..col_ptr[j+1]` are column j's entries; `cols + 1` values.
    pub col_ptr: Vec<u32>,
    /// Row of each entry, increasing within a column.
    pub row: Vec<u32>,
    /// Codebook index of each entry, never 0.
    pub code: Vec<u8>,
}

impl Csc {
    /// Build from a dense row-major matrix of codebook indices (0 = zero weight).
    pub fn from_dense(rows: usize, cols: usize, codes: &[u8]) -> Csc {
        let mut col_ptr = Vec::with_capacity(cols + 1);
        let mut row = Vec::new();
        let mut code = Vec::new();
        col_ptr.push(0);
        for j in 0..cols {
            for i in 0..rows {
                let c = codes[i * cols + j];
                if c != 0 {
                    row.push(i as u32);
                    code.push(c);
                }
            }
            col_ptr.push(row.len() as u32);
        }
        Csc {
            rows,
            cols,
            col_ptr,
            row,
            code,
        }
    }

    /// The dense row-major matrix of codebook indices.
    pub fn to_dense(&self) -> Vec<u8> {
        let mut d = vec![0u8; self.rows * self.cols];
        for j in 0..self.cols {
            for e in self.col_ptr[j] as usize..self.col_ptr[j + 1] as usize {
                d[self.row[e] as usize * self.cols + j] = self.code[e];
            }
        }
        d
    }

    pub fn nnz(&self) -> usize {
        self.row.len()
    }
}

/// Weight error of the stored (pruned, shared, quantised) weights against the float ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WeightError {
    pub max_abs: f64,
    pub mean_abs: f64,
}

/// One compressed layer: everything the golden model and the engine need, in integers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: Ident,
    pub activation: Activation,
    pub weight_bits: u32,
    pub codebook_bits: u32,
    /// Fractional bits of the codebook entries (`c_l`).
    pub codebook_frac: u32,
    /// Integer codebook, `2^weight_bits` entries; entry 0 is 0.
    pub codebook: Vec<i64>,
    /// The float centroids the integers came from (entry 0 is 0.0).
    pub centroids: Vec<f64>,
    /// Bias at accumulator precision (`frac = in.frac_bits + codebook_frac`).
    pub bias: Vec<i64>,
    /// Output activation format.
    pub out: Format,
    /// Accumulator width that never overflows for this layer (docs/numerics.md).
    pub acc_bits: u32,
    /// The prune target this layer was compressed with.
    pub prune: f64,
    pub weights: Csc,
    /// Float weights' non-zero count before pruning (for reporting).
    pub float_nnz: usize,
    pub weight_error: WeightError,
}

/// A compressed network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub format: String,
    pub version: u32,
    pub name: Ident,
    pub input: Input,
    pub layers: Vec<Layer>,
}

impl Layer {
    pub fn rows(&self) -> usize {
        self.weights.rows
    }
    pub fn cols(&self) -> usize {
        self.weights.cols
    }
}

impl Model {
    /// The activation format entering layer `l`.
    pub fn in_format(&self, l: usize) -> Format {
        if l == 0 {
            self.input.format
        } else {
            self.layers[l - 1].out
        }
    }

    /// Fractional bits of layer `l`'s products and bias.
    pub fn acc_frac(&self, l: usize) -> u32 {
        self.in_format(l).frac_bits + self.layers[l].codebook_frac
    }

    /// Right shift from accumulator to output format of layer `l`.
    pub fn shift(&self, l: usize) -> u32 {
        self.acc_frac(l) - self.layers[l].out.frac_bits
    }

    pub fn output(&self) -> Format {
        self.layers
            .last()
            .expect("validated: at least one layer")
            .out
    }

    pub fn output_size(&self) -> usize {
        self.layers
            .last()
            .expect("validated: at least one layer")
            .rows()
    }

    /// Canonical bytes: compact JSON of the model.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a model always serialises")
    }

    /// 64-bit network hash: the first 8 bytes (big-endian) of SHA-256 of the canonical bytes.
    pub fn hash(&self) -> u64 {
        let d = Sha256::digest(self.canonical_bytes());
        u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
    }

    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash())
    }

    /// Write the model file (via a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(crate::fsutil::write_atomic(path, &self.canonical_bytes())?)
    }

    /// Read and check a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        let model: Model = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
            path: path.into(),
            message: format!("not a valid bramble model file: {e}"),
        })?;
        model.check().map_err(|message| Error::Model {
            path: path.into(),
            message,
        })?;
        Ok(model)
    }

    /// Every invariant the later stages rely on. A model file is user input, so it is checked
    /// as thoroughly as a description.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.format != MODEL_FORMAT || self.version != MODEL_VERSION {
            return Err(format!(
                "format `{}` version {}: expected `{MODEL_FORMAT}` version {MODEL_VERSION}",
                self.format, self.version
            ));
        }
        if self.layers.is_empty() || self.layers.len() > 255 {
            return Err("layers: 1..=255 layers required".into());
        }
        let fmt_ok = |f: Format| {
            (crate::desc::ACT_BITS.0..=crate::desc::ACT_BITS.1).contains(&(f.bits as i64))
                && f.frac_bits <= 2 * crate::desc::ACT_BITS.1 as u32 + 32
        };
        if !fmt_ok(self.input.format) {
            return Err("input.format out of range".into());
        }
        let mut prev = self.input.size;
        let mut names = std::collections::BTreeSet::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let n = &layer.name;
            let e = |m: String| format!("layer `{n}`: {m}");
            if !names.insert(n.clone()) {
                return Err(e("duplicate layer name".into()));
            }
            let w = &layer.weights;
            if w.cols != prev || w.rows == 0 || w.rows > crate::desc::MAX_DIM {
                return Err(e(format!(
                    "shape {}x{} does not chain with {prev} inputs",
                    w.rows, w.cols
                )));
            }
            if !(1..=8).contains(&layer.weight_bits) || !(2..=18).contains(&layer.codebook_bits) {
                return Err(e("weight_bits or codebook_bits out of range".into()));
            }
            if layer.codebook_frac > 2 * layer.codebook_bits + 8 {
                return Err(e(format!(
                    "codebook_frac {} is out of range; allowed 0..={}",
                    layer.codebook_frac,
                    2 * layer.codebook_bits + 8
                )));
            }
            let k = 1usize << layer.weight_bits;
            if layer.codebook.len() != k || layer.centroids.len() != k || layer.codebook[0] != 0 {
                return Err(e(format!(
                    "codebook must have {k} entries with entry 0 = 0"
                )));
            }
            let lim = 1i64 << (layer.codebook_bits - 1);
            if layer.codebook.iter().any(|&c| c < -lim || c >= lim) {
                return Err(e("codebook entry exceeds codebook_bits".into()));
            }
            if layer.bias.len() != w.rows {
                return Err(e("bias length differs from rows".into()));
            }
            if !(0.0..1.0).contains(&layer.prune) {
                return Err(e(format!(
                    "prune {} is out of range; allowed [0, 1)",
                    layer.prune
                )));
            }
            if !fmt_ok(layer.out) {
                return Err(e("output format out of range".into()));
            }
            if layer.out.frac_bits > self.in_format(l).frac_bits + layer.codebook_frac {
                return Err(e(
                    "output frac_bits exceed accumulator frac_bits (negative shift)".into(),
                ));
            }
            if w.col_ptr.len() != w.cols + 1
                || w.col_ptr[0] != 0
                || w.col_ptr.windows(2).any(|p| p[0] > p[1])
                || *w.col_ptr.last().unwrap() as usize != w.row.len()
                || w.code.len() != w.row.len()
            {
                return Err(e("malformed sparse weights (col_ptr/row/code)".into()));
            }
            for j in 0..w.cols {
                let s = &w.row[w.col_ptr[j] as usize..w.col_ptr[j + 1] as usize];
                if s.windows(2).any(|p| p[0] >= p[1]) || s.iter().any(|&r| r as usize >= w.rows) {
                    return Err(e(format!(
                        "column {j}: rows not increasing or out of range"
                    )));
                }
            }
            if w.code.iter().any(|&c| c == 0 || c as usize >= k) {
                return Err(e(
                    "codebook index 0 or out of range in stored weights".into()
                ));
            }
            let need = crate::compress::acc_bits_needed(self, l);
            if need > crate::compress::MAX_ACC_BITS {
                return Err(e(format!(
                    "acc_bits: the accumulator needs {need} bits; the limit is {}",
                    crate::compress::MAX_ACC_BITS
                )));
            }
            if layer.acc_bits != need {
                return Err(e(format!(
                    "acc_bits {} but the bound needs {need}",
                    layer.acc_bits
                )));
            }
            prev = w.rows;
        }
        Ok(())
    }
}
