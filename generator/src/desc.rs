//! The network description users write (YAML), in two steps like ripgrep's low/high args: raw
//! deserialised structs that mirror the file, then a validated [`Network`] with float weights
//! loaded, shapes chained and every per-layer setting resolved. Nothing downstream reads raw YAML.
//!
//! Before serde_yaml sees a file, its size and nesting depth are checked against
//! [`MAX_DESC_BYTES`] and [`MAX_NESTING`]: a description is a few kilobytes and a few levels deep,
//! and a deeply nested file costs the YAML parser minutes.

use crate::error::{io, Error, Result};
use crate::ident::Ident;
use crate::weights::{self, Array};
use bramble_abi::array::ArrayFile;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    name: String,
    weights: PathBuf,
    #[serde(default)]
    layout: Option<String>,
    input: RawInput,
    #[serde(default)]
    calibration: Option<PathBuf>,
    #[serde(default)]
    defaults: RawSettings,
    layers: Vec<RawLayer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    size: usize,
    #[serde(default)]
    frac_bits: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    act_bits: Option<i64>,
    #[serde(default)]
    weight_bits: Option<i64>,
    #[serde(default)]
    codebook_bits: Option<i64>,
    #[serde(default)]
    prune: Option<f64>,
    #[serde(default)]
    compression: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    name: String,
    weight: String,
    #[serde(default)]
    bias: Option<String>,
    #[serde(default)]
    activation: Option<String>,
    #[serde(default)]
    act_bits: Option<i64>,
    #[serde(default)]
    weight_bits: Option<i64>,
    #[serde(default)]
    codebook_bits: Option<i64>,
    #[serde(default)]
    prune: Option<f64>,
    #[serde(default)]
    frac_bits: Option<i64>,
    #[serde(default)]
    compression: Option<String>,
}

/// Allowed ranges, shared by validation and the documentation.
pub const ACT_BITS: (i64, i64) = (2, 16);
pub const WEIGHT_BITS: (i64, i64) = (1, 8);
pub const CODEBOOK_BITS: (i64, i64) = (2, 18);
pub const FRAC_BITS: (i64, i64) = (0, 32);
/// Longest network name (`<name>_top` must stay within the identifier limit).
pub const MAX_NAME_LEN: usize = crate::ident::MAX_IDENT_LEN - 4;
/// Largest layer dimension (the layer descriptor has 24-bit size fields).
pub const MAX_DIM: usize = (1 << 24) - 1;
/// Largest description file, in bytes (1 MiB).
pub const MAX_DESC_BYTES: u64 = 1 << 20;
/// Deepest nesting of a description: block indentation levels plus open `[` and `{`.
pub const MAX_NESTING: usize = 64;

/// Weight tensor layout of 2-D tensors in the weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// (out, in): PyTorch.
    OutIn,
    /// (in, out): Keras.
    InOut,
}

pub use crate::model::Activation;

/// How a layer's weights are pruned and shared (docs/compression.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Deep Compression without retraining: smallest magnitudes pruned, k-means codebook.
    #[default]
    Magnitude,
    /// Post-training, against calibration inputs: OBS-saliency mask, least-squares refit,
    /// error-compensated code assignment, bias correction.
    Calibrated,
}

impl Compression {
    /// The spelling in descriptions and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Magnitude => "magnitude",
            Compression::Calibrated => "calibrated",
        }
    }

    /// Parse the spelling of a description or command line.
    pub fn parse(s: &str) -> std::result::Result<Compression, String> {
        match s {
            "magnitude" => Ok(Compression::Magnitude),
            "calibrated" => Ok(Compression::Calibrated),
            other => Err(format!(
                "unknown compression `{other}`; expected `magnitude` or `calibrated`"
            )),
        }
    }
}

