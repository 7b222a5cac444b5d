//! The weight image: what a run-time-weights engine loads over its AXI4-Stream input while
//! WCTRL.LOAD is set (docs/bundle.md "Weight loading"), and the CRC the WHASH register reports.
//!
//! An image is a sequence of little-endian 32-bit words made of records:
//!
//! | word | meaning |
//! | --- | --- |
//! | header | `[7:0]` memory ([`Mem`]), `[15:8]` PE (0 for the engine-wide layer table), `[31:16]` 0 |
//! | address | first memory word written |
//! | count | memory words that follow (at least 1) |
//! | data | `count * ceil(width / 32)` words: each memory word in 32-bit chunks, low chunk first, bits above the memory's width 0 |
//!
//! Two records have no address, count or data: NOP (header 0) is skipped, and END
//! (`[7:0] = 0xFF`) is followed by one word, the CRC-32 ([`crc32`]) of every word before the END
//! header. An image ends with exactly one END; NOPs pad it to a whole number of TDATA beats
//! before the END record. Memory widths and depths come from the design (the plan); the engine
//! sets WSTATUS.ERROR on a record it cannot apply.

use std::fmt;

/// Bits of an image word.
pub const WORD_BITS: u32 = 32;
/// The NOP header.
pub const NOP: u32 = 0;
/// Memory code of the END record.
pub const END: u32 = 0xFF;

/// Widest memory word a record carries (the layer descriptors).
pub const MAX_WIDTH: u32 = 128;
/// The reflected IEEE 802.3 polynomial of [`crc32`]; the engine's loader folds one word per clock
/// with it (LSB first, as the little-endian bytes).
pub const CRC32_POLY: u32 = 0xEDB8_8320;

/// A memory the loader can write. The code is the header's `[7:0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mem {
    /// A PE's stored entries (per PE).
    Entries = 1,
    /// A PE's column pointers, even columns (per PE).
    PtrEven = 2,
    /// A PE's column pointers, odd columns (per PE).
    PtrOdd = 3,
    /// A PE's biases, as the bias memory image holds them (per PE).
    Bias = 4,
    /// A PE's codebook copy (per PE).
    Codebook = 5,
    /// The layer descriptors (engine-wide: PE field 0).
    Layers = 6,
}

impl Mem {
    pub const ALL: [Mem; 6] = [
        Mem::Entries,
        Mem::PtrEven,
        Mem::PtrOdd,
        Mem::Bias,
        Mem::Codebook,
        Mem::Layers,
    ];

    pub fn code(self) -> u32 {
        self as u32
    }

    pub fn from_code(code: u32) -> Option<Mem> {
        Mem::ALL.into_iter().find(|m| m.code() == code)
    }

    /// The name used in the plan and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Mem::Entries => "entries",
            Mem::PtrEven => "ptr_even",
            Mem::PtrOdd => "ptr_odd",
            Mem::Bias => "bias",
            Mem::Codebook => "codebook",
            Mem::Layers => "layers",
        }
    }

    /// False for the engine-wide layer table.
    pub fn per_pe(self) -> bool {
        self != Mem::Layers
    }
}

/// Bits of a memory code on the engine's write bus (the header keeps 8).
pub fn mem_code_bits() -> u32 {
    32 - Mem::ALL
        .iter()
        .map(|m| m.code())
        .max()
        .unwrap_or(1)
        .leading_zeros()
}

/// The header word of a record.
pub fn header(mem: Mem, pe: u32) -> u32 {
    mem.code() | (pe & 0xFF) << 8
}

/// Image words per memory word of `width` bits.
pub fn chunks(width: u32) -> usize {
    width.div_ceil(WORD_BITS) as usize
}

/// CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, initial value and final XOR
/// 0xFFFFFFFF) of `words` taken as little-endian bytes.
pub fn crc32(words: &[u32]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for w in words {
        h.update(&w.to_le_bytes());
    }
    h.finalize()
}

/// The shape of one memory as the design has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub width: u32,
    pub depth: u64,
}

/// One record to write: `words` (each at most 128 bits) from `addr` of `mem` in PE `pe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub mem: Mem,
    pub pe: u32,
    pub addr: u64,
    pub words: Vec<u128>,
}

/// Why an image cannot be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError(pub String);

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImageError {}

/// A complete image: its words (ending with END and the CRC) and the CRC WHASH reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub words: Vec<u32>,
    pub crc: u32,
}

