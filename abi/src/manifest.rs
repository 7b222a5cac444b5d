//! The bundle's `manifest.json` (docs/bundle.md): the one type the generator writes and the host
//! reads, its validation, and the bundle's integrity rules (every file listed with its SHA-256,
//! plain relative names only, nothing missing, modified or extra, no symlinks).
//!
//! A manifest holds what cannot be derived: identification, formats, file list. The register map,
//! the window size and the address width follow from [`crate::regs`] and the input and output
//! sizes, so there is nothing in the manifest for the RTL to disagree with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ident::Ident;
use crate::regs;

/// The `format` field.
pub const FORMAT: &str = "bramble-bundle";
/// The bundle format this crate writes and reads. 2: file hashes, no register map, port bits.
/// Version 3 (issue 10): `tdata_bits`, the width of the AXI4-Stream ports. Version 4 (issue 14):
/// `gap_bits`, the row-gap width of the design's stored entries, and each layer's `gap_bits`;
/// `weights`, where the weights live and the CRC the WHASH register reports.
pub const FORMAT_VERSION: u32 = 4;
/// The manifest's own file name (the one file of a bundle not listed in `files`).
pub const MANIFEST_FILE: &str = "manifest.json";
/// Largest manifest read (a manifest is a few KB; this stops a crafted file early).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Most processing elements GEOMETRY can report.
pub const MAX_PES: u32 = regs::geometry::FIELD_MAX;

/// `manifest.json` exactly as docs/bundle.md writes it. Unknown and missing fields are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The network's name (an identifier).
    pub name: String,
    /// The top-level module (an identifier).
    pub top: String,
    /// The full part name, e.g. `xc7z020clg400-1` or `xc7z020`.
    pub part: String,
    /// `7series` or `ultrascale_plus`.
    pub family: String,
    pub pes: u32,
    /// 16 lowercase hex digits: the first 8 bytes of the SHA-256 of the compressed model.
    pub network_hash: String,
    /// The register-map version (VERSION register) the RTL implements.
    pub regmap_version: u32,
    /// Width of every activation in the engine.
    pub act_bits: u32,
    /// TDATA width of the AXI4-Stream ports, 32 or 64 (the packing: [`crate::stream`]).
    pub tdata_bits: u32,
    /// Row-gap bits of a stored entry (docs/sparse-format.md): the design-wide field width the
    /// planner chose, 3..=8; entries are `gap_bits` + the codebook index bits wide.
    pub gap_bits: u32,
    pub input: Port,
    pub output: Port,
    pub layers: Vec<Layer>,
    /// Where the weights live and how the host checks them.
    pub weights: Weights,
    /// Verilog sources inside `rtl/`, in compile order (plain file names).
    pub rtl_files: Vec<String>,
    /// Memory images inside `rtl/` read by `$readmemh` (plain file names).
    pub memory_images: Vec<String>,
    /// Every file of the bundle except `manifest.json`, with its SHA-256 (lowercase hex).
    pub files: Vec<FileEntry>,
}

/// The input or output vector: its length and fixed-point format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub size: usize,
    pub bits: u32,
    pub frac_bits: u32,
}

/// One layer (informational for the host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub name: String,
    #[serde(rename = "in")]
    pub inputs: usize,
    #[serde(rename = "out")]
    pub outputs: usize,
    pub relu: bool,
    pub in_frac: u32,
    pub out_frac: u32,
    pub nonzeros: usize,
    /// The layer's row gaps are at most `2^gap_bits - 1` (<= the design's `gap_bits`).
    pub gap_bits: u32,
    /// Entries stored for the layer over all PEs, padding included.
    pub entries: usize,
}

/// `weights` = `"bitstream"`: the memory images in `rtl/` are read by `$readmemh` (the weights
/// are part of the bitstream). `"runtime"`: the weight memories start uninitialised and the host
/// loads `weights.image` over the stream before the first run ([`crate::weights`]).
pub const WEIGHTS_MODES: [&str; 2] = ["bitstream", "runtime"];