/// A validated layer with its float weights in (out, in) order.
#[derive(Debug, Clone)]
pub struct FloatLayer {
    pub name: Ident,
    pub rows: usize,
    pub cols: usize,
    /// Row-major (rows x cols): `weights[i * cols + j]` is the weight from input j to output i.
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
    pub activation: Activation,
    pub act_bits: u32,
    pub weight_bits: u32,
    pub codebook_bits: u32,
    pub prune: f64,
    pub frac_bits: Option<u32>,
    pub compression: Compression,
}

/// A validated network description with its weights loaded.
#[derive(Debug, Clone)]
pub struct Network {
    pub path: PathBuf,
    pub name: Ident,
    pub input_size: usize,
    pub input_frac_bits: Option<u32>,
    /// Calibration inputs, already checked for width and finiteness.
    pub calibration: Option<Vec<Vec<f64>>>,
    pub layers: Vec<FloatLayer>,
    /// The files the description named and that were read (weights, calibration inputs).
    pub files: Vec<PathBuf>,
}

fn invalid(path: &Path, field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        path: path.into(),
        field: field.into(),
        message: message.into(),
    }
}

fn layer_err(path: &Path, layer: &str, field: &str, message: impl Into<String>) -> Error {
    Error::Layer {
        path: path.into(),
        layer: layer.into(),
        field: field.into(),
        message: message.into(),
    }
}

fn check_bits(
    path: &Path,
    layer: &str,
    field: &str,
    value: i64,
    (lo, hi): (i64, i64),
) -> Result<u32> {
    if value < lo || value > hi {
        return Err(layer_err(
            path,
            layer,
            field,
            format!("{value} is out of range; allowed {lo}..={hi}"),
        ));
    }
    Ok(value as u32)
}

impl Network {
    /// Read, parse and validate a description and everything it refers to.
    pub fn load(path: &Path) -> Result<Network> {
        let file = std::fs::File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        if len > MAX_DESC_BYTES {
            return Err(too_big(path, len));
        }
        // Read one byte past the limit, in case the file grew since it was measured.
        let mut text = String::new();
        file.take(MAX_DESC_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io(path))?;
        Self::parse(&text, path)
    }

