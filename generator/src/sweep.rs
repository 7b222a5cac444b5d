//! `bramble sweep`: compress one float network at every point of a grid (prune x weight bits x
//! method) and measure each with the golden model, in parallel. A grid can be cut into N
//! deterministic shards (point `k` belongs to shard `k mod N`) that run anywhere and are joined
//! by [`merge`], which refuses missing, duplicated or mismatched shards.

use crate::compress::compress;
use crate::desc::{Compression, Network};
use crate::evaluate::{accuracy, argmax, float_layers, predict};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Format tag of the first line of a shard file.
pub const SHARD_FORMAT: &str = "bramble-sweep-shard";

/// The grid, in the order points are numbered: prune outermost, then bits, then method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub prune: Vec<f64>,
    pub weight_bits: Vec<u32>,
    pub compression: Vec<String>,
    /// Target part for the fit and BRAM columns, if any.
    pub part: Option<String>,
}

/// One point of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub index: usize,
    pub prune: f64,
    pub weight_bits: u32,
    pub compression: Compression,
}

impl Grid {
    pub fn points(&self) -> Vec<Point> {
        let mut v = Vec::new();
        for &prune in &self.prune {
            for &weight_bits in &self.weight_bits {
                for c in &self.compression {
                    v.push(Point {
                        index: v.len(),
                        prune,
                        weight_bits,
                        compression: Compression::parse(c).expect("validated grid"),
                    });
                }
            }
        }
        v
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub index: usize,
    pub prune: f64,
    pub weight_bits: u32,
    pub compression: String,
    /// Class accuracy of the fixed-point network (with labels).
    pub accuracy: Option<f64>,
    /// Fraction of inputs on which it picks the float network's class.
    pub agreement: Option<f64>,
    pub compression_ratio: Option<f64>,
    /// Bytes of the encoded weights (1 PE).
    pub weight_bytes: Option<usize>,
    pub fits: Option<bool>,
    pub bram36_tiles: Option<usize>,
    /// Why this point could not be compressed or planned.
    pub error: Option<String>,
}

/// The first line of a shard file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHeader {
    pub format: String,
    /// SHA-256 (first 16 hex digits) of the description, the files it names, inputs and labels.
    pub network_hash: String,
    pub grid: Grid,
    pub shard: usize,
    pub shards: usize,
    /// Float network accuracy on the inputs (with labels).
    pub float_accuracy: Option<f64>,
}

/// A complete sweep: what the table prints.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub network_hash: String,
    pub grid: Grid,
    pub float_accuracy: Option<f64>,
    pub rows: Vec<Row>,
}