impl Image {
    /// Builds the image of `records` for a design whose memories have `shape(mem)` and `pes`
    /// PEs, padded for `tdata_bits`-bit beats. Every record is checked against the shapes.
    pub fn build(
        records: &[Record],
        pes: u32,
        tdata_bits: u32,
        shape: &dyn Fn(Mem) -> Option<Shape>,
    ) -> Result<Image, ImageError> {
        let mut words = Vec::new();
        for r in records {
            check_record(r.mem.code(), r.pe, r.addr, r.words.len() as u64, pes, shape)?;
            let width = shape(r.mem).expect("checked").width;
            words.push(header(r.mem, r.pe));
            words.push(r.addr as u32);
            words.push(r.words.len() as u32);
            for &w in &r.words {
                if width < 128 && w >> width != 0 {
                    return Err(ImageError(format!(
                        "{} word {w:#x} of PE {} is wider than the memory's {width} bits",
                        r.mem.name(),
                        r.pe
                    )));
                }
                for c in 0..chunks(width) {
                    words.push((w >> (32 * c)) as u32);
                }
            }
        }
        let per_beat = (tdata_bits / WORD_BITS).max(1) as usize;
        while (words.len() + 2) % per_beat != 0 {
            words.push(NOP);
        }
        let crc = crc32(&words);
        words.push(END);
        words.push(crc);
        Ok(Image { words, crc })
    }

    /// The image as bytes (the bundle's image file and what the DMA sends).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Reads and checks an image file's bytes against the design: whole words, every record
    /// applicable, exactly one END at the end with a matching CRC. Returns the image and its
    /// records.
    pub fn parse(
        bytes: &[u8],
        pes: u32,
        shape: &dyn Fn(Mem) -> Option<Shape>,
    ) -> Result<(Image, Vec<Record>), ImageError> {
        if bytes.len() % 4 != 0 {
            return Err(ImageError(format!(
                "{} bytes is not a whole number of 32-bit words",
                bytes.len()
            )));
        }
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut records = Vec::new();
        let mut i = 0usize;
        let at = |i: usize| -> Result<u32, ImageError> {
            words.get(i).copied().ok_or_else(|| {
                ImageError(format!(
                    "the image ends inside a record (word {i} of {})",
                    words.len()
                ))
            })
        };
        loop {
            let h = at(i)?;
            if h == NOP {
                i += 1;
                continue;
            }
            if h >> 16 != 0 {
                return Err(ImageError(format!(
                    "word {i}: header {h:#010x} has nonzero bits [31:16]"
                )));
            }
            if h & 0xFF == END {
                let want = at(i + 1)?;
                let got = crc32(&words[..i]);
                if want != got {
                    return Err(ImageError(format!(
                        "END at word {i}: CRC {want:#010x} recorded, {got:#010x} computed"
                    )));
                }
                if i + 2 != words.len() {
                    return Err(ImageError(format!(
                        "{} words follow the END record",
                        words.len() - i - 2
                    )));
                }
                return Ok((Image { words, crc: got }, records));
            }
            let (code, pe) = (h & 0xFF, (h >> 8) & 0xFF);
            let (addr, count) = (at(i + 1)? as u64, at(i + 2)? as u64);
            check_record(code, pe, addr, count, pes, shape)?;
            let mem = Mem::from_code(code).expect("checked");
            let c = chunks(shape(mem).expect("checked").width);
            let data = i + 3;
            let end = data as u64 + count * c as u64;
            if end > words.len() as u64 {
                return Err(ImageError(format!(
                    "word {i}: {} record of {count} words runs past the image's end",
                    mem.name()
                )));
            }
            let values = words[data..end as usize]
                .chunks(c)
                .map(|ch| {
                    ch.iter()
                        .enumerate()
                        .fold(0u128, |v, (k, &w)| v | (w as u128) << (32 * k))
                })
                .collect();
            records.push(Record {
                mem,
                pe,
                addr,
                words: values,
            });
            i = end as usize;
        }
    }
}

