//! The bundle's `manifest.json` (docs/bundle.md): the raw serde shape, then a validated [`Bundle`]
//! that everything downstream uses (the raw struct is never trusted on its own).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `manifest.json` exactly as docs/bundle.md writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub name: String,
    pub top: String,
    pub part: String,
    pub family: String,
    pub pes: u32,
    /// 16 lowercase hex digits (see docs/bundle.md).
    pub network_hash: String,
    pub magic: u32,
    pub version: u32,
    pub act_bits: u32,
    pub input: Port,
    pub output: Port,
    pub layers: Vec<Layer>,
    pub registers: Registers,
    pub window_bytes: u64,
    pub in_base: u64,
    pub out_base: u64,
    pub addr_bits: u32,
    pub rtl_files: Vec<String>,
}

/// The input or output vector: its length and fixed-point format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Port {
    pub size: usize,
    pub frac_bits: u32,
}

/// One layer as listed in the manifest (informational for the host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    #[serde(rename = "in")]
    pub inputs: usize,
    #[serde(rename = "out")]
    pub outputs: usize,
    pub relu: bool,
    pub in_frac: u32,
    pub out_frac: u32,
}

/// Byte offsets of the registers in window 0 (docs/register-map.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registers {
    pub magic: u64,
    pub version: u64,
    pub hash_lo: u64,
    pub hash_hi: u64,
    pub geometry: u64,
    pub sizes: u64,
    pub in_base: u64,
    pub out_base: u64,
    pub control: u64,
    pub status: u64,
    pub cycles_lo: u64,
    pub cycles_hi: u64,
}

impl Registers {
    /// The offsets docs/register-map.md fixes.
    pub const STANDARD: Registers = Registers {
        magic: 0x00,
        version: 0x04,
        hash_lo: 0x08,
        hash_hi: 0x0C,
        geometry: 0x10,
        sizes: 0x14,
        in_base: 0x18,
        out_base: 0x1C,
        control: 0x20,
        status: 0x24,
        cycles_lo: 0x28,
        cycles_hi: 0x2C,
    };
}

/// `"BRMB"` as little-endian bytes.
pub const MAGIC: u32 = 0x424D_5242;
/// The register-map / bundle format version this crate speaks.
pub const FORMAT_VERSION: u32 = 1;
/// CONTROL bit 0.
pub const CONTROL_START: u32 = 1 << 0;
/// CONTROL bit 1.
pub const CONTROL_IRQ_ENABLE: u32 = 1 << 1;
/// STATUS bit 0 (sticky, W1C).
pub const STATUS_DONE: u32 = 1 << 0;
/// STATUS bit 1.
pub const STATUS_BUSY: u32 = 1 << 1;
/// STATUS bit 2 (W1C).
pub const STATUS_IRQ_PENDING: u32 = 1 << 2;

/// A bundle directory with a validated manifest.
/// Size of each register-map window for these input and output sizes
/// (docs/register-map.md): `max(0x1000, next_power_of_two(4 * max(in, out)))`. The AXI address
/// width is `log2(4 * window_bytes)`.
pub fn window_bytes(in_size: usize, out_size: usize) -> u64 {
    (4 * in_size.max(out_size) as u64)
        .next_power_of_two()
        .max(0x1000)
}

#[derive(Debug, Clone)]
pub struct Bundle {
    dir: PathBuf,
    manifest: Manifest,
    network_hash: u64,
}

