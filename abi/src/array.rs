//! The one reader for float arrays: weights (`.npz`, `.safetensors`) and inputs (`.npy`), used by
//! the generator (`compress`, calibration, `infer`, `sim`) and the host (`bramble-host run`).
//!
//! Rules, the same for every caller:
//!
//! - **Element types.** `.npy`/`.npz`: float16, float32 and float64 (`f2`, `f4`, `f8`) in either
//!   byte order (`<` little, `>` big; `=` and `|` mean this machine's order). `.safetensors`:
//!   `F16`, `BF16`, `F32`, `F64` (little-endian, as the format defines). Everything comes back as
//!   `f64` (exact for all four). Any other dtype is an error that names the dtype and the tensor.
//! - **Order.** C (row-major) and Fortran (column-major, what `np.save(w.T)` or a transposed
//!   PyTorch tensor writes) are both read; [`Array::data`] is always row-major.
//! - **Finite values only.** A NaN or an infinity is an error that names the file, the tensor and
//!   the position (index, or row and column for 2-D arrays).
//! - **Sizes are checked before memory is allocated.** Element counts and byte sizes use checked
//!   arithmetic; the bytes a header asks for must equal the bytes actually present (file length
//!   minus header for `.npy`; the member's recorded size, then what is actually read, for `.npz`;
//!   the data offsets and the file length for `.safetensors`). A header claiming more data than the
//!   file holds is an error, never an allocation.
//! - **Integrity.** Every `.npz` member that is read is read to its end, so the zip CRC-32 is
//!   checked; a mismatch is an error.
//! - **Lazy.** [`ArrayFile::open`] reads only the directory (the zip central directory, or the
//!   `.safetensors` JSON header); [`ArrayFile::get`] reads and decodes one tensor. Tensors nobody
//!   asks for are never read, so an unused integer tensor (PyTorch's `num_batches_tracked`) or an
//!   unused multi-gigabyte member costs nothing.
//! - **Inputs** ([`read_inputs`]): a 1-D array is one input, a 2-D array is one input per row; no
//!   rows or no columns is an error.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A reason, before it is given a path and a tensor name.
type Res<T> = std::result::Result<T, String>;

/// Longest `.npy` header accepted, in bytes (numpy's own loader stops at 10 000 by default).
pub const MAX_NPY_HEADER: usize = 65_536;
/// Most dimensions an array may have (numpy 2 allows 64).
pub const MAX_DIMS: usize = 64;
/// Longest `.safetensors` JSON header accepted, in bytes (the limit of the `safetensors` crate).
pub const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// An array of finite values, row-major, with its shape (`[]` for a scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    /// Row-major: the last index varies fastest. `data.len()` is the product of `shape`.
    pub data: Vec<f64>,
}

/// A weights file, opened: its directory is read, its tensors are read one by one on request.
pub struct ArrayFile {
    path: PathBuf,
    format: Format,
}

enum Format {
    Npz {
        zip: zip::ZipArchive<BufReader<File>>,
        /// Tensor name (member name without `.npy`) -> member name.
        members: BTreeMap<String, String>,
    },
    Safetensors {
        file: File,
        /// Offset of the data buffer in the file (8 + header length).
        data_start: u64,
        tensors: BTreeMap<String, StEntry>,
    },
}

/// One entry of a `.safetensors` header, checked for structure only.
struct StEntry {
    dtype: String,
    shape: Vec<u64>,
    begin: u64,
    end: u64,
}

impl std::fmt::Debug for ArrayFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayFile")
            .field("path", &self.path)
            .field("names", &self.names())
            .finish()
    }
}

