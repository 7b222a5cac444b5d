//! Xilinx `.bit` files: header parsing (design, part, date, time, data length), the part check
//! against the bundle, and the byte-swapped `.bin` form that Zynq's fpga_manager loads.
//!
//! Layout: a 2-byte big-endian length (9) and 9 bytes `0F F0 0F F0 0F F0 0F F0 00`, then `00 01`,
//! then keyed fields: `a` design, `b` part, `c` date, `d` time (each a 2-byte big-endian length and
//! a NUL-terminated string), then `e` with a 4-byte big-endian length and the configuration data.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const FIELD1: [u8; 9] = [0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x00];

/// A parsed `.bit` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstream {
    /// Field `a` up to the first `;` (e.g. `design_1_wrapper`).
    pub design: String,
    /// Field `a` after the first `;` (e.g. `UserID=0XFFFFFFFF;Version=2022.2`), if any.
    pub design_attributes: String,
    /// Field `b` (e.g. `7z020clg400`).
    pub part: String,
    /// Field `c` (e.g. `2026/11/27`).
    pub date: String,
    /// Field `d` (e.g. `16:20:00`).
    pub time: String,
    /// Field `e`: the configuration data.
    pub data: Vec<u8>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::Bitstream {
                path: self.path.to_path_buf(),
                reason: format!(
                    "truncated: {what} needs {n} bytes at offset {}, file has {}",
                    self.pos,
                    self.bytes.len()
                ),
            }),
        }
    }
    fn u16(&mut self, what: &str) -> Result<usize> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]) as usize)
    }
    fn string_field(&mut self, key: u8, name: &str) -> Result<String> {
        let k = self.take(1, name)?[0];
        if k != key {
            return Err(Error::Bitstream {
                path: self.path.to_path_buf(),
                reason: format!(
                    "expected field '{}' ({name}) at offset {}, found byte {k:#04x}",
                    key as char,
                    self.pos - 1
                ),
            });
        }
        let len = self.u16(name)?;
        let raw = self.take(len, name)?;
        let text = raw.strip_suffix(&[0]).unwrap_or(raw);
        Ok(String::from_utf8_lossy(text).into_owned())
    }
}

impl Bitstream {
    /// Reads and parses a `.bit` file.
    pub fn read(path: impl AsRef<Path>) -> Result<Bitstream> {
        let path = path.as_ref();
        // An unreadable `.bit` is a bitstream problem (exit code 6), whatever the I/O error.
        let bytes = std::fs::read(path).map_err(|e| Error::Bitstream {
            path: path.to_path_buf(),
            reason: format!("cannot read: {e}"),
        })?;
        Bitstream::parse(&bytes, path)
    }