/// The `weights` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// One of [`WEIGHTS_MODES`].
    pub mode: String,
    /// The weight image inside the bundle ([`crate::weights::Image`]), listed in `files`.
    pub image: String,
    /// 8 lowercase hex digits: the image's CRC-32, what WHASH must report before a run.
    pub crc32: String,
    /// 16 lowercase hex digits: the first 8 bytes of the SHA-256 of the engine's geometry (every
    /// generate-time parameter the RTL depends on, none of the weight values). With run-time
    /// weights, HASH_HI:HASH_LO reports this instead of `network_hash`, so one bitstream serves
    /// every network of the same geometry.
    pub geometry_hash: String,
    /// True for a bundle written by `bramble generate --geometry-of`: no `rtl/`, only the weight
    /// image and what the host needs, for a device built from a bundle with the same
    /// `geometry_hash`.
    pub weights_only: bool,
    /// The shape of every memory the loader can write, as the design has it (the generator's
    /// `weight_image::shape`): what the host checks an image against before sending it.
    /// Required with run-time weights; every bundle the generator writes lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memories: Vec<WeightMemory>,
}

/// One loadable memory of the design: its name ([`crate::weights::Mem::name`]), word width in
/// bits and depth in words (per PE for the per-PE memories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightMemory {
    pub name: String,
    pub width: u32,
    pub depth: u64,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative to the bundle directory, `/`-separated plain names (see [`check_rel_path`]).
    pub path: String,
    pub sha256: String,
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A path as a manifest may hold it: relative, `/`-separated, each component made of
/// `[A-Za-z0-9_.-]`, not starting with `-` or `.` (no `..`, no hidden files, nothing a tool could
/// read as an option), at most 8 components and 255 bytes.
pub fn check_rel_path(p: &str) -> std::result::Result<(), String> {
    if p.is_empty() || p.len() > 255 {
        return Err(format!("{p:?}: must be 1..=255 bytes"));
    }
    let parts: Vec<&str> = p.split('/').collect();
    if parts.len() > 8 {
        return Err(format!("{p:?}: more than 8 path components"));
    }
    for c in parts {
        let ok = !c.is_empty()
            && !c.starts_with(['-', '.'])
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(format!(
                "{p:?}: must be a plain relative path (components of A-Z a-z 0-9 _ . -, \
                 not starting with `.` or `-`; no `..`, no absolute paths)"
            ));
        }
    }
    Ok(())
}