fn array_err(path: &Path, tensor: Option<&str>, reason: impl Into<String>) -> Error {
    Error::Array {
        path: path.to_path_buf(),
        tensor: tensor.map(String::from),
        reason: reason.into(),
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

impl ArrayFile {
    /// Open a `.npz` or `.safetensors` file (by extension) and read its list of tensors.
    pub fn open(path: &Path) -> Result<ArrayFile> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match ext.as_str() {
            "npz" => open_npz(path)?,
            "safetensors" => open_safetensors(path)?,
            _ => {
                return Err(array_err(
                    path,
                    None,
                    "unknown weights format: expected a .npz or .safetensors file",
                ))
            }
        };
        Ok(ArrayFile {
            path: path.to_path_buf(),
            format,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every tensor name in the file, sorted, whether or not it could be read.
    pub fn names(&self) -> Vec<&str> {
        match &self.format {
            Format::Npz { members, .. } => members.keys().map(String::as_str).collect(),
            Format::Safetensors { tensors, .. } => tensors.keys().map(String::as_str).collect(),
        }
    }

    /// True if the file has a tensor called `name` (readable or not).
    pub fn contains(&self, name: &str) -> bool {
        match &self.format {
            Format::Npz { members, .. } => members.contains_key(name),
            Format::Safetensors { tensors, .. } => tensors.contains_key(name),
        }
    }

    /// Read and decode tensor `name`. Errors name the file and the tensor: a missing tensor, an
    /// unsupported dtype, a size that does not match the data, a CRC mismatch, a NaN or infinity.
    pub fn get(&mut self, name: &str) -> Result<Array> {
        let path = self.path.clone();
        let bad = |reason: String| array_err(&path, Some(name), reason);
        let array = match &mut self.format {
            Format::Npz { zip, members } => {
                let member = members
                    .get(name)
                    .ok_or_else(|| bad(no_such(members.keys())))?;
                let mut file = zip
                    .by_name(member)
                    .map_err(|e| bad(format!("cannot read member `{member}`: {e}")))?;
                let size = file.size();
                read_npy_from(&mut file, size, true).map_err(&bad)?
            }
            Format::Safetensors {
                file,
                data_start,
                tensors,
            } => {
                let entry = tensors
                    .get(name)
                    .ok_or_else(|| bad(no_such(tensors.keys())))?;
                read_safetensor(file, *data_start, entry).map_err(&bad)?
            }
        };
        check_finite(&array).map_err(bad)?;
        Ok(array)
    }
}

fn no_such<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    format!(
        "no such tensor; available tensors: {}",
        if names.is_empty() {
            "(none)".into()
        } else {
            names.join(", ")
        }
    )
}

/// Read a `.npy` file: any shape, C or Fortran order, finite float values.
pub fn read_npy(path: &Path) -> Result<Array> {
    let file = File::open(path).map_err(io_err("open", path))?;
    let len = file
        .metadata()
        .map_err(io_err("read the size of", path))?
        .len();
    let mut r = BufReader::new(file);
    let array = read_npy_from(&mut r, len, false).map_err(|m| array_err(path, None, m))?;
    check_finite(&array).map_err(|m| array_err(path, None, m))?;
    Ok(array)
}

/// Read inputs from a `.npy`: a 2-D array is one input per row, a 1-D array is one input.
/// There must be at least one row and one column.
pub fn read_inputs(path: &Path) -> Result<Vec<Vec<f64>>> {
    let a = read_npy(path)?;
    let bad = |m: String| array_err(path, None, m);
    match a.shape[..] {
        [0] => Err(bad("the input has 0 values".into())),
        [_] => Ok(vec![a.data]),
        [0, _] => Err(bad(format!("shape {:?}: the inputs have 0 rows", a.shape))),
        [_, 0] => Err(bad(format!(
            "shape {:?}: the inputs have 0 columns",
            a.shape
        ))),
        [_, cols] => Ok(a.data.chunks_exact(cols).map(<[f64]>::to_vec).collect()),
        _ => Err(bad(format!(
            "expected a 1-D or 2-D array (one input per row), got {} dimensions {:?}",
            a.shape.len(),
            a.shape
        ))),
    }
}

/// Read class labels from a `.npy`: integers (`int8` to `int64`, `uint8` to `uint64`, either
/// byte order), shape `(N,)` or `(N, 1)`, as numpy saves `np.array(labels)`. At least one label;
/// every label is returned as `i64` (a `uint64` above `i64::MAX` is refused).
pub fn read_labels(path: &Path) -> Result<Vec<i64>> {
    let bad = |m: String| array_err(path, None, m);
    let file = File::open(path).map_err(io_err("open", path))?;
    let len = file
        .metadata()
        .map_err(io_err("read the size of", path))?
        .len();
    let mut r = BufReader::new(file);
    let h = read_npy_header(&mut r).map_err(bad)?;
    let d = h.descr.as_bytes();
    let (big, signed, width) = match (d.first(), d.get(1), &h.descr.get(2..)) {
        (Some(b'<' | b'>' | b'|' | b'='), Some(b'i' | b'u'), Some(w @ ("1" | "2" | "4" | "8"))) => {
            (
                d[0] == b'>' || (d[0] == b'=' && cfg!(target_endian = "big")),
                d[1] == b'i',
                w.parse::<usize>().expect("one digit"),
            )
        }
        _ => {
            return Err(bad(format!(
                "dtype `{}` is not supported for labels; expected integers (`<i8` as numpy saves \
                 int64, `<i4`, `|u1`, ...)",
                h.descr
            )))
        }
    };
    let shown = show_shape(&h.shape);
    let count = match h.shape[..] {
        [n] | [n, 1] => {
            usize::try_from(n).map_err(|_| bad(format!("shape {shown} is too large")))?
        }
        _ => {
            return Err(bad(format!(
                "labels must have shape (N,) or (N, 1); got {shown}"
            )))
        }
    };
    if count == 0 {
        return Err(bad("the file holds 0 labels".into()));
    }
    let bytes = count
        .checked_mul(width)
        .ok_or_else(|| bad(format!("shape {shown} is too large")))?;
    if len.checked_sub(h.prefix) != Some(bytes as u64) {
        return Err(bad(format!(
            "shape {shown} of {width}-byte integers needs {bytes} bytes of data but the file holds {}",
            len.saturating_sub(h.prefix)
        )));
    }
    let mut raw = vec![0u8; bytes];
    r.read_exact(&mut raw).map_err(|e| bad(read_failure(&e)))?;
    raw.chunks_exact(width)
        .enumerate()
        .map(|(i, c)| {
            let mut b = [0u8; 8];
            if big {
                b[8 - width..].copy_from_slice(c);
                b.reverse();
            } else {
                b[..width].copy_from_slice(c);
            }
            // Sign-extend from `width` bytes.
            let u = u64::from_le_bytes(b);
            let shift = 64 - 8 * width as u32;
            if signed {
                Ok(((u << shift) as i64) >> shift)
            } else {
                i64::try_from(u).map_err(|_| bad(format!("label {i} = {u} is too large")))
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Element types

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Float {
    F16,
    Bf16,
    F32,
    F64,
}

impl Float {
    fn size(self) -> usize {
        match self {
            Float::F16 | Float::Bf16 => 2,
            Float::F32 => 4,
            Float::F64 => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Float::F16 => "float16",
            Float::Bf16 => "bfloat16",
            Float::F32 => "float32",
            Float::F64 => "float64",
        }
    }
}

/// Exact conversion of an IEEE binary16 value (the `half` crate).
fn f16_to_f64(h: u16) -> f64 {
    half::f16::from_bits(h).to_f64()
}

/// Decode `raw` (a whole number of elements) to `f64`.
fn decode(raw: &[u8], float: Float, big_endian: bool) -> Vec<f64> {
    let n = float.size();
    raw.chunks_exact(n)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(c);
            if big_endian {
                b[..n].reverse();
            }
            match float {
                Float::F16 => f16_to_f64(u16::from_le_bytes([b[0], b[1]])),
                Float::Bf16 => half::bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f64(),
                Float::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                Float::F64 => f64::from_le_bytes(b),
            }
        })
        .collect()
}

/// `(element count, byte size)` of `shape` for elements of `float`, or why it does not fit.
fn sizes(shape: &[u64], float: Float) -> Res<(usize, usize)> {
    let shown = show_shape(shape);
    let dims: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| format!("shape {shown} has a dimension too large for this machine"))?;
    // numpy's rule: any zero dimension means no elements, however large the others are.
    let count = if dims.contains(&0) {
        0
    } else {
        dims.iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                format!("shape {shown} has more elements than fit in memory (overflows 2^64)")
            })?
    };
    let bytes = count.checked_mul(float.size()).ok_or_else(|| {
        format!(
            "shape {shown} of {} needs more bytes than fit in memory (overflows 2^64)",
            float.name()
        )
    })?;
    Ok((count, bytes))
}

fn show_shape(shape: &[u64]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The first NaN or infinity, reported with its position.
fn check_finite(a: &Array) -> Res<()> {
    let Some(k) = a.data.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let at = match a.shape[..] {
        [] => "the value".to_string(),
        [_] => format!("value at index {k}"),
        [_, cols] => format!("value at row {}, column {}", k / cols, k % cols),
        _ => {
            let mut idx = vec![0; a.shape.len()];
            let mut rest = k;
            for (i, &d) in a.shape.iter().enumerate().rev() {
                idx[i] = rest % d;
                rest /= d;
            }
            format!("value at index {idx:?} (flat index {k})")
        }
    };
    Err(format!(
        "{at} of shape {:?} is {}; values must be finite (no NaN or infinity)",
        a.shape, a.data[k]
    ))
}

/// Reorder column-major `data` of `shape` into row-major.
fn fortran_to_c(shape: &[usize], data: Vec<f64>) -> Vec<f64> {
    if shape.len() < 2 {
        return data;
    }
    let nd = shape.len();
    let mut stride = vec![1usize; nd];
    for a in (0..nd - 1).rev() {
        stride[a] = stride[a + 1] * shape[a + 1];
    }
    let mut out = vec![0.0; data.len()];
    let mut idx = vec![0usize; nd];
    let mut off = 0usize;
    // The first index varies fastest in the source; `off` is the row-major offset of `idx`.
    for v in data {
        out[off] = v;
        for a in 0..nd {
            idx[a] += 1;
            off += stride[a];
            if idx[a] < shape[a] {
                break;
            }
            off -= stride[a] * shape[a];
            idx[a] = 0;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// .npy

/// A parsed `.npy` header.
struct NpyHeader {
    descr: String,
    fortran: bool,
    shape: Vec<u64>,
    /// Bytes before the data: magic, version, length field and header text.
    prefix: u64,
}

/// `(type, big-endian)` of a numpy `descr`, if it is a float type this reader supports.
fn npy_float(descr: &str) -> Option<(Float, bool)> {
    let native_big = cfg!(target_endian = "big");
    let (big, code) = match descr.as_bytes().first() {
        Some(b'<') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        Some(b'=') | Some(b'|') => (native_big, &descr[1..]),
        _ => (native_big, descr),
    };
    let float = match code {
        "f2" | "e" => Float::F16,
        "f4" | "f" => Float::F32,
        "f8" | "d" => Float::F64,
        _ => return None,
    };
    Some((float, big))
}

/// Read a `.npy` from `r`, which holds exactly `len` bytes. With `to_end`, also read past the
/// data to the end of the stream (a zip member: that is when its CRC-32 is checked).
fn read_npy_from<R: Read>(r: &mut R, len: u64, to_end: bool) -> Res<Array> {
    let h = read_npy_header(r)?;
    let Some((float, big)) = npy_float(&h.descr) else {
        return Err(format!(
            "dtype `{}` is not supported; expected float16, float32 or float64 \
             (`<f2`, `<f4`, `<f8`, or `>` for big-endian)",
            h.descr
        ));
    };
    let (_, bytes) = sizes(&h.shape, float)?;
    let shown = show_shape(&h.shape);
    let held = len.checked_sub(h.prefix).ok_or_else(|| {
        format!(
            "truncated: {len} bytes, shorter than its {}-byte header",
            h.prefix
        )
    })?;
    if held != bytes as u64 {
        return Err(format!(
            "{}: shape {shown} of {} needs {bytes} bytes of data but the file holds {held}",
            if held < bytes as u64 {
                "truncated"
            } else {
                "size mismatch"
            },
            float.name()
        ));
    }
    // `bytes` is now no more than what the file says it holds; grow the buffer only as data
    // actually arrives, in case that was a lie too.
    let mut raw = Vec::with_capacity(bytes.min(1 << 24));
    r.by_ref()
        .take(bytes as u64)
        .read_to_end(&mut raw)
        .map_err(|e| read_failure(&e))?;
    if raw.len() != bytes {
        return Err(format!(
            "truncated: shape {shown} of {} needs {bytes} bytes of data but only {} could be read",
            float.name(),
            raw.len()
        ));
    }
    if to_end {
        match r.read(&mut [0u8; 1]) {
            Ok(0) => {}
            Ok(_) => {
                return Err(format!(
                    "size mismatch: more data than its recorded size ({len} bytes)"
                ))
            }
            Err(e) => return Err(read_failure(&e)),
        }
    }
    let shape: Vec<usize> = h.shape.iter().map(|&d| d as usize).collect();
    let mut data = decode(&raw, float, big);
    drop(raw);
    if h.fortran {
        data = fortran_to_c(&shape, data);
    }
    Ok(Array { shape, data })
}

fn read_failure(e: &std::io::Error) -> String {
    if e.to_string().contains("Invalid checksum") {
        "CRC-32 mismatch: the member's data is corrupt".into()
    } else {
        format!("cannot read (corrupt?): {e}")
    }
}

/// `what` if the stream ended early, else the read error itself (a directory, a CRC mismatch).
fn short(e: std::io::Error, what: &str) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        what.to_string()
    } else {
        read_failure(&e)
    }
}

fn read_npy_header<R: Read>(r: &mut R) -> Res<NpyHeader> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|e| short(e, "not a .npy file: shorter than the 8-byte magic"))?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err("not a .npy file: no \\x93NUMPY magic".into());
    }
    let (major, minor) = (magic[6], magic[7]);
    let (hlen, field) = match major {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|e| short(e, "truncated .npy header"))?;
            (u64::from(u16::from_le_bytes(b)), 2)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|e| short(e, "truncated .npy header"))?;
            (u64::from(u32::from_le_bytes(b)), 4)
        }
        _ => return Err(format!("unsupported .npy version {major}.{minor}")),
    };
    if hlen > MAX_NPY_HEADER as u64 {
        return Err(format!(
            ".npy header of {hlen} bytes; the limit is {MAX_NPY_HEADER}"
        ));
    }
    let mut text = Vec::with_capacity(hlen as usize);
    r.by_ref()
        .take(hlen)
        .read_to_end(&mut text)
        .map_err(|e| read_failure(&e))?;
    if text.len() as u64 != hlen {
        return Err(format!(
            "truncated .npy header: {} of {hlen} bytes",
            text.len()
        ));
    }
    let dict = match PyParser::new(&text).parse_all()? {
        Lit::Dict(d) => d,
        _ => return Err("invalid .npy header: not a dictionary".into()),
    };
    let field_of = |key: &str| {
        dict.iter()
            .find(|(k, _)| matches!(k, Lit::Str(s) if s == key))
            .map(|(_, v)| v)
            .ok_or_else(|| format!("invalid .npy header: no `{key}`"))
    };
    let descr = match field_of("descr")? {
        Lit::Str(s) => s.clone(),
        _ => {
            return Err(
                "structured dtype is not supported; expected float16, float32 or float64".into(),
            )
        }
    };
    let fortran = match field_of("fortran_order")? {
        Lit::Bool(b) => *b,
        _ => return Err("invalid .npy header: `fortran_order` is not True or False".into()),
    };
    let shape = match field_of("shape")? {
        Lit::Seq(items) => items
            .iter()
            .map(|d| match d {
                Lit::Int(digits) => digits.parse::<u64>().map_err(|_| {
                    format!("invalid .npy header: dimension {digits} is negative or too large")
                }),
                _ => Err("invalid .npy header: `shape` holds a non-integer".to_string()),
            })
            .collect::<Res<Vec<u64>>>()?,
        _ => return Err("invalid .npy header: `shape` is not a tuple".into()),
    };
    if shape.len() > MAX_DIMS {
        return Err(format!(
            "{} dimensions; the limit is {MAX_DIMS}",
            shape.len()
        ));
    }
    Ok(NpyHeader {
        descr,
        fortran,
        shape,
        prefix: 6 + 2 + field + hlen,
    })
}

