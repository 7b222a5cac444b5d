//! Reading float tensors from `.npz` (stored or deflated) and `.safetensors` files, and inputs
//! from `.npy`. Everything comes back as `f64` with its shape; NaN and Inf are the caller's check.

use crate::error::{io, Error, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One tensor: row-major data and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// All tensors of one weights file, by name.
#[derive(Debug)]
pub struct TensorFile {
    pub path: PathBuf,
    pub tensors: BTreeMap<String, Tensor>,
    /// Tensors that could not be read as floats (integer buffers such as PyTorch's
    /// `num_batches_tracked`), with the reason; an error only if a layer asks for one.
    pub unsupported: BTreeMap<String, String>,
}

impl TensorFile {
    /// Load every tensor of a `.npz` or `.safetensors` file.
    pub fn load(path: &Path) -> Result<TensorFile> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let (tensors, unsupported) = match ext.as_str() {
            "npz" => load_npz(path)?,
            "safetensors" => load_safetensors(path)?,
            _ => {
                return Err(Error::Weights {
                    path: path.into(),
                    message: "unknown weights format: expected a .npz or .safetensors file".into(),
                })
            }
        };
        Ok(TensorFile {
            path: path.into(),
            tensors,
            unsupported,
        })
    }

    /// Comma-separated tensor names, for error messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self
            .tensors
            .keys()
            .chain(self.unsupported.keys())
            .map(String::as_str)
            .collect();
        if names.is_empty() {
            "(none)".into()
        } else {
            names.join(", ")
        }
    }
}

fn weights_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Weights {
        path: path.into(),
        message: message.into(),
    }
}

type Loaded = (BTreeMap<String, Tensor>, BTreeMap<String, String>);

/// Errors that mean the tensor is fine but not floating point: kept aside, not fatal.
fn is_dtype_problem(message: &str) -> bool {
    message.contains("unsupported dtype") || message.contains("not supported")
}

fn load_npz(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let mut archive = npyz::npz::NpzArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        weights_err(
            path,
            format!("not a valid .npz archive (missing or truncated?): {e}"),
        )
    })?;
    let names: Vec<String> = archive.array_names().map(String::from).collect();
    let mut out = BTreeMap::new();
    let mut unsupported = BTreeMap::new();
    for name in names {
        let npy = archive
            .by_name(&name)
            .map_err(|e| weights_err(path, format!("tensor `{name}`: cannot read: {e}")))?
            .ok_or_else(|| weights_err(path, format!("tensor `{name}` vanished from archive")))?;
        match npy_to_tensor(npy) {
            Ok(t) => {
                out.insert(name, t);
            }
            Err(m) if is_dtype_problem(&m) => {
                unsupported.insert(name, m);
            }
            Err(m) => return Err(weights_err(path, format!("tensor `{name}`: {m}"))),
        }
    }
    Ok((out, unsupported))
}

/// Convert one `.npy` array (float32 or float64, C order) to a tensor.
fn npy_to_tensor<R: Read>(npy: npyz::NpyFile<R>) -> std::result::Result<Tensor, String> {
    if npy.order() != npyz::Order::C {
        return Err("Fortran-order arrays are not supported; save with C order".into());
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let expected: usize = shape.iter().product();
    let dtype = npy.dtype();
    let type_str = match &dtype {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => {
            return Err(format!(
                "unsupported dtype {other:?}; expected float32 or float64"
            ))
        }
    };
    let data: Vec<f64> = match type_str.as_str() {
        "<f4" | "=f4" | "|f4" => npy
            .into_vec::<f32>()
            .map_err(|e| format!("truncated or corrupt data: {e}"))?
            .into_iter()
            .map(f64::from)
            .collect(),
        "<f8" | "=f8" | "|f8" => npy
            .into_vec::<f64>()
            .map_err(|e| format!("truncated or corrupt data: {e}"))?,
        other => {
            return Err(format!(
                "unsupported dtype `{other}`; expected float32 or float64"
            ))
        }
    };
    if data.len() != expected {
        return Err(format!(
            "truncated: {} values for shape {shape:?} ({expected} expected)",
            data.len()
        ));
    }
    Ok(Tensor { shape, data })
}

fn load_safetensors(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        weights_err(
            path,
            format!("not a valid .safetensors file (missing or truncated?): {e}"),
        )
    })?;
    let mut out = BTreeMap::new();
    let mut unsupported = BTreeMap::new();
    for (name, view) in st.tensors() {
        let shape = view.shape().to_vec();
        let raw = view.data();
        let data: Vec<f64> = match view.dtype() {
            safetensors::Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            safetensors::Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("chunks_exact(8)")))
                .collect(),
            other => {
                unsupported.insert(
                    name,
                    format!("dtype {other:?} not supported; expected F32 or F64"),
                );
                continue;
            }
        };
        out.insert(name, Tensor { shape, data });
    }
    Ok((out, unsupported))
}

/// Read inputs from a `.npy`: 2-D (one input per row) or 1-D (a single input), float32/float64.
pub fn load_inputs(path: &Path) -> Result<Vec<Vec<f64>>> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| Error::Input {
        path: path.into(),
        message: format!("not a valid .npy file: {e}"),
    })?;
    let t = npy_to_tensor(npy).map_err(|message| Error::Input {
        path: path.into(),
        message,
    })?;
    let rows = match t.shape.len() {
        1 => vec![t.data],
        2 => {
            let cols = t.shape[1];
            if cols == 0 {
                return Err(Error::Input {
                    path: path.into(),
                    message: "inputs have zero columns".into(),
                });
            }
            t.data.chunks(cols).map(<[f64]>::to_vec).collect()
        }
        n => {
            return Err(Error::Input {
                path: path.into(),
                message: format!(
                    "expected a 1-D or 2-D array (one input per row), got {n} dimensions {:?}",
                    t.shape
                ),
            })
        }
    };
    for (r, row) in rows.iter().enumerate() {
        if let Some(c) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::Input {
                path: path.into(),
                message: format!("row {r}, column {c}: value {} is not finite", row[c]),
            });
        }
    }
    Ok(rows)
}