fn check_record(
    code: u32,
    pe: u32,
    addr: u64,
    count: u64,
    pes: u32,
    shape: &dyn Fn(Mem) -> Option<Shape>,
) -> Result<(), ImageError> {
    let mem = Mem::from_code(code)
        .ok_or_else(|| ImageError(format!("memory code {code} is not a weight memory")))?;
    let s = shape(mem)
        .ok_or_else(|| ImageError(format!("the design has no {} memory to load", mem.name())))?;
    let pe_ok = if mem.per_pe() { pe < pes } else { pe == 0 };
    if !pe_ok {
        return Err(ImageError(format!(
            "{} record names PE {pe}; the design has {pes} PEs{}",
            mem.name(),
            if mem.per_pe() {
                ""
            } else {
                " and this memory is engine-wide (PE 0)"
            }
        )));
    }
    if count == 0 || addr + count > s.depth || addr + count > u32::MAX as u64 {
        return Err(ImageError(format!(
            "{} record of PE {pe}: words {addr}..{} do not fit the memory's depth {} (and a record has at least one word)",
            mem.name(),
            addr + count,
            s.depth
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(m: Mem) -> Option<Shape> {
        match m {
            Mem::Entries => Some(Shape {
                width: 9,
                depth: 100,
            }),
            Mem::Bias => Some(Shape {
                width: 40,
                depth: 10,
            }),
            Mem::Layers => Some(Shape {
                width: 128,
                depth: 2,
            }),
            _ => None,
        }
    }

    #[test]
    fn crc_is_ieee() {
        // "123456789" is the standard check string; 0xCBF43926 its CRC-32.
        let mut h = crc32fast::Hasher::new();
        h.update(b"123456789");
        assert_eq!(h.finalize(), 0xCBF4_3926);
        assert_eq!(crc32(&[0x3433_3231]), crc32fast::hash(b"1234"));
    }

    /// The word-at-a-time CRC the engine computes (hw/bramble_wload.v) is the byte-wise one.
    #[test]
    fn word_crc_matches() {
        let words = [0x0102_0304u32, 0, 0xFFFF_FFFF, 0xDEAD_BEEF, 0x5];
        let mut c = 0xFFFF_FFFFu32;
        for &w in &words {
            c ^= w;
            for _ in 0..32 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ CRC32_POLY
                } else {
                    c >> 1
                };
            }
        }
        assert_eq!(!c, crc32(&words));
        assert_eq!(mem_code_bits(), 3);
    }

    #[test]
    fn build_then_parse_round_trips() {
        let records = vec![
            Record {
                mem: Mem::Entries,
                pe: 1,
                addr: 3,
                words: vec![0x1FF, 0x5],
            },
            Record {
                mem: Mem::Bias,
                pe: 0,
                addr: 0,
                words: vec![0xAB_1234_5678],
            },
            Record {
                mem: Mem::Layers,
                pe: 0,
                addr: 1,
                words: vec![u128::MAX],
            },
        ];
        for tdata in [32, 64] {
            let img = Image::build(&records, 2, tdata, &shape).unwrap();
            assert_eq!(img.words.len() % (tdata as usize / 32), 0);
            assert_eq!(img.words[img.words.len() - 2], END);
            assert_eq!(*img.words.last().unwrap(), img.crc);
            assert_eq!(img.words[..5], [header(Mem::Entries, 1), 3, 2, 0x1FF, 5]);
            let (back, recs) = Image::parse(&img.to_bytes(), 2, &shape).unwrap();
            assert_eq!(back, img);
            assert_eq!(recs, records);
        }
    }

    #[test]
    fn refuses_what_the_engine_would_refuse() {
        let rec = |mem, pe, addr, n| Record {
            mem,
            pe,
            addr,
            words: vec![0; n],
        };
        for (r, why) in [
            (rec(Mem::Entries, 2, 0, 1), "PE 2"),
            (rec(Mem::Entries, 0, 99, 2), "depth 100"),
            (rec(Mem::Entries, 0, 0, 0), "at least one"),
            (rec(Mem::PtrEven, 0, 0, 1), "no ptr_even"),
            (rec(Mem::Layers, 1, 0, 1), "engine-wide"),
        ] {
            let e = Image::build(&[r], 2, 32, &shape).unwrap_err();
            assert!(e.0.contains(why), "{e}");
        }
        let wide = Record {
            mem: Mem::Entries,
            pe: 0,
            addr: 0,
            words: vec![0x200],
        };
        assert!(Image::build(&[wide], 2, 32, &shape).is_err());
        // Edited images: a flipped bit, a truncated file, trailing words.
        let img = Image::build(&[rec(Mem::Entries, 0, 0, 3)], 2, 32, &shape).unwrap();
        let mut b = img.to_bytes();
        b[14] ^= 1;
        assert!(Image::parse(&b, 2, &shape).unwrap_err().0.contains("CRC"));
        let b = img.to_bytes();
        assert!(Image::parse(&b[..b.len() - 4], 2, &shape).is_err());
        assert!(Image::parse(&b[..b.len() - 1], 2, &shape).is_err());
        let mut b = img.to_bytes();
        b.extend([0; 4]);
        assert!(Image::parse(&b, 2, &shape)
            .unwrap_err()
            .0
            .contains("follow"));
        // A count that lies about the data behind it.
        let mut w = img.words.clone();
        w[2] = 1_000_000;
        let b: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        assert!(Image::parse(&b, 2, &shape).is_err());
    }
}
