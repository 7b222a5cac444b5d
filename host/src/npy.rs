//! Reading inputs from `.npy` (float32 or float64; 2-D = one input per row, 1-D = one input),
//! shared by `bramble-host run` and the generator's `bramble sim` / `bramble run`.

use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use crate::error::{Error, Result};

/// Reads `path` as a list of input vectors.
pub fn read_inputs(path: &Path) -> Result<Vec<Vec<f64>>> {
    let bad = |reason: String| Error::Input {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        action: "open input",
        path: path.to_path_buf(),
        source,
    })?;
    let npy = NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("not a .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let order = npy.order();
    let (rows, cols) = match shape.as_slice() {
        [n] => (1usize, *n as usize),
        [r, c] => (*r as usize, *c as usize),
        _ => {
            return Err(bad(format!(
                "expected a 1-D or 2-D array, found shape {shape:?}"
            )))
        }
    };
    let flat: Vec<f64> = match npy.dtype() {
        DType::Plain(t) if t.type_char() == TypeChar::Float && t.size_field() == 4 => npy
            .into_vec::<f32>()
            .map_err(|e| bad(format!("reading float32 data: {e}")))?
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::Plain(t) if t.type_char() == TypeChar::Float && t.size_field() == 8 => npy
            .into_vec::<f64>()
            .map_err(|e| bad(format!("reading float64 data: {e}")))?,
        other => {
            return Err(bad(format!(
                "expected float32 or float64 data, found dtype {}",
                other.descr()
            )))
        }
    };
    if flat.len() != rows * cols {
        return Err(bad(format!(
            "truncated: shape {shape:?} needs {} values, found {}",
            rows * cols,
            flat.len()
        )));
    }
    let at = |r: usize, c: usize| match order {
        Order::C => flat[r * cols + c],
        Order::Fortran => flat[c * rows + r],
    };
    Ok((0..rows)
        .map(|r| (0..cols).map(|c| at(r, c)).collect())
        .collect())
}