/// Parse `I/N` (0 <= I < N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard `{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Hash of everything the sweep's numbers depend on besides the grid.
pub fn network_hash(files: &[&Path]) -> std::io::Result<String> {
    let mut h = Sha256::new();
    for f in files {
        let bytes = std::fs::read(f)?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let d = h.finalize();
    Ok(d[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// Float predictions and accuracy, computed once for all points.
pub struct Reference {
    pub preds: Vec<usize>,
    pub accuracy: Option<f64>,
}

pub fn reference(net: &Network, inputs: &[Vec<f64>], labels: Option<&[i64]>) -> Reference {
    let preds: Vec<usize> = inputs
        .iter()
        .map(|x| argmax(float_layers(net, x).last().expect("at least one layer")))
        .collect();
    let accuracy = labels.map(|y| accuracy(&preds, y));
    Reference { preds, accuracy }
}

/// Compress and measure one point.
pub fn run_point(
    net: &Network,
    p: Point,
    inputs: &[Vec<f64>],
    labels: Option<&[i64]>,
    reference: &Reference,
    part: Option<&'static crate::parts::Part>,
) -> Row {
    let mut row = Row {
        index: p.index,
        prune: p.prune,
        weight_bits: p.weight_bits,
        compression: p.compression.as_str().into(),
        accuracy: None,
        agreement: None,
        compression_ratio: None,
        weight_bytes: None,
        fits: None,
        bram36_tiles: None,
        error: None,
    };
    let mut n = net.clone();
    for l in &mut n.layers {
        l.prune = p.prune;
        l.weight_bits = p.weight_bits;
        l.compression = p.compression;
    }
    let model = match compress(&n) {
        Ok((m, _)) => m,
        Err(e) => {
            row.error = Some(e.to_string());
            return row;
        }
    };
    let preds = predict(&model, inputs);
    row.accuracy = labels.map(|y| accuracy(&preds, y));
    let same = preds
        .iter()
        .zip(&reference.preds)
        .filter(|(a, b)| a == b)
        .count();
    row.agreement = Some(same as f64 / preds.len().max(1) as f64);
    let s = crate::stats::stats(&model, 1);
    row.compression_ratio = Some(s.compression_ratio);
    row.weight_bytes = Some(s.bytes);
    if let Some(part) = part {
        match crate::plan::choose(&model, part, None) {
            Ok((_, plan)) => {
                row.fits = Some(plan.fits);
                row.bram36_tiles = Some(plan.bram36_tiles);
            }
            Err(e) => {
                row.fits = Some(false);
                row.error = Some(e);
            }
        }
    }
    row
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },
    #[error("shard {shard} of {shards} appears twice: {first} and {second}")]
    Duplicate {
        shard: usize,
        shards: usize,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("missing shard(s) {missing:?} of {shards}: got only {got:?}")]
    Missing {
        missing: Vec<usize>,
        shards: usize,
        got: Vec<usize>,
    },
}

/// Join shard files (JSON lines: a header, then rows) into one table.
pub fn merge(paths: &[PathBuf]) -> Result<Table, MergeError> {
    let mut first: Option<(ShardHeader, PathBuf)> = None;
    let mut seen: Vec<Option<PathBuf>> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| MergeError::Io {
            path: path.clone(),
            source,
        })?;
        let parse = |line: usize, message: String| MergeError::Parse {
            path: path.clone(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, head) = lines.next().ok_or_else(|| {
            parse(
                1,
                "empty file; expected a shard written by `bramble sweep --shard`".into(),
            )
        })?;
        let h: ShardHeader = serde_json::from_str(head)
            .map_err(|e| parse(1, format!("not a sweep shard header: {e}")))?;
        if h.format != SHARD_FORMAT {
            return Err(parse(
                1,
                format!("format `{}`; expected `{SHARD_FORMAT}`", h.format),
            ));
        }
        if h.shards == 0 || h.shard >= h.shards {
            return Err(parse(
                1,
                format!("shard {} of {} is out of range", h.shard, h.shards),
            ));
        }
        match &first {
            None => {
                seen = vec![None; h.shards];
                first = Some((h.clone(), path.clone()));
            }
            Some((f, fp)) => {
                let mism = |what: &str, a: String, b: String| MergeError::Mismatch {
                    path: path.clone(),
                    message: format!("{what} {b} differs from {a} in {}", fp.display()),
                };
                if f.network_hash != h.network_hash {
                    return Err(mism("network hash", f.network_hash.clone(), h.network_hash));
                }
                if f.grid != h.grid {
                    return Err(mism(
                        "grid",
                        serde_json::to_string(&f.grid).unwrap_or_default(),
                        serde_json::to_string(&h.grid).unwrap_or_default(),
                    ));
                }
                if f.shards != h.shards {
                    return Err(mism(
                        "shard count",
                        f.shards.to_string(),
                        h.shards.to_string(),
                    ));
                }
            }
        }
        if let Some(prev) = &seen[h.shard] {
            return Err(MergeError::Duplicate {
                shard: h.shard,
                shards: h.shards,
                first: prev.clone(),
                second: path.clone(),
            });
        }
        seen[h.shard] = Some(path.clone());
        let want: Vec<usize> = (0..h.grid.points().len())
            .filter(|k| k % h.shards == h.shard)
            .collect();
        let mut got = Vec::new();
        for (n, line) in lines {
            let r: Row = serde_json::from_str(line)
                .map_err(|e| parse(n + 1, format!("not a sweep row: {e}")))?;
            got.push(r.index);
            rows.push(r);
        }
        if got != want {
            return Err(MergeError::Mismatch {
                path: path.clone(),
                message: format!(
                    "shard {} of {} should hold points {want:?} but holds {got:?} (truncated?)",
                    h.shard, h.shards
                ),
            });
        }
    }
    let Some((h, _)) = first else {
        return Err(MergeError::Missing {
            missing: vec![],
            shards: 0,
            got: vec![],
        });
    };
    let missing: Vec<usize> = (0..h.shards).filter(|&i| seen[i].is_none()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            shards: h.shards,
            got: (0..h.shards).filter(|&i| seen[i].is_some()).collect(),
        });
    }
    rows.sort_by_key(|r| r.index);
    Ok(Table {
        network_hash: h.network_hash,
        grid: h.grid,
        float_accuracy: h.float_accuracy,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_spec_is_checked() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }
}
