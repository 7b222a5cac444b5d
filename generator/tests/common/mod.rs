//! Helpers shared by the integration tests: writing `.npy`, `.npz` and `.safetensors` files from
//! Rust, running the `bramble` binary, a small deterministic RNG, and a tiny test network.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the directory holding `generator/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("generator/ has a parent")
        .to_path_buf()
}

/// A named float tensor with its shape (row-major data).
#[derive(Debug, Clone)]
pub struct T {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

pub fn t(name: &str, shape: &[usize], data: Vec<f32>) -> T {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "tensor {name}");
    T {
        name: name.into(),
        shape: shape.to_vec(),
        data,
    }
}

/// A `.npy` (version 1.0) file of any `descr`, C order (bramble-abi's writer).
pub fn npy_bytes(descr: &str, shape: &[usize], payload: &[u8]) -> Vec<u8> {
    array_write::npy_bytes(descr, false, &array_write::shape_text(shape), payload)
}

use bramble_abi::array::write as array_write;
pub use bramble_abi::array::write::{npy_f32, npy_f64};

/// Write a 2-D float32 `.npy` of `rows` (all rows the same length).
pub fn write_npy_rows(path: &Path, rows: &[Vec<f32>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    std::fs::write(path, npy_f32(&[rows.len(), cols], &flat)).unwrap();
}

/// Write a 2-D float64 `.npy` of `rows`.
pub fn write_npy_rows_f64(path: &Path, rows: &[Vec<f64>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    std::fs::write(path, npy_f64(&[rows.len(), cols], &flat)).unwrap();
}

/// Write float32 tensors as a `.npz` (a zip of `.npy` files), deflated or stored.
pub fn write_npz(path: &Path, tensors: &[T], deflate: bool) {
    let members: Vec<(&str, Vec<u8>)> = tensors
        .iter()
        .map(|t| (t.name.as_str(), npy_f32(&t.shape, &t.data)))
        .collect();
    write_npz_raw(path, &members, deflate);
}

/// Write float32 tensors as `.safetensors`.
pub fn write_safetensors(path: &Path, tensors: &[T]) {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.shape.clone(),
                t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

/// Read every float32 tensor of a `.npz` with npyz (independently of bramble's loader).
pub fn read_npz(path: &Path) -> BTreeMap<String, T> {
    let mut archive = npyz::npz::NpzArchive::open(path)
        .unwrap_or_else(|e| panic!("{}: cannot open: {e}", path.display()));
    let names: Vec<String> = archive.array_names().map(String::from).collect();
    let mut out = BTreeMap::new();
    for name in names {
        let npy = archive.by_name(&name).unwrap().unwrap();
        let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
        let data: Vec<f32> = npy.into_vec().unwrap();
        out.insert(name.clone(), t(&name, &shape, data));
    }
    out
}

/// Read a `.npy` of any plain numeric dtype bramble tests need: returns (shape, values as f64).
pub fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec().unwrap())
}

pub fn read_npy_i64(path: &Path) -> Vec<i64> {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    npy.into_vec().unwrap()
}

/// Result of one `bramble` run.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Panic with the whole output unless the run succeeded.
    pub fn expect_ok(self, what: &str) -> Out {
        assert!(
            self.ok(),
            "{what}: bramble failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Run the built `bramble` binary in `cwd` with `args`.
pub fn bramble_in(cwd: &Path, args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_bramble"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run bramble");
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Run `bramble` with path arguments (absolute paths; cwd is the temp dir's parent-agnostic).
pub fn bramble(args: &[&std::ffi::OsStr]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_bramble"))
        .args(args)
        .output()
        .expect("run bramble");
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Exit code of a bad bundle, manifest or input file (docs/host.md).
pub const BAD_INPUT_FILE: i32 = 7;

/// [`assert_clean_failure`] for an error with its own exit code.
pub fn assert_clean_failure_code(out: &Out, code: i32, what: &str, needles: &[&str]) {
    let ctx = format!(
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    );
    assert_eq!(out.code, Some(code), "expected exit code {code}; {ctx}");
    assert!(!out.stderr.contains("panicked"), "panic; {ctx}");
    assert!(out.stderr.starts_with("error: "), "no `error:` line; {ctx}");
    for n in needles {
        assert!(out.stderr.contains(n), "stderr lacks {n:?}; {ctx}");
    }
}

/// Assert a clean failure: exit code 1 (not a panic's 101 or a signal), no "panicked" on
/// stderr, a message starting with `error:`, and every needle present in stderr.
pub fn assert_clean_failure(out: &Out, what: &str, needles: &[&str]) {
    let ctx = format!(
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    );
    assert_eq!(out.code, Some(1), "expected exit code 1; {ctx}");
    assert!(!out.stderr.contains("panicked"), "panic; {ctx}");
    assert!(out.stderr.starts_with("error: "), "no `error:` line; {ctx}");
    for n in needles {
        assert!(out.stderr.contains(n), "stderr lacks {n:?}; {ctx}");
    }
}

/// Sorted file names in `dir`.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The project's one deterministic generator.
#[allow(unused_imports)]
pub use bramble_abi::rng::Rng;

/// The small network most error tests start from: 3 -> 4 (relu) -> 2, PyTorch layout, in
/// `w.npz` next to `net.yaml`. Extra tensors: `bad.weight` (2x5, does not chain).
pub const TINY_YAML: &str = "\
name: tiny
weights: w.npz
layout: out_in
input: {size: 3, frac_bits: 8}
defaults: {act_bits: 16, weight_bits: 3, codebook_bits: 12, prune: 0.0}
layers:
  - {name: fc1, weight: l1.weight, bias: l1.bias, activation: relu}
  - {name: out, weight: l2.weight, bias: l2.bias, activation: none}
";

pub fn tiny_tensors() -> Vec<T> {
    vec![
        t(
            "l1.weight",
            &[4, 3],
            vec![
                0.5, -0.25, 0.0, 1.5, 0.75, -1.0, 0.0, 0.125, 0.3, -0.6, 0.9, 0.0,
            ],
        ),
        t("l1.bias", &[4], vec![0.1, -0.2, 0.0, 0.05]),
        t(
            "l2.weight",
            &[2, 4],
            vec![1.0, -0.5, 0.25, 0.0, -0.75, 0.0, 0.6, 1.2],
        ),
        t("l2.bias", &[2], vec![0.01, -0.02]),
        t("bad.weight", &[2, 5], vec![0.5; 10]),
    ]
}

/// A temp dir holding `net.yaml` (TINY_YAML unless overridden) and `w.npz`.
pub fn tiny_dir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_npz(&dir.path().join("w.npz"), &tiny_tensors(), true);
    std::fs::write(dir.path().join("net.yaml"), yaml).unwrap();
    dir
}

/// A version 1.0 `.npy` with any `descr`, either order, and the shape written as given (so a test
/// can write a shape that overflows, such as `(1099511627776, 1099511627776)`).
pub use bramble_abi::array::write::npy_bytes as npy_raw;

/// The column-major (Fortran) order of a row-major `rows x cols` matrix.
pub fn to_fortran<X: Copy>(rows: usize, cols: usize, data: &[X]) -> Vec<X> {
    assert_eq!(rows * cols, data.len());
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| data[r * cols + c]))
        .collect()
}

/// The IEEE binary16 bits of `x`, which must be a normal f16 value or zero and exact in f16.
pub fn f16_bits(x: f32) -> u16 {
    if x == 0.0 {
        return if x.is_sign_negative() { 0x8000 } else { 0 };
    }
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    assert!((1..31).contains(&exp), "{x} is not a normal f16");
    assert_eq!(b & 0x1fff, 0, "{x} is not exact in f16");
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3ff) as u16
}

/// The bfloat16 bits of `x`, which must be exact in bfloat16.
pub fn bf16_bits(x: f32) -> u16 {
    assert_eq!(x.to_bits() & 0xffff, 0, "{x} is not exact in bf16");
    (x.to_bits() >> 16) as u16
}

/// Write a `.npz` of ready-made `.npy` members (`name` without `.npy`, bytes).
pub fn write_npz_raw(path: &Path, members: &[(&str, Vec<u8>)], deflate: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::FileOptions::default().compression_method(method);
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// Write a `.safetensors` of (name, dtype as in the header, e.g. `BF16`, shape, raw bytes).
pub fn write_safetensors_raw(path: &Path, tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) {
    let refs: Vec<(&str, &str, &[usize], &[u8])> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, *d, s.as_slice(), b.as_slice()))
        .collect();
    std::fs::write(path, array_write::safetensors_bytes(&refs)).unwrap();
}

/// The tiny two-layer network of the snapshot tests (4 -> 3 -> 2, 8-bit activations).
pub fn tiny() -> bramble::model::Model {
    bramble::synthetic::model(&bramble::synthetic::Spec {
        name: "tiny".into(),
        input: 4,
        layers: vec![
            bramble::synthetic::LayerSpec {
                rows: 3,
                cols: 4,
                density: 0.6,
                relu: true,
            },
            bramble::synthetic::LayerSpec {
                rows: 2,
                cols: 3,
                density: 0.8,
                relu: false,
            },
        ],
        act_bits: 8,
        weight_bits: 2,
        codebook_bits: 8,
        empty_every: 0,
        seed: 1,
    })
}