impl Bundle {
    /// Loads and validates `DIR/manifest.json`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Bundle> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            action: "read bundle manifest",
            path: path.clone(),
            source,
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|source| Error::ManifestParse {
                path: path.clone(),
                source,
            })?;
        Bundle::from_manifest(dir, manifest)
    }

    /// Validates an in-memory manifest for the bundle at `dir` (used by `load` and by tests).
    pub fn from_manifest(dir: impl Into<PathBuf>, manifest: Manifest) -> Result<Bundle> {
        let dir = dir.into();
        let path = dir.join("manifest.json");
        let bad = |field: &str, reason: String| Error::ManifestField {
            path: path.clone(),
            field: field.to_string(),
            reason,
        };
        let m = &manifest;
        if m.format != "bramble-bundle" {
            return Err(bad(
                "format",
                format!("expected \"bramble-bundle\", found {:?}", m.format),
            ));
        }
        if m.format_version != FORMAT_VERSION {
            return Err(bad(
                "format_version",
                format!(
                    "this host speaks version {FORMAT_VERSION}, found {}",
                    m.format_version
                ),
            ));
        }
        if m.magic != MAGIC {
            return Err(bad(
                "magic",
                format!("expected {MAGIC:#010x}, found {:#010x}", m.magic),
            ));
        }
        if m.version != FORMAT_VERSION {
            return Err(bad(
                "version",
                format!(
                    "this host speaks register-map version {FORMAT_VERSION}, found {}",
                    m.version
                ),
            ));
        }
        let network_hash = parse_hash(&m.network_hash).map_err(|r| bad("network_hash", r))?;
        if !(1..=32).contains(&m.act_bits) {
            return Err(bad(
                "act_bits",
                format!("must be 1..=32, found {}", m.act_bits),
            ));
        }
        if m.pes == 0 || m.pes > 255 {
            return Err(bad(
                "pes",
                format!("must be 1..=255 (GEOMETRY[7:0]), found {}", m.pes),
            ));
        }
        if m.layers.len() > 255 {
            return Err(bad(
                "layers",
                format!("at most 255 (GEOMETRY[15:8]), found {}", m.layers.len()),
            ));
        }
        for (field, port) in [("input.size", m.input), ("output.size", m.output)] {
            if port.size == 0 || port.size > 0xFFFF {
                return Err(bad(
                    field,
                    format!("must be 1..=65535 (SIZES), found {}", port.size),
                ));
            }
        }
        let w = m.window_bytes;
        let needed = window_bytes(m.input.size, m.output.size);
        if w != needed {
            return Err(bad(
                "window_bytes",
                format!("must be max(0x1000, next_power_of_two(4 * max(in, out))) = {needed:#x}, found {w:#x}"),
            ));
        }
        if m.in_base != w {
            return Err(bad(
                "in_base",
                format!("must equal window_bytes {w:#x}, found {:#x}", m.in_base),
            ));
        }
        if m.out_base != 2 * w {
            return Err(bad(
                "out_base",
                format!(
                    "must equal 2 * window_bytes = {:#x}, found {:#x}",
                    2 * w,
                    m.out_base
                ),
            ));
        }
        let addr_bits = (4 * w).trailing_zeros();
        if m.addr_bits != addr_bits {
            return Err(bad(
                "addr_bits",
                format!(
                    "must be log2(4 * window_bytes) = {addr_bits}, found {}",
                    m.addr_bits
                ),
            ));
        }
        let regs = [
            ("registers.magic", m.registers.magic),
            ("registers.version", m.registers.version),
            ("registers.hash_lo", m.registers.hash_lo),
            ("registers.hash_hi", m.registers.hash_hi),
            ("registers.geometry", m.registers.geometry),
            ("registers.sizes", m.registers.sizes),
            ("registers.in_base", m.registers.in_base),
            ("registers.out_base", m.registers.out_base),
            ("registers.control", m.registers.control),
            ("registers.status", m.registers.status),
            ("registers.cycles_lo", m.registers.cycles_lo),
            ("registers.cycles_hi", m.registers.cycles_hi),
        ];
        for (field, off) in regs {
            if off % 4 != 0 || off >= w {
                return Err(bad(
                    field,
                    format!("must be a word offset inside window 0 (< {w:#x}), found {off:#x}"),
                ));
            }
        }
        if m.top.is_empty() {
            return Err(bad("top", "must name the top-level module".into()));
        }
        Ok(Bundle {
            dir,
            manifest,
            network_hash,
        })
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bundle's `rtl/` directory.
    pub fn rtl_dir(&self) -> PathBuf {
        self.dir.join("rtl")
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// `network_hash` as the 64-bit number HASH_HI:HASH_LO holds.
    pub fn network_hash(&self) -> u64 {
        self.network_hash
    }

    /// Size in bytes of the accelerator's address space (four windows).
    pub fn address_space(&self) -> u64 {
        4 * self.manifest.window_bytes
    }

    /// The GEOMETRY register value the device must report.
    pub fn expected_geometry(&self) -> u32 {
        let m = &self.manifest;
        (m.pes & 0xFF) | ((m.layers.len() as u32 & 0xFF) << 8) | ((m.act_bits & 0xFF) << 16)
    }

    /// The SIZES register value the device must report.
    pub fn expected_sizes(&self) -> u32 {
        let m = &self.manifest;
        (m.input.size as u32 & 0xFFFF) | ((m.output.size as u32 & 0xFFFF) << 16)
    }
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
        serde_json::from_str(include_str!("../tests/fixtures/manifest_example.json")).unwrap()
    }

    #[test]
    fn doc_example_validates() {
        let b = Bundle::from_manifest("/x", example()).unwrap();
        assert_eq!(b.network_hash(), 0x9f86_d081_884c_7d65);
        assert_eq!(b.address_space(), 0x4000);
        assert_eq!(b.expected_geometry(), 4 | (1 << 8) | (16 << 16));
        assert_eq!(b.expected_sizes(), 16 | (5 << 16));
        assert_eq!(b.manifest().registers, Registers::STANDARD);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut m = example();
        m.network_hash = "9F86D081884C7D65".into();
        let e = Bundle::from_manifest("/x", m).unwrap_err().to_string();
        assert!(e.contains("network_hash") && e.contains("lowercase"), "{e}");

        let mut m = example();
        m.window_bytes = 0x2000;
        let e = Bundle::from_manifest("/x", m).unwrap_err().to_string();
        assert!(e.contains("window_bytes"), "{e}");

        let mut m = example();
        m.addr_bits = 13;
        let e = Bundle::from_manifest("/x", m).unwrap_err().to_string();
        assert!(e.contains("addr_bits") && e.contains("14"), "{e}");

        let mut m = example();
        m.registers.status = 0x26;
        let e = Bundle::from_manifest("/x", m).unwrap_err().to_string();
        assert!(e.contains("registers.status"), "{e}");

        let mut m = example();
        m.format_version = 2;
        let e = Bundle::from_manifest("/x", m).unwrap_err().to_string();
        assert!(e.contains("format_version"), "{e}");
    }

    #[test]
    fn window_grows_with_sizes() {
        let mut m = example();
        m.input.size = 2000;
        m.window_bytes = 0x2000;
        m.in_base = 0x2000;
        m.out_base = 0x4000;
        m.addr_bits = 15;
        Bundle::from_manifest("/x", m).unwrap();
    }
}