impl Manifest {
    /// Reads and validates `DIR/manifest.json` (not the other files: see [`Manifest::check_files`]).
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let io = |action, source| Error::Io {
            action,
            path: path.clone(),
            source,
        };
        let meta = std::fs::metadata(&path).map_err(|e| io("read bundle manifest", e))?;
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(Error::ManifestField {
                path,
                field: "(file)".into(),
                reason: format!(
                    "{} bytes; a manifest is at most {MAX_MANIFEST_BYTES} bytes",
                    meta.len()
                ),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io("read bundle manifest", e))?;
        // A manifest of another format version may lack or add fields: say "regenerate" rather
        // than name a missing field.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let found = v.get("format_version").and_then(|f| f.as_u64());
            if let Some(found) = found.filter(|&f| f != FORMAT_VERSION as u64) {
                return Err(Error::ManifestField {
                    path,
                    field: "format_version".into(),
                    reason: format!(
                        "this build reads version {FORMAT_VERSION}, found {found} (regenerate the bundle with this bramble)"
                    ),
                });
            }
        }
        let m: Manifest = serde_json::from_str(&text).map_err(|source| Error::ManifestParse {
            path: path.clone(),
            source,
        })?;
        m.validate(&path)?;
        Ok(m)
    }

    /// The manifest as written into a bundle: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        s.push('\n');
        s
    }

    /// Checks every field against docs/bundle.md; `path` is named in the error.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, reason: String| Error::ManifestField {
            path: path.to_path_buf(),
            field: field.to_string(),
            reason,
        };
        if self.format != FORMAT {
            return Err(bad(
                "format",
                format!("expected {FORMAT:?}, found {:?}", self.format),
            ));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(bad(
                "format_version",
                format!(
                    "this build reads version {FORMAT_VERSION}, found {} (regenerate the bundle with this bramble)",
                    self.format_version
                ),
            ));
        }
        if self.regmap_version != regs::REGMAP_VERSION {
            return Err(bad(
                "regmap_version",
                format!(
                    "this build speaks register-map version {}, found {}",
                    regs::REGMAP_VERSION,
                    self.regmap_version
                ),
            ));
        }
        for (field, v) in [("name", &self.name), ("top", &self.top)] {
            Ident::new(v).map_err(|r| bad(field, r))?;
        }
        for (field, v) in [("part", &self.part), ("family", &self.family)] {
            let ok = !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'));
            if !ok {
                return Err(bad(field, format!("{v:?}: expected a part or family name")));
            }
        }
        parse_hash(&self.network_hash).map_err(|r| bad("network_hash", r))?;
        if !crate::stream::TDATA_BITS.contains(&self.tdata_bits) {
            return Err(bad(
                "tdata_bits",
                format!("must be 32 or 64, found {}", self.tdata_bits),
            ));
        }
        if !regs::entry::valid_gap_bits(self.gap_bits) {
            return Err(bad(
                "gap_bits",
                format!(
                    "must be {}..={}, found {}",
                    regs::entry::MIN_GAP_BITS,
                    regs::entry::MAX_GAP_BITS,
                    self.gap_bits
                ),
            ));
        }
        if !(2..=32).contains(&self.act_bits) {
            return Err(bad(
                "act_bits",
                format!("must be 2..=32, found {}", self.act_bits),
            ));
        }
        if self.pes == 0 || self.pes > MAX_PES {
            return Err(bad(
                "pes",
                format!("must be 1..={MAX_PES} (GEOMETRY[7:0]), found {}", self.pes),
            ));
        }
        if self.layers.is_empty() || self.layers.len() > regs::geometry::FIELD_MAX as usize {
            return Err(bad(
                "layers",
                format!(
                    "must be 1..={} (GEOMETRY[15:8]), found {}",
                    regs::geometry::FIELD_MAX,
                    self.layers.len()
                ),
            ));
        }
        for (field, port) in [("input", self.input), ("output", self.output)] {
            if port.size == 0 || port.size > regs::sizes::MAX {
                return Err(bad(
                    &format!("{field}.size"),
                    format!(
                        "must be 1..={} (SIZES), found {}",
                        regs::sizes::MAX,
                        port.size
                    ),
                ));
            }
            if port.bits != self.act_bits {
                return Err(bad(
                    &format!("{field}.bits"),
                    format!("must equal act_bits {}, found {}", self.act_bits, port.bits),
                ));
            }
            if port.frac_bits > 64 {
                return Err(bad(
                    &format!("{field}.frac_bits"),
                    format!("must be 0..=64, found {}", port.frac_bits),
                ));
            }
        }
        for (i, l) in self.layers.iter().enumerate() {
            Ident::new(&l.name).map_err(|r| bad(&format!("layers[{i}].name"), r))?;
            if !(regs::entry::MIN_GAP_BITS..=self.gap_bits).contains(&l.gap_bits) {
                return Err(bad(
                    &format!("layers[{i}].gap_bits"),
                    format!(
                        "must be {}..={} (the design's gap_bits), found {}",
                        regs::entry::MIN_GAP_BITS,
                        self.gap_bits,
                        l.gap_bits
                    ),
                ));
            }
            if l.entries < l.nonzeros {
                return Err(bad(
                    &format!("layers[{i}].entries"),
                    format!("{} entries cannot hold {} non-zeros", l.entries, l.nonzeros),
                ));
            }
        }
        let (first, last) = (&self.layers[0], &self.layers[self.layers.len() - 1]);
        if first.inputs != self.input.size || last.outputs != self.output.size {
            return Err(bad(
                "layers",
                format!(
                    "the first layer takes {} inputs and the last gives {} outputs, but input.size is {} and output.size {}",
                    first.inputs, last.outputs, self.input.size, self.output.size
                ),
            ));
        }
        let mut listed = BTreeMap::new();
        for (i, f) in self.files.iter().enumerate() {
            let field = format!("files[{i}].path");
            check_rel_path(&f.path).map_err(|r| bad(&field, r))?;
            if f.path == MANIFEST_FILE {
                return Err(bad(&field, "the manifest does not list itself".into()));
            }
            let hex = f.sha256.len() == 64
                && f.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex {
                return Err(bad(
                    &format!("files[{i}].sha256"),
                    "must be 64 lowercase hex digits".into(),
                ));
            }
            if listed.insert(f.path.as_str(), i).is_some() {
                return Err(bad(&field, format!("{:?} is listed twice", f.path)));
            }
        }
        for (list, names) in [
            ("rtl_files", &self.rtl_files),
            ("memory_images", &self.memory_images),
        ] {
            for (i, n) in names.iter().enumerate() {
                let field = format!("{list}[{i}]");
                if n.contains('/') {
                    return Err(bad(
                        &field,
                        format!("{n:?}: must be a file name inside rtl/"),
                    ));
                }
                check_rel_path(n).map_err(|r| bad(&field, r))?;
                if !listed.contains_key(format!("rtl/{n}").as_str()) {
                    return Err(bad(&field, format!("rtl/{n} is not listed in `files`")));
                }
            }
        }
        let w = &self.weights;
        if !WEIGHTS_MODES.contains(&w.mode.as_str()) {
            return Err(bad(
                "weights.mode",
                format!("must be one of {WEIGHTS_MODES:?}, found {:?}", w.mode),
            ));
        }
        check_rel_path(&w.image).map_err(|r| bad("weights.image", r))?;
        if !listed.contains_key(w.image.as_str()) {
            return Err(bad(
                "weights.image",
                format!("{} is not listed in `files`", w.image),
            ));
        }
        parse_crc(&w.crc32).map_err(|r| bad("weights.crc32", r))?;
        parse_hash(&w.geometry_hash).map_err(|r| bad("weights.geometry_hash", r))?;
        if w.weights_only {
            if w.mode != "runtime" {
                return Err(bad(
                    "weights.weights_only",
                    "a weights-only bundle needs weights.mode \"runtime\"".into(),
                ));
            }
            if !self.rtl_files.is_empty() || !self.memory_images.is_empty() {
                return Err(bad(
                    "weights.weights_only",
                    "a weights-only bundle has no rtl_files or memory_images".into(),
                ));
            }
        } else if self.rtl_files.is_empty() {
            return Err(bad("rtl_files", "lists no Verilog source".into()));
        }
        let mut seen = Vec::new();
        for (i, m) in w.memories.iter().enumerate() {
            let field = format!("weights.memories[{i}]");
            let mem = crate::weights::Mem::ALL
                .into_iter()
                .find(|k| k.name() == m.name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        crate::weights::Mem::ALL.iter().map(|k| k.name()).collect();
                    bad(
                        &field,
                        format!("name must be one of {names:?}, found {:?}", m.name),
                    )
                })?;
            if seen.contains(&mem) {
                return Err(bad(&field, format!("{} is listed twice", m.name)));
            }
            seen.push(mem);
            if !(1..=128).contains(&m.width) {
                return Err(bad(
                    &field,
                    format!("width {} is outside 1..=128 bits", m.width),
                ));
            }
            if !(1..=u32::MAX as u64).contains(&m.depth) {
                return Err(bad(
                    &field,
                    format!("depth {} is outside 1..={}", m.depth, u32::MAX),
                ));
            }
        }
        if self.runtime_weights() && w.memories.is_empty() {
            return Err(bad(
                "weights.memories",
                "run-time weights need the loadable memories' shapes".into(),
            ));
        }
        Ok(())
    }

    /// `network_hash` as the 64-bit number HASH_HI:HASH_LO holds (valid after [`validate`]).
    ///
    /// [`validate`]: Manifest::validate
    pub fn network_hash_u64(&self) -> u64 {
        parse_hash(&self.network_hash).unwrap_or(0)
    }

    /// True when the weights are loaded at run time.
    pub fn runtime_weights(&self) -> bool {
        self.weights.mode == "runtime"
    }

    /// The number HASH_HI:HASH_LO must report: the geometry hash with run-time weights, the
    /// network hash with weights in the bitstream (valid after [`Manifest::validate`]).
    pub fn rtl_hash_u64(&self) -> u64 {
        if self.runtime_weights() {
            parse_hash(&self.weights.geometry_hash).unwrap_or(0)
        } else {
            self.network_hash_u64()
        }
    }

    /// The shape of `mem` as `weights.memories` lists it (`None`: the design cannot load it).
    pub fn weight_shape(&self, mem: crate::weights::Mem) -> Option<crate::weights::Shape> {
        self.weights
            .memories
            .iter()
            .find(|m| m.name == mem.name())
            .map(|m| crate::weights::Shape {
                width: m.width,
                depth: m.depth,
            })
    }

    /// The number WHASH must report (valid after [`Manifest::validate`]).
    pub fn weights_crc32(&self) -> u32 {
        parse_crc(&self.weights.crc32).unwrap_or(0)
    }

    /// The AXI4-Stream packing of this bundle's vectors (TDATA width and lanes).
    pub fn packing(
        &self,
    ) -> std::result::Result<crate::stream::Packing, crate::stream::StreamError> {
        crate::stream::Packing::new(self.tdata_bits, self.act_bits)
    }

    /// The STREAM register this bundle's RTL reports.
    pub fn stream_format(&self) -> u32 {
        match self.packing() {
            Ok(p) => regs::stream_format(p.tdata_bits(), p.lane_bits()),
            Err(_) => 0,
        }
    }

    /// Size of each register-map window.
    pub fn window_bytes(&self) -> u64 {
        regs::window_bytes(self.input.size, self.output.size, self.pes as usize)
    }
    /// Byte offset of the input window (IN_BASE).
    pub fn in_base(&self) -> u64 {
        self.window_bytes()
    }
    /// Byte offset of the output window (OUT_BASE).
    pub fn out_base(&self) -> u64 {
        2 * self.window_bytes()
    }
    /// The accelerator's whole address space (four windows).
    pub fn address_space(&self) -> u64 {
        4 * self.window_bytes()
    }
    /// AXI address width.
    pub fn addr_bits(&self) -> u32 {
        regs::addr_bits(self.window_bytes())
    }
    /// The GEOMETRY word the device must report.
    pub fn geometry(&self) -> u32 {
        regs::geometry::pack(self.pes, self.layers.len() as u32, self.act_bits)
    }
    /// The SIZES word the device must report.
    pub fn sizes(&self) -> u32 {
        regs::sizes::pack(self.input.size, self.output.size)
    }

    /// Checks the bundle at `dir` against `files`: every listed file present as a regular file
    /// with the listed SHA-256, no other file, no symlink anywhere (a symlink could lead out of
    /// the bundle). Run before anything is built or simulated from a bundle.
    pub fn check_files(&self, dir: &Path) -> Result<()> {
        let fail = |file: &str, problem: String| Error::BundleFile {
            dir: dir.to_path_buf(),
            file: file.to_string(),
            problem,
        };
        let mut present = Vec::new();
        walk(dir, dir, &mut present)?;
        let listed: BTreeMap<&str, &str> = self
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        for (rel, kind) in &present {
            match kind {
                Kind::Symlink => {
                    return Err(fail(
                        rel,
                        "is a symbolic link; a bundle holds only regular files".into(),
                    ))
                }
                Kind::Other => return Err(fail(rel, "is not a regular file or directory".into())),
                Kind::File if rel == MANIFEST_FILE => {}
                Kind::File if !listed.contains_key(rel.as_str()) => {
                    return Err(fail(
                        rel,
                        "extra file not listed in the manifest (a bundle is code: \
                         remove it, or regenerate the bundle)"
                            .into(),
                    ))
                }
                Kind::File | Kind::Dir => {}
            }
        }
        for (rel, want) in &listed {
            let path = dir.join(rel);
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(fail(rel, "listed in the manifest but missing".into()))
                }
                Err(source) => {
                    return Err(Error::Io {
                        action: "read bundle file",
                        path,
                        source,
                    })
                }
            };
            let got = sha256_hex(&bytes);
            if got != *want {
                return Err(fail(
                    rel,
                    format!("modified since generation (SHA-256 {got}, manifest says {want})"),
                ));
            }
        }
        Ok(())
    }
}

enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// Every entry under `dir`, as `/`-joined paths relative to `root`, without following symlinks.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Kind)>) -> Result<()> {
    let io = |path: &Path, source| Error::Io {
        action: "list bundle directory",
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| io(dir, e))?;
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let ft = meta.file_type();
        if ft.is_symlink() {
            out.push((rel, Kind::Symlink));
        } else if ft.is_dir() {
            out.push((rel, Kind::Dir));
            walk(root, &path, out)?;
        } else if ft.is_file() {
            out.push((rel, Kind::File));
        } else {
            out.push((rel, Kind::Other));
        }
    }
    Ok(())
}

fn parse_crc(s: &str) -> std::result::Result<u32, String> {
    let ok = s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(format!("must be 8 lowercase hex digits, found {s:?}"));
    }
    u32::from_str_radix(s, 16).map_err(|e| format!("{s:?}: {e}"))
}

fn parse_hash(s: &str) -> std::result::Result<u64, String> {
    let ok = s.len() == 16
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(format!("must be 16 lowercase hex digits, found {s:?}"));
    }
    u64::from_str_radix(s, 16).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn example() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            name: "jet70".into(),
            top: "jet70_top".into(),
            part: "xc7z020".into(),
            family: "7series".into(),
            pes: 4,
            network_hash: "9f86d081884c7d65".into(),
            regmap_version: regs::REGMAP_VERSION,
            act_bits: 16,
            tdata_bits: 32,
            gap_bits: 5,
            input: Port {
                size: 16,
                bits: 16,
                frac_bits: 10,
            },
            output: Port {
                size: 5,
                bits: 16,
                frac_bits: 9,
            },
            layers: vec![Layer {
                name: "fc1".into(),
                inputs: 16,
                outputs: 5,
                relu: false,
                in_frac: 10,
                out_frac: 9,
                nonzeros: 40,
                gap_bits: 5,
                entries: 42,
            }],
            weights: Weights {
                mode: "bitstream".into(),
                image: "weights/weights.bin".into(),
                crc32: "cbf43926".into(),
                geometry_hash: "0123456789abcdef".into(),
                weights_only: false,
                memories: vec![WeightMemory {
                    name: "entries".into(),
                    width: 8,
                    depth: 64,
                }],
            },
            rtl_files: vec!["jet70_top.v".into()],
            memory_images: vec![],
            files: vec![
                FileEntry {
                    path: "rtl/jet70_top.v".into(),
                    sha256: sha256_hex(b"module jet70_top; endmodule\n"),
                },
                FileEntry {
                    path: "weights/weights.bin".into(),
                    sha256: sha256_hex(b""),
                },
            ],
        }
    }

    #[test]
    fn example_validates_and_derives() {
        let m = example();
        m.validate(Path::new("m.json")).unwrap();
        assert_eq!(m.network_hash_u64(), 0x9f86_d081_884c_7d65);
        assert_eq!(m.address_space(), 0x4000);
        assert_eq!(m.addr_bits(), 14);
        assert_eq!(m.geometry(), 4 | (1 << 8) | (16 << 16));
        assert_eq!(m.sizes(), 16 | (5 << 16));
        let back: Manifest = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bad_fields_are_named() {
        let check = |f: &dyn Fn(&mut Manifest), needle: &str| {
            let mut m = example();
            f(&mut m);
            let e = m.validate(Path::new("m.json")).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        };
        check(
            &|m| m.network_hash = "9F86D081884C7D65".into(),
            "network_hash",
        );
        check(&|m| m.format_version = 1, "format_version");
        check(&|m| m.tdata_bits = 48, "tdata_bits");
        check(&|m| m.gap_bits = 2, "gap_bits");
        check(&|m| m.gap_bits = 9, "gap_bits");
        check(&|m| m.layers[0].gap_bits = 6, "layers[0].gap_bits");
        check(&|m| m.layers[0].entries = 39, "layers[0].entries");
        check(&|m| m.top = "x; initial".into(), "top");
        check(&|m| m.top = "--help".into(), "top");
        check(&|m| m.pes = 0, "pes");
        check(&|m| m.input.bits = 8, "input.bits");
        check(&|m| m.files[0].path = "../../x.v".into(), "files[0].path");
        check(&|m| m.files[0].path = "/etc/passwd".into(), "files[0].path");
        check(&|m| m.rtl_files[0] = "../../x.v".into(), "rtl_files[0]");
        check(&|m| m.rtl_files.push("other.v".into()), "not listed");
        check(&|m| m.files.push(m.files[0].clone()), "twice");
        check(&|m| m.weights.mode = "flash".into(), "weights.mode");
        check(&|m| m.weights.crc32 = "CBF43926".into(), "weights.crc32");
        check(
            &|m| m.weights.image = "weights/other.bin".into(),
            "not listed",
        );
        check(
            &|m| m.weights.geometry_hash = "12".into(),
            "weights.geometry_hash",
        );
        check(&|m| m.weights.weights_only = true, "runtime");
        check(
            &|m| {
                m.weights.mode = "runtime".into();
                m.weights.weights_only = true;
            },
            "no rtl_files",
        );
        check(&|m| m.weights.memories[0].name = "ram".into(), "one of");
        check(&|m| m.weights.memories[0].width = 129, "1..=128");
        check(&|m| m.weights.memories[0].depth = 0, "depth 0");
        check(
            &|m| m.weights.memories.push(m.weights.memories[0].clone()),
            "twice",
        );
        check(
            &|m| {
                m.weights.mode = "runtime".into();
                m.weights.memories.clear();
            },
            "shapes",
        );
    }

    #[test]
    fn rtl_hash_follows_the_weights_mode() {
        let mut m = example();
        assert_eq!(m.rtl_hash_u64(), 0x9f86_d081_884c_7d65);
        assert_eq!(m.weights_crc32(), 0xcbf4_3926);
        m.weights.mode = "runtime".into();
        assert_eq!(m.rtl_hash_u64(), 0x0123_4567_89ab_cdef);
        let s = m.weight_shape(crate::weights::Mem::Entries).unwrap();
        assert_eq!((s.width, s.depth), (8, 64));
        assert_eq!(m.weight_shape(crate::weights::Mem::Bias), None);
    }

    #[test]
    fn missing_and_unknown_fields_are_errors() {
        let mut v: serde_json::Value = serde_json::from_str(&example().to_json()).unwrap();
        v.as_object_mut().unwrap().remove("pes");
        assert!(serde_json::from_value::<Manifest>(v.clone()).is_err());
        v["pes"] = 4.into();
        v["registers"] = serde_json::json!({});
        assert!(serde_json::from_value::<Manifest>(v).is_err());
    }

    /// A version 2 manifest (no `tdata_bits`) and a version 3 one (no `gap_bits`: EIE's fixed
    /// 4-bit gap) are refused as another version, not as a missing field.
    #[test]
    fn older_format_says_regenerate() {
        for (version, field) in [(2, "tdata_bits"), (3, "gap_bits")] {
            let dir = tempfile::tempdir().unwrap();
            let mut v: serde_json::Value = serde_json::from_str(&example().to_json()).unwrap();
            v.as_object_mut().unwrap().remove(field);
            v["format_version"] = version.into();
            std::fs::write(dir.path().join(MANIFEST_FILE), v.to_string()).unwrap();
            let e = Manifest::load(dir.path()).unwrap_err().to_string();
            assert!(
                e.contains("format_version") && e.contains("regenerate"),
                "{e}"
            );
        }
    }

    #[test]
    fn rel_paths() {
        for ok in ["rtl/a.v", "tb/x_tb.v", "plan.json", "a-b_c.d"] {
            check_rel_path(ok).unwrap();
        }
        for bad in [
            "", "/abs", "../x", "rtl/../x", "rtl//x", "./x", ".hidden", "-rf", "a b", "a;b",
            "rtl\\x", "x\n",
        ] {
            assert!(check_rel_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn integrity_missing_modified_extra_symlink() {
        let dir = std::env::temp_dir().join(format!("bramble-abi-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("rtl")).unwrap();
        let m = example();
        std::fs::write(dir.join(MANIFEST_FILE), m.to_json()).unwrap();
        let top = dir.join("rtl/jet70_top.v");
        std::fs::write(&top, b"module jet70_top; endmodule\n").unwrap();
        std::fs::create_dir_all(dir.join("weights")).unwrap();
        std::fs::write(dir.join("weights/weights.bin"), b"").unwrap();
        m.check_files(&dir).unwrap();

        std::fs::write(&top, b"module jet70_top; endmodule \n").unwrap();
        let e = m.check_files(&dir).unwrap_err().to_string();
        assert!(
            e.contains("rtl/jet70_top.v") && e.contains("modified"),
            "{e}"
        );

        std::fs::remove_file(&top).unwrap();
        let e = m.check_files(&dir).unwrap_err().to_string();
        assert!(
            e.contains("rtl/jet70_top.v") && e.contains("missing"),
            "{e}"
        );

        std::fs::write(&top, b"module jet70_top; endmodule\n").unwrap();
        std::fs::write(dir.join("rtl/extra.v"), b"").unwrap();
        let e = m.check_files(&dir).unwrap_err().to_string();
        assert!(e.contains("rtl/extra.v") && e.contains("extra"), "{e}");
        std::fs::remove_file(dir.join("rtl/extra.v")).unwrap();

        std::os::unix::fs::symlink("/etc", dir.join("rtl/out")).unwrap();
        let e = m.check_files(&dir).unwrap_err().to_string();
        assert!(e.contains("rtl/out") && e.contains("symbolic link"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