    /// Parse and validate description `text` as if read from `path` (files it names are
    /// relative to `path`'s directory; errors name `path`).
    pub fn parse(text: &str, path: &Path) -> Result<Network> {
        if text.len() as u64 > MAX_DESC_BYTES {
            return Err(too_big(path, text.len() as u64));
        }
        if let Some(line) = too_deep(text) {
            return Err(Error::Yaml {
                path: path.into(),
                message: format!(
                    "nesting deeper than {MAX_NESTING} at line {line}; a description may nest at \
                     most {MAX_NESTING} levels (indentation plus `[` and `{{`)"
                ),
            });
        }
        let raw: RawNetwork = serde_yaml::from_str(text).map_err(|e| Error::Yaml {
            path: path.into(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::validate(path, base, raw)
    }

    fn validate(path: &Path, base: &Path, raw: RawNetwork) -> Result<Network> {
        let name = Ident::new(&raw.name).map_err(|m| invalid(path, "name", m))?;
        // The top module is `<name>_top`, which must itself be an identifier.
        if raw.name.len() > MAX_NAME_LEN {
            return Err(invalid(path, "name", format!(
                "`{}` is {} characters long; the limit is {MAX_NAME_LEN} (it becomes `<name>_top` in Verilog)",
                raw.name, raw.name.len())));
        }
        let layout = match raw.layout.as_deref() {
            None | Some("out_in") => Layout::OutIn,
            Some("in_out") => Layout::InOut,
            Some(other) => {
                return Err(invalid(
                    path,
                    "layout",
                    format!(
                        "unknown layout `{other}`; expected `out_in` (PyTorch) or `in_out` (Keras)"
                    ),
                ))
            }
        };
        if raw.input.size == 0 || raw.input.size > MAX_DIM {
            return Err(invalid(
                path,
                "input.size",
                format!("{} is out of range; allowed 1..={MAX_DIM}", raw.input.size),
            ));
        }
        let input_frac_bits = match raw.input.frac_bits {
            None => None,
            Some(f) => Some(check_bits(
                path,
                "(input)",
                "input.frac_bits",
                f,
                FRAC_BITS,
            )?),
        };
        if input_frac_bits.is_none() && raw.calibration.is_none() {
            return Err(invalid(
                path,
                "input.frac_bits",
                "required when no `calibration` file is given",
            ));
        }
        if raw.layers.is_empty() {
            return Err(invalid(path, "layers", "at least one layer is required"));
        }
        if raw.layers.len() > 255 {
            return Err(invalid(
                path,
                "layers",
                format!("{} layers; the limit is 255", raw.layers.len()),
            ));
        }
        let d = &raw.defaults;
        check_settings(path, "defaults", d)?;

        // Only the list of tensors is read here; each layer reads the tensors it names.
        let weights_path = base.join(&raw.weights);
        let mut file = weights::open(path, &weights_path)?;

        let mut seen = BTreeSet::new();
        let mut layers = Vec::with_capacity(raw.layers.len());
        let mut prev_out = raw.input.size;
        for (idx, rl) in raw.layers.iter().enumerate() {
            let lname = Ident::new(&rl.name)
                .map_err(|m| invalid(path, format!("layers[{idx}].name"), m))?;
            if !seen.insert(lname.clone()) {
                return Err(layer_err(
                    path,
                    &rl.name,
                    "name",
                    "duplicate layer name; layer names must be unique",
                ));
            }
            let ln = rl.name.as_str();
            let activation = match rl.activation.as_deref() {
                None | Some("none") | Some("linear") => Activation::None,
                Some("relu") => Activation::Relu,
                Some(other) => {
                    return Err(layer_err(
                        path,
                        ln,
                        "activation",
                        format!("unknown activation `{other}`; expected `relu` or `none`"),
                    ))
                }
            };
            let pick =
                |own: Option<i64>, def: Option<i64>, fallback: i64| own.or(def).unwrap_or(fallback);
            let act_bits = check_bits(
                path,
                ln,
                "act_bits",
                pick(rl.act_bits, d.act_bits, 16),
                ACT_BITS,
            )?;
            let weight_bits = check_bits(
                path,
                ln,
                "weight_bits",
                pick(rl.weight_bits, d.weight_bits, 4),
                WEIGHT_BITS,
            )?;
            let codebook_bits = check_bits(
                path,
                ln,
                "codebook_bits",
                pick(rl.codebook_bits, d.codebook_bits, 16),
                CODEBOOK_BITS,
            )?;
            let prune = rl.prune.or(d.prune).unwrap_or(0.0);
            if !(0.0..1.0).contains(&prune) {
                return Err(layer_err(
                    path,
                    ln,
                    "prune",
                    format!("{prune} is out of range; allowed [0, 1)"),
                ));
            }
            let frac_bits = match rl.frac_bits {
                None => None,
                Some(f) => Some(check_bits(path, ln, "frac_bits", f, FRAC_BITS)?),
            };
            let compression = match rl.compression.as_deref().or(d.compression.as_deref()) {
                None => Compression::Magnitude,
                Some(c) => {
                    Compression::parse(c).map_err(|m| layer_err(path, ln, "compression", m))?
                }
            };
            if compression == Compression::Calibrated && raw.calibration.is_none() {
                return Err(layer_err(
                    path,
                    ln,
                    "compression",
                    "`calibrated` needs calibration inputs: add `calibration: FILE.npy` (rows of \
                     typical inputs, e.g. 256 training rows) to the description",
                ));
            }

            let w = get_tensor(&mut file, path, ln, "weight", &rl.weight)?;
            if w.shape.len() != 2 {
                return Err(layer_err(
                    path,
                    ln,
                    "weight",
                    format!(
                        "tensor `{}` has shape {:?}; expected a 2-D matrix",
                        rl.weight, w.shape
                    ),
                ));
            }
            // Check the sizes before transposing: a zero dimension may sit next to a huge one.
            let (rows, cols) = match layout {
                Layout::OutIn => (w.shape[0], w.shape[1]),
                Layout::InOut => (w.shape[1], w.shape[0]),
            };
            if cols != prev_out {
                let lay = if layout == Layout::OutIn {
                    "out_in"
                } else {
                    "in_out"
                };
                return Err(layer_err(path, ln, "weight", format!(
                    "tensor `{}` has shape {:?}, so {cols} inputs under layout `{lay}`, but the previous {} has {prev_out} outputs",
                    rl.weight, w.shape, if idx == 0 { "stage (input.size)".to_string() } else { format!("layer `{}`", raw.layers[idx - 1].name) })));
            }
            if rows == 0 || rows > MAX_DIM {
                return Err(layer_err(
                    path,
                    ln,
                    "weight",
                    format!("{rows} outputs; allowed 1..={MAX_DIM}"),
                ));
            }
            // The reader has refused NaN and infinity, naming the tensor and the position.
            let weights = match layout {
                Layout::OutIn => w.data,
                Layout::InOut => {
                    // Stored (in, out): element (j, i) is the weight from input j to output i.
                    let mut t = vec![0.0; rows * cols];
                    for (k, &v) in w.data.iter().enumerate() {
                        t[(k % rows) * cols + k / rows] = v;
                    }
                    t
                }
            };
            let bias = match &rl.bias {
                None => vec![0.0; rows],
                Some(bname) => {
                    let b = get_tensor(&mut file, path, ln, "bias", bname)?;
                    if b.shape != [rows] {
                        return Err(layer_err(
                            path,
                            ln,
                            "bias",
                            format!(
                                "tensor `{bname}` has shape {:?}; expected [{rows}]",
                                b.shape
                            ),
                        ));
                    }
                    b.data
                }
            };
            layers.push(FloatLayer {
                name: lname,
                rows,
                cols,
                weights,
                bias,
                activation,
                act_bits,
                weight_bits,
                codebook_bits,
                prune,
                frac_bits,
                compression,
            });
            prev_out = rows;
        }

        let calibration = match &raw.calibration {
            None => None,
            Some(c) => {
                let cpath = base.join(c);
                // The reader refuses empty files, NaN and infinity.
                let rows =
                    weights::read_inputs(&cpath).map_err(|e| weights::input_error(&cpath, e))?;
                if rows[0].len() != raw.input.size {
                    return Err(Error::Input {
                        path: cpath,
                        message: format!(
                            "calibration inputs have {} columns; input.size is {}",
                            rows[0].len(),
                            raw.input.size
                        ),
                    });
                }
                Some(rows)
            }
        };

        Ok(Network {
            path: path.into(),
            name,
            input_size: raw.input.size,
            input_frac_bits,
            files: std::iter::once(weights_path)
                .chain(raw.calibration.as_ref().map(|c| base.join(c)))
                .collect(),
            calibration,
            layers,
        })
    }
}

fn check_settings(path: &Path, scope: &str, s: &RawSettings) -> Result<()> {
    if let Some(v) = s.act_bits {
        check_bits(path, scope, "act_bits", v, ACT_BITS)?;
    }
    if let Some(v) = s.weight_bits {
        check_bits(path, scope, "weight_bits", v, WEIGHT_BITS)?;
    }
    if let Some(v) = s.codebook_bits {
        check_bits(path, scope, "codebook_bits", v, CODEBOOK_BITS)?;
    }
    if let Some(c) = &s.compression {
        Compression::parse(c).map_err(|m| layer_err(path, scope, "compression", m))?;
    }
    if let Some(p) = s.prune {
        if !(0.0..1.0).contains(&p) {
            return Err(layer_err(
                path,
                scope,
                "prune",
                format!("{p} is out of range; allowed [0, 1)"),
            ));
        }
    }
    Ok(())
}

/// Read tensor `name` for `layer`'s `field`. A tensor that is not in the file lists the ones
/// that are; a tensor that is there but cannot be read (dtype, size, CRC, NaN) says why.
fn get_tensor(
    file: &mut ArrayFile,
    desc: &Path,
    layer: &str,
    field: &str,
    name: &str,
) -> Result<Array> {
    if !file.contains(name) {
        let names = file.names();
        return Err(Error::MissingTensor {
            path: file.path().into(),
            layer: layer.into(),
            field: field.into(),
            tensor: name.into(),
            available: if names.is_empty() {
                "(none)".into()
            } else {
                names.join(", ")
            },
        });
    }
    file.get(name)
        .map_err(|e| layer_err(desc, layer, field, e.to_string()))
}

fn too_big(path: &Path, len: u64) -> Error {
    Error::Yaml {
        path: path.into(),
        message: format!("description is {len} bytes; the limit is {MAX_DESC_BYTES} (1 MiB)"),
    }
}

/// The line at which `text` nests deeper than [`MAX_NESTING`], if it does: a cheap scan that
/// counts block indentation levels (each `- ` and `? ` on a line opens one more) and open flow
/// brackets outside quotes, comments and block scalars. It may count more than YAML would (a
/// `[` in a plain scalar), never less, so nothing deeper reaches the parser.
fn too_deep(text: &str) -> Option<usize> {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    // Indentation of the line that opened a `|` or `>` block scalar still being skipped.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        if let Some(b) = block_scalar {
            if content.trim().is_empty() || indent > b {
                continue;
            }
            block_scalar = None;
        }
        if flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            while indents.last().is_some_and(|&t| t >= indent) {
                indents.pop();
            }
            let (mut col, mut rest) = (indent, content);
            loop {
                indents.push(col);
                let b = rest.as_bytes();
                if b.len() >= 2 && (b[0] == b'-' || b[0] == b'?') && b[1] == b' ' {
                    let after = &rest[1..];
                    let spaces = after.len() - after.trim_start_matches(' ').len();
                    col += 1 + spaces;
                    rest = &after[spaces..];
                } else {
                    break;
                }
            }
            if indents.len() > MAX_NESTING {
                return Some(n + 1);
            }
        }
        // Flow brackets, skipping quoted scalars (which end at the end of the line here, so a
        // misread quote hides at most one line) and comments.
        let b = content.as_bytes();
        let mut quote: Option<u8> = None;
        let mut last: Option<u8> = None; // last non-blank byte outside quotes
        let mut end = b.len(); // end of the content before a comment
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let prev = if i == 0 { None } else { Some(b[i - 1]) };
            match quote {
                Some(b'\'') => {
                    if c == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            quote = None;
                        }
                    }
                }
                Some(_) => {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        quote = None;
                    }
                }
                None => {
                    let blank_before = matches!(prev, None | Some(b' ' | b'\t'));
                    match c {
                        b'#' if blank_before => {
                            end = i;
                            break;
                        }
                        b'\'' | b'"'
                            if (blank_before || matches!(prev, Some(b'[' | b'{' | b',')))
                                && matches!(
                                    last,
                                    None | Some(b'[' | b'{' | b',' | b':' | b'-' | b'?')
                                ) =>
                        {
                            quote = Some(c)
                        }
                        b'[' | b'{' => {
                            flow += 1;
                            if indents.len() + flow > MAX_NESTING {
                                return Some(n + 1);
                            }
                        }
                        b']' | b'}' => flow = flow.saturating_sub(1),
                        _ => {}
                    }
                    if c != b' ' && c != b'\t' {
                        last = Some(c);
                    }
                }
            }
            i += 1;
        }
        // `key: |`, `- >-`, `|2`: the lines below, indented more than this one, are text.
        if flow == 0 && quote.is_none() {
            let token = content[..end].trim_end().rsplit(' ').next().unwrap_or("");
            let t = token.as_bytes();
            if !t.is_empty()
                && (t[0] == b'|' || t[0] == b'>')
                && t[1..]
                    .iter()
                    .all(|c| matches!(c, b'+' | b'-' | b'1'..=b'9'))
            {
                block_scalar = Some(indent);
            }
        }
    }
    None
}