/// The Python literals a `.npy` header is made of.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    None,
    /// Digits, with a leading `-` if negative (kept as text so no size is assumed).
    Int(String),
    /// A tuple or a list.
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A parser for the small subset of Python literal syntax numpy writes in `.npy` headers.
struct PyParser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> PyParser<'a> {
    /// Deeper nesting is refused: a structured dtype nests a little, nothing legitimate more.
    const MAX_DEPTH: usize = 16;

    fn new(s: &'a [u8]) -> Self {
        PyParser { s, i: 0, depth: 0 }
    }

    fn parse_all(&mut self) -> Res<Lit> {
        let v = self.value()?;
        self.ws();
        if self.i != self.s.len() {
            return Err(self.err("unexpected text after the dictionary"));
        }
        Ok(v)
    }

    fn err(&self, what: &str) -> String {
        format!("invalid .npy header at byte {}: {what}", self.i)
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn value(&mut self) -> Res<Lit> {
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'(') => self.seq(b')'),
            Some(b'[') => self.seq(b']'),
            Some(b'{') => self.dict(),
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let digits = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                // Python 2 wrote longs as `3L`.
                if self.s.get(self.i) == Some(&b'L') {
                    self.i += 1;
                }
                if digits == "-" {
                    return Err(self.err("`-` without digits"));
                }
                Ok(Lit::Int(digits))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_alphanumeric() {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    _ => Err(self.err("unknown name")),
                }
            }
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end")),
        }
    }

    fn string(&mut self, quote: u8) -> Res<Lit> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i).copied() {
                None => return Err(self.err("unterminated string")),
                Some(c) if c == quote => {
                    self.i += 1;
                    return Ok(Lit::Str(String::from_utf8_lossy(&out).into_owned()));
                }
                Some(b'\\') => {
                    let c = self
                        .s
                        .get(self.i + 1)
                        .copied()
                        .ok_or_else(|| self.err("unterminated string"))?;
                    out.push(c);
                    self.i += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        self.i += 1;
        if self.depth > Self::MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        Ok(())
    }

    fn seq(&mut self, close: u8) -> Res<Lit> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                break;
            }
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => break,
                _ => return Err(self.err("expected `,` or a closing bracket")),
            }
        }
        self.i += 1;
        self.depth -= 1;
        Ok(Lit::Seq(items))
    }

    fn dict(&mut self) -> Res<Lit> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                break;
            }
            let k = self.value()?;
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:`"));
            }
            self.i += 1;
            let v = self.value()?;
            items.push((k, v));
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => break,
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
        self.i += 1;
        self.depth -= 1;
        Ok(Lit::Dict(items))
    }
}

// ---------------------------------------------------------------------------------------------
// .npz

fn open_npz(path: &Path) -> Result<Format> {
    let file = File::open(path).map_err(io_err("open", path))?;
    let zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
        array_err(
            path,
            None,
            format!("not a valid .npz archive (missing or truncated?): {e}"),
        )
    })?;
    let members = zip
        .file_names()
        .filter_map(|m| {
            m.strip_suffix(".npy")
                .map(|n| (n.to_string(), m.to_string()))
        })
        .collect();
    Ok(Format::Npz { zip, members })
}

// ---------------------------------------------------------------------------------------------
// .safetensors

fn open_safetensors(path: &Path) -> Result<Format> {
    let bad = |m: String| array_err(path, None, format!("not a valid .safetensors file: {m}"));
    let mut file = File::open(path).map_err(io_err("open", path))?;
    let len = file
        .metadata()
        .map_err(io_err("read the size of", path))?
        .len();
    let mut n = [0u8; 8];
    if len < 8 {
        return Err(bad(format!(
            "{len} bytes, shorter than the 8-byte header length"
        )));
    }
    file.read_exact(&mut n).map_err(io_err("read", path))?;
    let hlen = u64::from_le_bytes(n);
    if hlen > MAX_SAFETENSORS_HEADER {
        return Err(bad(format!(
            "header of {hlen} bytes; the limit is {MAX_SAFETENSORS_HEADER}"
        )));
    }
    if hlen > len - 8 {
        return Err(bad(format!(
            "truncated: the header needs {hlen} bytes but the file holds {}",
            len - 8
        )));
    }
    let mut text = Vec::with_capacity(hlen as usize);
    (&mut file)
        .take(hlen)
        .read_to_end(&mut text)
        .map_err(io_err("read", path))?;
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&text).map_err(|e| bad(format!("header: {e}")))?;
    let data_len = len - 8 - hlen;
    let mut tensors = BTreeMap::new();
    let mut data_end = 0u64;
    for (name, v) in header {
        if name == "__metadata__" {
            continue;
        }
        let entry = st_entry(&v).map_err(|m| bad(format!("tensor `{name}`: {m}")))?;
        data_end = data_end.max(entry.end);
        tensors.insert(name, entry);
    }
    if data_end > data_len {
        return Err(bad(format!(
            "truncated: the header places data up to byte {data_end} \
             but the file holds {data_len} bytes of data"
        )));
    }
    Ok(Format::Safetensors {
        file,
        data_start: 8 + hlen,
        tensors,
    })
}

fn st_entry(v: &serde_json::Value) -> Res<StEntry> {
    let dtype = v["dtype"]
        .as_str()
        .ok_or("`dtype` is missing or not a string")?
        .to_string();
    let shape = v["shape"]
        .as_array()
        .ok_or("`shape` is missing or not a list")?
        .iter()
        .map(|d| d.as_u64().ok_or("`shape` holds a non-integer"))
        .collect::<std::result::Result<Vec<u64>, _>>()?;
    if shape.len() > MAX_DIMS {
        return Err(format!(
            "{} dimensions; the limit is {MAX_DIMS}",
            shape.len()
        ));
    }
    let offsets = v["data_offsets"]
        .as_array()
        .ok_or("`data_offsets` is missing or not a list")?;
    let (begin, end) = match offsets[..] {
        [ref b, ref e] => (
            b.as_u64().ok_or("`data_offsets` holds a non-integer")?,
            e.as_u64().ok_or("`data_offsets` holds a non-integer")?,
        ),
        _ => return Err("`data_offsets` must be [begin, end]".into()),
    };
    if begin > end {
        return Err(format!(
            "data_offsets [{begin}, {end}] end before they begin"
        ));
    }
    Ok(StEntry {
        dtype,
        shape,
        begin,
        end,
    })
}

fn read_safetensor(file: &mut File, data_start: u64, e: &StEntry) -> Res<Array> {
    let float = match e.dtype.as_str() {
        "F16" => Float::F16,
        "BF16" => Float::Bf16,
        "F32" => Float::F32,
        "F64" => Float::F64,
        other => {
            return Err(format!(
                "dtype {other} is not supported; expected F16, BF16, F32 or F64"
            ))
        }
    };
    let (_, bytes) = sizes(&e.shape, float)?;
    let held = e.end - e.begin;
    if held != bytes as u64 {
        return Err(format!(
            "shape {} of {} needs {bytes} bytes but data_offsets [{}, {}] hold {held}",
            show_shape(&e.shape),
            e.dtype,
            e.begin,
            e.end
        ));
    }
    // `open` checked that every tensor's data lies within the file.
    file.seek(SeekFrom::Start(data_start + e.begin))
        .map_err(|err| format!("cannot read the data: {err}"))?;
    let mut raw = Vec::with_capacity(bytes.min(1 << 24));
    file.by_ref()
        .take(held)
        .read_to_end(&mut raw)
        .map_err(|err| format!("cannot read the data: {err}"))?;
    if raw.len() != bytes {
        return Err(format!(
            "truncated: {bytes} bytes of data expected, {} read",
            raw.len()
        ));
    }
    Ok(Array {
        shape: e.shape.iter().map(|&d| d as usize).collect(),
        data: decode(&raw, float, false),
    })
}

/// Writing arrays: the `.npy` and `.safetensors` byte layouts this module reads, for tests and
/// tools that need to make such files (including ones that lie: the shape is written as given).
pub mod write {
    /// A numpy shape tuple as text: `(3,)`, `(2, 3)`, `()`.
    pub fn shape_text(shape: &[usize]) -> String {
        match shape {
            [n] => format!("({n},)"),
            s => format!(
                "({})",
                s.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// A version 1.0 `.npy`: magic, header dict (`descr`, `fortran_order`, `shape` written as
    /// given), padded with spaces so the data starts at a multiple of 64, then `payload`.
    pub fn npy_bytes(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// A C-order little-endian float64 `.npy` of `shape`.
    pub fn npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
        let payload: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        npy_bytes("<f8", false, &shape_text(shape), &payload)
    }

    /// A C-order little-endian float32 `.npy` of `shape`.
    pub fn npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
        let payload: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        npy_bytes("<f4", false, &shape_text(shape), &payload)
    }

    /// A `.safetensors` file of (name, dtype as the header spells it, e.g. `BF16`, shape, raw
    /// little-endian bytes), tensors laid out in the order given.
    pub fn safetensors_bytes(tensors: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, dtype, shape, bytes) in tensors {
            header.insert(
                name.to_string(),
                serde_json::json!({
                    "dtype": dtype,
                    "shape": shape,
                    "data_offsets": [data.len(), data.len() + bytes.len()],
                }),
            );
            data.extend_from_slice(bytes);
        }
        let h = serde_json::to_vec(&header).expect("a JSON map serialises");
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&h);
        out.extend_from_slice(&data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A file in the temp directory, removed on drop.
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(name: &str, bytes: &[u8]) -> Tmp {
            let p = std::env::temp_dir()
                .join(format!("bramble-abi-array-{}-{name}", std::process::id()));
            std::fs::write(&p, bytes).unwrap();
            Tmp(p)
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    use super::write::npy_bytes as npy;

    fn le32(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn read(name: &str, bytes: &[u8]) -> Result<Array> {
        let t = Tmp::new(name, bytes);
        read_npy(&t.0)
    }

    fn err(r: Result<impl std::fmt::Debug>) -> String {
        r.expect_err("expected an error").to_string()
    }

    fn labels(name: &str, bytes: &[u8]) -> Result<Vec<i64>> {
        let t = Tmp::new(name, bytes);
        read_labels(&t.0)
    }

    #[test]
    fn labels_of_every_integer_type_and_byte_order() {
        let i64s: Vec<u8> = [3i64, -1, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            labels("l8.npy", &npy("<i8", false, "(3,)", &i64s)).unwrap(),
            [3, -1, 9]
        );
        let i32be: Vec<u8> = [7i32, -2].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            labels("b4.npy", &npy(">i4", false, "(2, 1)", &i32be)).unwrap(),
            [7, -2]
        );
        assert_eq!(
            labels("u1.npy", &npy("|u1", false, "(2,)", &[0, 255])).unwrap(),
            [0, 255]
        );
        let u16s: Vec<u8> = [65535u16].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            labels("u2.npy", &npy("<u2", false, "(1,)", &u16s)).unwrap(),
            [65535]
        );
        let big = u64::MAX.to_le_bytes();
        assert!(err(labels("u8.npy", &npy("<u8", false, "(1,)", &big))).contains("too large"));
    }

    #[test]
    fn bad_labels_say_why() {
        let e = err(labels("f.npy", &npy("<f4", false, "(1,)", &le32(&[1.0]))));
        assert!(
            e.contains("f.npy") && e.contains("`<f4`") && e.contains("integers"),
            "{e}"
        );
        let e = err(labels("2d.npy", &npy("<i8", false, "(2, 2)", &[0; 32])));
        assert!(e.contains("(N,) or (N, 1)") && e.contains("(2, 2)"), "{e}");
        let e = err(labels("empty.npy", &npy("<i8", false, "(0,)", &[])));
        assert!(e.contains("0 labels"), "{e}");
        let e = err(labels("short.npy", &npy("<i8", false, "(3,)", &[0; 16])));
        assert!(
            e.contains("needs 24 bytes") && e.contains("holds 16"),
            "{e}"
        );
    }

    #[test]
    fn c_order_float32() {
        let a = read(
            "c.npy",
            &npy("<f4", false, "(2, 3)", &le32(&[1., 2., 3., 4., 5., 6.])),
        )
        .unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, [1., 2., 3., 4., 5., 6.]);
    }

    /// Regression: a Fortran-order array (`np.save(w.T)`) was refused by the generator and read
    /// untransposed by the host.
    #[test]
    fn fortran_order_is_transposed_to_row_major() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let a = read(
            "f.npy",
            &npy("<f4", true, "(2, 3)", &le32(&[1., 4., 2., 5., 3., 6.])),
        )
        .unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, [1., 2., 3., 4., 5., 6.]);
        // 3-D: element [i, j, k] = 100 i + 10 j + k, stored with i fastest.
        let (d0, d1, d2) = (2, 3, 4);
        let mut f = Vec::new();
        for k in 0..d2 {
            for j in 0..d1 {
                for i in 0..d0 {
                    f.push((100 * i + 10 * j + k) as f32);
                }
            }
        }
        let a = read("f3.npy", &npy("<f4", true, "(2, 3, 4)", &le32(&f))).unwrap();
        let c: Vec<f64> = (0..d0)
            .flat_map(|i| {
                (0..d1).flat_map(move |j| (0..d2).map(move |k| (100 * i + 10 * j + k) as f64))
            })
            .collect();
        assert_eq!(a.data, c);
        // 1-D Fortran is the same as C.
        let a = read("f1.npy", &npy("<f4", true, "(3,)", &le32(&[1., 2., 3.]))).unwrap();
        assert_eq!(a.data, [1., 2., 3.]);
    }

    /// Regression: big-endian and float16 arrays were refused.
    #[test]
    fn big_endian_and_float16() {
        let be4: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        assert_eq!(
            read("be4.npy", &npy(">f4", false, "(2,)", &be4))
                .unwrap()
                .data,
            [1.5, -2.0]
        );
        let be8: Vec<u8> = [0.1f64, 1e300]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        assert_eq!(
            read("be8.npy", &npy(">f8", false, "(2,)", &be8))
                .unwrap()
                .data,
            [0.1, 1e300]
        );
        // 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal), 0.5, -0.0
        let h: [u16; 6] = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3800, 0x8000];
        let want = [1.0, -2.0, 65504.0, 2f64.powi(-24), 0.5, -0.0];
        let le: Vec<u8> = h.iter().flat_map(|x| x.to_le_bytes()).collect();
        let be: Vec<u8> = h.iter().flat_map(|x| x.to_be_bytes()).collect();
        assert_eq!(
            read("le2.npy", &npy("<f2", false, "(6,)", &le))
                .unwrap()
                .data,
            want
        );
        assert_eq!(
            read("be2.npy", &npy(">f2", false, "(6,)", &be))
                .unwrap()
                .data,
            want
        );
        assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
        // float64 little-endian, Fortran, 2x2.
        let p: Vec<u8> = [1f64, 3., 2., 4.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            read("f8.npy", &npy("<f8", true, "(2, 2)", &p))
                .unwrap()
                .data,
            [1., 2., 3., 4.]
        );
    }

    #[test]
    fn other_dtypes_are_named() {
        let e = err(read(
            "i8.npy",
            &npy("<i8", false, "(1,)", &7i64.to_le_bytes()),
        ));
        assert!(e.contains("dtype `<i8` is not supported"), "{e}");
        let e = err(read("c8.npy", &npy("<c8", false, "(1,)", &[0; 8])));
        assert!(e.contains("`<c8`"), "{e}");
    }

    /// Regression: a 160-byte file whose shape overflows aborted (capacity overflow) or asked for
    /// 400 GB; (2^32, 2^32) wrapped to 0 elements and read as empty.
    #[test]
    fn lying_shapes_are_errors_before_allocation() {
        let payload = [0u8; 32];
        let f = npy("<f4", false, "(1099511627776, 1099511627776)", &payload);
        assert_eq!(f.len(), 160);
        let e = err(read("o1.npy", &f));
        assert!(e.contains("more elements than fit in memory"), "{e}");
        let e = err(read(
            "o2.npy",
            &npy("<f4", false, "(1000000, 100000)", &payload),
        ));
        assert!(
            e.contains("needs 400000000000 bytes of data but the file holds 32"),
            "{e}"
        );
        let e = err(read(
            "o3.npy",
            &npy("<f8", false, "(4294967296, 4294967296)", &payload),
        ));
        assert!(e.contains("overflows"), "{e}");
        let e = err(read(
            "o4.npy",
            &npy("<f8", false, "(4294967296, 4294967295)", &payload),
        ));
        assert!(e.contains("more bytes than fit"), "{e}");
        let e = err(read("o5.npy", &npy("<f4", false, "(-1, 2)", &payload)));
        assert!(e.contains("negative or too large"), "{e}");
        let e = err(read(
            "o6.npy",
            &npy("<f4", false, "(99999999999999999999999,)", &payload),
        ));
        assert!(e.contains("too large"), "{e}");
        // Too much data is as wrong as too little.
        let e = err(read(
            "o7.npy",
            &npy("<f4", false, "(2,)", &le32(&[1., 2., 3.])),
        ));
        assert!(
            e.contains("needs 8 bytes of data but the file holds 12"),
            "{e}"
        );
        let e = err(read("o8.npy", &npy("<f4", false, "(3,)", &le32(&[1., 2.]))));
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn malformed_headers() {
        for (name, bytes) in [
            ("h1", b"hello".to_vec()),
            ("h2", b"\x93NUMPY\x09\x00\x10\x00".to_vec()),
            ("h3", npy("<f4", false, &"(".repeat(40), &[])),
            ("h4", b"\x93NUMPY\x01\x00\xff\x00{'descr'".to_vec()),
            ("h5", b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec()),
        ] {
            let e = err(read(name, &bytes));
            assert!(e.contains(".npy"), "{name}: {e}");
        }
        let e = err(read(
            "h6",
            &npy("<f4", false, &format!("({})", "1, ".repeat(65)), &[0; 4]),
        ));
        assert!(e.contains("65 dimensions; the limit is 64"), "{e}");
    }

    /// Regression: the host's reader let NaN through (and `sim` turned it into 0).
    #[test]
    fn nan_and_inf_are_refused_with_their_position() {
        let e = err(read(
            "n1.npy",
            &npy(
                "<f4",
                false,
                "(2, 3)",
                &le32(&[0., 0., 0., 0., f32::NAN, 0.]),
            ),
        ));
        assert!(e.contains("row 1, column 1") && e.contains("NaN"), "{e}");
        // Fortran order: the position is the logical one.
        let e = err(read(
            "n2.npy",
            &npy(
                "<f4",
                true,
                "(2, 3)",
                &le32(&[0., 0., 0., 0., 0., f32::INFINITY]),
            ),
        ));
        assert!(e.contains("row 1, column 2") && e.contains("inf"), "{e}");
        let e = err(read(
            "n3.npy",
            &npy("<f4", false, "(3,)", &le32(&[0., f32::NEG_INFINITY, 0.])),
        ));
        assert!(e.contains("index 1") && e.contains("-inf"), "{e}");
        let e = err(read(
            "n4.npy",
            &npy("<f4", false, "(1, 2, 2)", &le32(&[0., 0., f32::NAN, 0.])),
        ));
        assert!(e.contains("[0, 1, 0]") && e.contains("flat index 2"), "{e}");
    }

    #[test]
    fn inputs() {
        let t = Tmp::new(
            "in2.npy",
            &npy("<f4", false, "(2, 2)", &le32(&[1., 2., 3., 4.])),
        );
        assert_eq!(read_inputs(&t.0).unwrap(), [vec![1., 2.], vec![3., 4.]]);
        let t = Tmp::new("in1.npy", &npy("<f4", false, "(2,)", &le32(&[1., 2.])));
        assert_eq!(read_inputs(&t.0).unwrap(), [vec![1., 2.]]);
        let t = Tmp::new(
            "inf.npy",
            &npy("<f4", true, "(2, 2)", &le32(&[1., 3., 2., 4.])),
        );
        assert_eq!(read_inputs(&t.0).unwrap(), [vec![1., 2.], vec![3., 4.]]);
        for (name, shape, needle) in [
            ("in0r.npy", "(0, 3)", "0 rows"),
            ("in0c.npy", "(3, 0)", "0 columns"),
            ("in0.npy", "(0,)", "0 values"),
            ("in3.npy", "(1, 1, 1)", "3 dimensions"),
            ("inbig0.npy", "(0, 1152921504606846976)", "0 rows"),
        ] {
            let bytes = npy(
                "<f4",
                false,
                shape,
                if shape == "(1, 1, 1)" { &[0; 4] } else { &[] },
            );
            let t = Tmp::new(name, &bytes);
            let e = err(read_inputs(&t.0));
            assert!(e.contains(needle), "{name}: {e}");
        }
    }

    fn npz(members: &[(&str, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::FileOptions::default().compression_method(method);
        for (name, bytes) in members {
            w.start_file(format!("{name}.npy"), opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn npz_reads_only_what_is_asked() {
        let m = [
            ("w", npy("<f4", true, "(2, 2)", &le32(&[1., 3., 2., 4.]))),
            ("steps", npy("<i8", false, "(1,)", &7i64.to_le_bytes())),
            (
                "huge",
                npy("<f4", false, "(16, 1152921504606846976)", &[0; 16]),
            ),
        ];
        for method in [
            zip::CompressionMethod::Stored,
            zip::CompressionMethod::Deflated,
        ] {
            let t = Tmp::new("a.npz", &npz(&m, method));
            let mut f = ArrayFile::open(&t.0).unwrap();
            assert_eq!(f.names(), ["huge", "steps", "w"]);
            assert!(f.contains("steps") && !f.contains("x"));
            let a = f.get("w").unwrap();
            assert_eq!((a.shape, a.data), (vec![2, 2], vec![1., 2., 3., 4.]));
            let e = err(f.get("steps"));
            assert!(
                e.contains("tensor `steps`: dtype `<i8` is not supported"),
                "{e}"
            );
            let e = err(f.get("huge"));
            assert!(
                e.contains("tensor `huge`") && e.contains("overflows"),
                "{e}"
            );
            let e = err(f.get("x"));
            assert!(
                e.contains("no such tensor; available tensors: huge, steps, w"),
                "{e}"
            );
        }
    }

    /// Regression: a flipped bit inside a stored member was read as a different weight.
    #[test]
    fn npz_crc_is_checked() {
        let w = npy("<f4", false, "(4,)", &le32(&[1., 2., 3., 4.]));
        let mut bytes = npz(&[("w", w.clone())], zip::CompressionMethod::Stored);
        let at = bytes
            .windows(4)
            .position(|x| x == 3f32.to_le_bytes())
            .unwrap();
        bytes[at] ^= 1;
        let t = Tmp::new("crc.npz", &bytes);
        let mut f = ArrayFile::open(&t.0).unwrap();
        let e = err(f.get("w"));
        assert!(e.contains("tensor `w`: CRC-32 mismatch"), "{e}");
    }

    #[test]
    fn npz_archive_problems() {
        let t = Tmp::new("bad.npz", b"PK not really");
        assert!(err(ArrayFile::open(&t.0)).contains("not a valid .npz archive"));
        let t = Tmp::new("w.h5", b"HDF");
        assert!(err(ArrayFile::open(&t.0)).contains("expected a .npz or .safetensors"));
    }

    fn safetensors(entries: &[(&str, &str, &[usize], Vec<u8>)]) -> Vec<u8> {
        let refs: Vec<(&str, &str, &[usize], &[u8])> = entries
            .iter()
            .map(|(n, d, s, b)| (*n, *d, *s, b.as_slice()))
            .collect();
        super::write::safetensors_bytes(&refs)
    }

    /// Regression: F16 and BF16 tensors were refused.
    #[test]
    fn safetensors_dtypes() {
        let f16: Vec<u8> = [0x3c00u16, 0xc000]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        // bf16 is the top half of an f32: 1.5 = 0x3fc0, -0.25 = 0xbe80.
        let bf16: Vec<u8> = [0x3fc0u16, 0xbe80]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let f64b: Vec<u8> = [0.1f64, 2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let bytes = safetensors(&[
            ("a", "F16", &[2], f16),
            ("b", "BF16", &[2, 1], bf16),
            ("c", "F32", &[2], le32(&[0.5, 4.0])),
            ("d", "F64", &[2], f64b),
            ("e", "I64", &[1], 7i64.to_le_bytes().to_vec()),
            ("f", "F32", &[3], le32(&[1.0, 2.0])),
            ("g", "F32", &[1], le32(&[f32::NAN])),
        ]);
        let t = Tmp::new("a.safetensors", &bytes);
        let mut f = ArrayFile::open(&t.0).unwrap();
        assert_eq!(f.names(), ["a", "b", "c", "d", "e", "f", "g"]);
        assert_eq!(f.get("a").unwrap().data, [1.0, -2.0]);
        let b = f.get("b").unwrap();
        assert_eq!((b.shape, b.data), (vec![2, 1], vec![1.5, -0.25]));
        assert_eq!(f.get("c").unwrap().data, [0.5, 4.0]);
        assert_eq!(f.get("d").unwrap().data, [0.1, 2.0]);
        let e = err(f.get("e"));
        assert!(e.contains("tensor `e`: dtype I64 is not supported"), "{e}");
        let e = err(f.get("f"));
        assert!(
            e.contains("needs 12 bytes but data_offsets [40, 48] hold 8"),
            "{e}"
        );
        let e = err(f.get("g"));
        assert!(
            e.contains("tensor `g`: value at index 0") && e.contains("NaN"),
            "{e}"
        );
    }

    #[test]
    fn safetensors_structure() {
        let good = safetensors(&[("a", "F32", &[2], le32(&[0.5, 4.0]))]);
        for (name, bytes, needle) in [
            ("s1", good[..4].to_vec(), "shorter than the 8-byte"),
            ("s2", good[..good.len() - 1].to_vec(), "truncated"),
            ("s3", good[..20].to_vec(), "truncated"),
            ("s4", u64::MAX.to_le_bytes().to_vec(), "the limit is"),
        ] {
            let t = Tmp::new(&format!("{name}.safetensors"), &bytes);
            let e = err(ArrayFile::open(&t.0));
            assert!(
                e.contains("not a valid .safetensors file") && e.contains(needle),
                "{name}: {e}"
            );
        }
        // A shape whose byte size overflows.
        let bytes = safetensors(&[("a", "F32", &[1 << 62, 1 << 62], vec![])]);
        let t = Tmp::new("s5.safetensors", &bytes);
        let e = err(ArrayFile::open(&t.0).unwrap().get("a"));
        assert!(e.contains("overflows"), "{e}");
    }
}
