//! The bundle's weight image ([`bramble_abi::weights`]) built from the memory images, and the
//! geometry hash: what the RTL of a run-time-weights bundle depends on, none of the weights.

use bramble_abi::weights::{Image, Mem, Record, Shape};

use crate::generate::{Image as MemImage, Images};
use crate::plan::Geometry;

/// Path of the weight image inside a bundle.
pub const IMAGE_FILE: &str = "weights/weights.bin";

/// The shape of each loadable memory of the engine for `g` (as the loader and the RTL see it).
/// Entries are pair words ([`crate::plan::entry_words`] words of
/// [`crate::plan::entry_word_bits`] bits): pair m = entries 2m (low) and 2m+1, and pair
/// `w * P + j` in lane j of word w for P pairs per word (bramble_entry_ram).
pub fn shape(g: &Geometry, mem: Mem) -> Option<Shape> {
    let ptr_depth = (g.ptr_words / 2).max(1) as u64;
    let s = |width: u32, depth: usize| {
        Some(Shape {
            width,
            depth: depth as u64,
        })
    };
    match mem {
        Mem::Entries => s(crate::plan::entry_word_bits(g), crate::plan::entry_words(g)),
        Mem::PtrEven | Mem::PtrOdd => Some(Shape {
            width: g.ptr_bits,
            depth: ptr_depth,
        }),
        Mem::Bias => s(g.acc_bits, g.bias_depth),
        Mem::Codebook => s(g.cb_bits, g.cb_depth),
        Mem::Layers => s(bramble_abi::regs::layer_desc::WIDTH, g.num_layers()),
    }
}

/// The `weights.memories` of a manifest: every memory [`shape`] gives for `g`.
pub fn manifest_memories(g: &Geometry) -> Vec<bramble_abi::manifest::WeightMemory> {
    Mem::ALL
        .into_iter()
        .filter_map(|m| {
            shape(g, m).map(|s| bramble_abi::manifest::WeightMemory {
                name: m.name().into(),
                width: s.width,
                depth: s.depth,
            })
        })
        .collect()
}

fn unsigned(image: &MemImage) -> Vec<u128> {
    let mask = if image.width >= 128 {
        u128::MAX
    } else {
        (1u128 << image.width) - 1
    };
    image.words.iter().map(|&v| (v as u128) & mask).collect()
}

/// The entry image as the pair words of [`shape`]: `pairs` pairs of `entry_bits` entries per
/// word, `words` words (zero-padded).
pub fn entry_words(entries: &MemImage, pairs: usize, words: usize) -> Vec<u128> {
    let bits = entries.width;
    let e = unsigned(entries);
    let mut out = vec![0u128; words];
    for (i, &v) in e.iter().enumerate() {
        if v != 0 {
            out[i / (2 * pairs)] |= v << (bits as usize * (i % (2 * pairs)));
        }
    }
    out
}

/// The records that load every memory image of `images` into an engine of geometry `g`: per PE
/// its entries (as pair words), pointer banks, bias and codebook copy, then the layer
/// descriptors.
pub fn records(g: &Geometry, images: &Images) -> Vec<Record> {
    let mut out = Vec::new();
    let (pairs, words) = (
        crate::plan::entry_pairs_per_word(g),
        crate::plan::entry_words(g),
    );
    for (k, pe) in images.pes.iter().enumerate() {
        out.push(Record {
            mem: Mem::Entries,
            pe: k as u32,
            addr: 0,
            words: entry_words(&pe.entries, pairs, words),
        });
        for (mem, image) in [
            (Mem::PtrEven, &pe.ptr_even),
            (Mem::PtrOdd, &pe.ptr_odd),
            (Mem::Bias, &pe.bias),
            (Mem::Codebook, &images.codebook),
        ] {
            out.push(Record {
                mem,
                pe: k as u32,
                addr: 0,
                words: unsigned(image),
            });
        }
    }
    out.push(Record {
        mem: Mem::Layers,
        pe: 0,
        addr: 0,
        words: unsigned(&images.layers),
    });
    out
}

/// The weight image of `images` for an engine of geometry `g` with `tdata_bits` streams.
pub fn image(g: &Geometry, images: &Images, tdata_bits: u32) -> Image {
    Image::build(&records(g, images), g.pes as u32, tdata_bits, &|m| {
        shape(g, m)
    })
    .expect("internal error: the memory images do not fit their own memories")
}

/// The canonical text of everything the RTL depends on besides the weight values: hashed into
/// the geometry hash.
pub fn geometry_text(g: &Geometry, part: &str, tdata_bits: u32) -> String {
    let mut s = format!(
        "bramble-geometry 1\npart {part}\ntdata_bits {tdata_bits}\npes {}\nact_bits {}\nidx_bits {}\ncb_bits {}\nacc_bits {}\nentry_bits {}\nentry_depth {}\nptr_words {}\nptr_bits {}\nbias_depth {}\nacc_depth {}\ncb_depth {}\nin_bank_depth {}\nmid_buf_depth {}\nout_bank_depth {}\n",
        g.pes,
        g.act_bits,
        g.idx_bits,
        g.cb_bits,
        g.acc_bits,
        g.entry_bits,
        g.entry_depth,
        g.ptr_words,
        g.ptr_bits,
        g.bias_depth,
        g.acc_depth,
        g.cb_depth,
        g.in_bank_depth,
        g.mid_buf_depth,
        g.out_bank_depth,
    );
    for d in &g.layers {
        s.push_str(&format!(
            "layer in {} out {} ptr_base {} bias_base {} pe_rows {}\n",
            d.in_size, d.out_size, d.ptr_base, d.bias_base, d.pe_rows
        ));
    }
    s
}

/// First 8 bytes of the SHA-256 of [`geometry_text`], as 16 lowercase hex digits.
pub fn geometry_hash(g: &Geometry, part: &str, tdata_bits: u32) -> String {
    bramble_abi::manifest::sha256_hex(geometry_text(g, part, tdata_bits).as_bytes())[..16]
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries become pair words: entry 2m in the low half, 2m+1 above it, `pairs` per word.
    #[test]
    fn entries_pack_into_pair_words() {
        let img = MemImage {
            file: "pe0_entries.mem".into(),
            width: 8,
            words: vec![0x11, 0x22, 0x33, 0x44, 0x55],
        };
        assert_eq!(entry_words(&img, 1, 3), vec![0x2211, 0x4433, 0x55]);
        assert_eq!(entry_words(&img, 2, 2), vec![0x4433_2211, 0x55]);
        let neg = MemImage {
            file: "x".into(),
            width: 9,
            words: vec![-1, 1],
        };
        assert_eq!(entry_words(&neg, 4, 1), vec![0x1FF | 1 << 9]);
    }
}