    /// Parses `.bit` bytes; `path` only names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Bitstream> {
        let mut r = Reader {
            bytes,
            pos: 0,
            path,
        };
        let bad = |reason: String| Error::Bitstream {
            path: path.to_path_buf(),
            reason,
        };
        let n = r.u16("header length")?;
        let field1 = r.take(n, "header magic")?;
        if n != FIELD1.len() || field1 != FIELD1 {
            return Err(bad(format!(
                "not a Xilinx .bit file (header magic is {field1:02x?}, expected {FIELD1:02x?})"
            )));
        }
        let one = r.u16("header")?;
        if one != 1 {
            return Err(bad(format!(
                "expected 0x0001 after the magic, found {one:#06x}"
            )));
        }
        let a = r.string_field(b'a', "design name")?;
        let part = r.string_field(b'b', "part")?;
        let date = r.string_field(b'c', "date")?;
        let time = r.string_field(b'd', "time")?;
        let k = r.take(1, "data field")?[0];
        if k != b'e' {
            return Err(bad(format!(
                "expected field 'e' (data), found byte {k:#04x}"
            )));
        }
        let len_b = r.take(4, "data length")?;
        let len = u32::from_be_bytes([len_b[0], len_b[1], len_b[2], len_b[3]]) as usize;
        let data = r.take(len, "configuration data")?.to_vec();
        let (design, design_attributes) = match a.split_once(';') {
            Some((d, rest)) => (d.to_string(), rest.to_string()),
            None => (a, String::new()),
        };
        Ok(Bitstream {
            design,
            design_attributes,
            part,
            date,
            time,
            data,
        })
    }

    /// The `.bin` form fpga_manager loads on Zynq: the configuration data with every 32-bit word
    /// byte-swapped (what `bootgen -process_bitstream bin` writes).
    pub fn to_bin(&self, path: &Path) -> Result<Vec<u8>> {
        if self.data.len() % 4 != 0 {
            return Err(Error::Bitstream {
                path: path.to_path_buf(),
                reason: format!(
                    "configuration data is {} bytes, not a whole number of 32-bit words",
                    self.data.len()
                ),
            });
        }
        Ok(self
            .data
            .chunks_exact(4)
            .flat_map(|w| [w[3], w[2], w[1], w[0]])
            .collect())
    }

    /// Refuses a bitstream whose part does not match the bundle's (see [`parts_match`]).
    pub fn check_part(&self, manifest_part: &str, path: &Path) -> Result<()> {
        if parts_match(&self.part, manifest_part) {
            Ok(())
        } else {
            Err(Error::PartMismatch {
                path: PathBuf::from(path),
                expected: manifest_part.to_string(),
                found: self.part.clone(),
                rule: PART_RULE,
            })
        }
    }
}

/// The rule [`parts_match`] applies, quoted in mismatch errors.
pub const PART_RULE: &str = "parts are compared lowercased, without a leading xc/xa/xq and \
    without anything from the first '-' (speed grade, temperature); one must be a prefix of the \
    other, so xc7z020 matches 7z020clg400";

fn normalize_part(p: &str) -> String {
    let p = p.trim().to_ascii_lowercase();
    let p = p.split('-').next().unwrap_or("");
    let p = ["xqr", "xc", "xa", "xq"]
        .iter()
        .find_map(|pre| p.strip_prefix(pre))
        .unwrap_or(p);
    p.to_string()
}

/// True when a `.bit` header part and a manifest part name the same device: see [`PART_RULE`].
pub fn parts_match(header_part: &str, manifest_part: &str) -> bool {
    let h = normalize_part(header_part);
    let m = normalize_part(manifest_part);
    // Both must at least name a device (family + size): a bare "7" or "" never matches.
    h.len() >= 4 && m.len() >= 4 && (h.starts_with(&m) || m.starts_with(&h))
}

/// Builds `.bit` bytes with the given header fields (for tests and for tools that wrap data).
pub fn build(design: &str, part: &str, date: &str, time: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(FIELD1.len() as u16).to_be_bytes());
    out.extend_from_slice(&FIELD1);
    out.extend_from_slice(&1u16.to_be_bytes());
    for (key, text) in [(b'a', design), (b'b', part), (b'c', date), (b'd', time)] {
        out.push(key);
        out.extend_from_slice(&((text.len() + 1) as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
        out.push(0);
    }
    out.push(b'e');
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_rule() {
        assert!(parts_match("7z020clg400", "xc7z020"));
        assert!(parts_match("7z020clg400", "xc7z020clg400-1"));
        assert!(parts_match("xczu3eg-sbva484-1-e", "xczu3eg"));
        assert!(parts_match("7a35tcpg236", "XC7A35T"));
        assert!(!parts_match("7z010clg400", "xc7z020"));
        assert!(!parts_match("7z020clg484", "xc7z020clg400"));
        assert!(!parts_match("xczu9eg-ffvb1156-2-e", "xczu3eg"));
        assert!(!parts_match("", "xc7z020"));
        assert!(!parts_match("7", "xc7z020"));
    }
}
