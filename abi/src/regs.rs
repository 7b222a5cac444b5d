//! The register map (docs/register-map.md), the window rule and every bit layout shared by the
//! generator, the RTL and the host. The RTL reads the same numbers from the generated
//! `bramble_defs.vh` ([`crate::verilog`]); nothing here is repeated anywhere else.

/// `"BRMB"` as little-endian bytes: the MAGIC register.
pub const MAGIC: u32 = 0x424D_5242;
/// The register-map version the VERSION register reports and the host speaks.
/// Version 2: window words are laid out by bank ([`window_word`]) instead of by activation index.
/// Version 3: AXI4-Stream input and output with their control, status and counter registers
/// (0x030..0x05C); the window path is unchanged.
/// Version 4: the weight loader (0x060..0x06C: WCTRL, WSTATUS, WWORDS, WHASH; [`crate::weights`]).
pub const REGMAP_VERSION: u32 = 4;

/// One register of window 0: its name (as in docs/register-map.md) and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    pub name: &'static str,
    pub offset: u64,
}

pub const MAGIC_REG: Reg = Reg {
    name: "MAGIC",
    offset: 0x00,
};
pub const VERSION: Reg = Reg {
    name: "VERSION",
    offset: 0x04,
};
pub const HASH_LO: Reg = Reg {
    name: "HASH_LO",
    offset: 0x08,
};
pub const HASH_HI: Reg = Reg {
    name: "HASH_HI",
    offset: 0x0C,
};
pub const GEOMETRY: Reg = Reg {
    name: "GEOMETRY",
    offset: 0x10,
};
pub const SIZES: Reg = Reg {
    name: "SIZES",
    offset: 0x14,
};
pub const IN_BASE: Reg = Reg {
    name: "IN_BASE",
    offset: 0x18,
};
pub const OUT_BASE: Reg = Reg {
    name: "OUT_BASE",
    offset: 0x1C,
};
pub const CONTROL: Reg = Reg {
    name: "CONTROL",
    offset: 0x20,
};
pub const STATUS: Reg = Reg {
    name: "STATUS",
    offset: 0x24,
};
pub const CYCLES_LO: Reg = Reg {
    name: "CYCLES_LO",
    offset: 0x28,
};
pub const CYCLES_HI: Reg = Reg {
    name: "CYCLES_HI",
    offset: 0x2C,
};

/// STREAM (RO): the stream format, [`stream_format`].
pub const STREAM: Reg = Reg {
    name: "STREAM",
    offset: 0x30,
};
/// SCTRL (RW): stream control, `SCTRL_*` bits.
pub const SCTRL: Reg = Reg {
    name: "SCTRL",
    offset: 0x34,
};
/// TLAST_EVERY (RW, reset 1): TLAST on the last output beat of every K-th streamed vector.
pub const TLAST_EVERY: Reg = Reg {
    name: "TLAST_EVERY",
    offset: 0x38,
};
/// IRQ_COUNT (RW, reset 0): SSTATUS.COUNT (and the interrupt) when VECTORS reaches it; 0 = never.
pub const IRQ_COUNT: Reg = Reg {
    name: "IRQ_COUNT",
    offset: 0x3C,
};
/// VECTORS (RO): streamed vectors whose last output beat was accepted, since SCTRL.CLEAR.
pub const VECTORS: Reg = Reg {
    name: "VECTORS",
    offset: 0x40,
};
/// IN_BEATS (RO): input beats accepted since SCTRL.CLEAR.
pub const IN_BEATS: Reg = Reg {
    name: "IN_BEATS",
    offset: 0x44,
};
/// OUT_BEATS (RO): output beats accepted since SCTRL.CLEAR.
pub const OUT_BEATS: Reg = Reg {
    name: "OUT_BEATS",
    offset: 0x48,
};
/// SSTATUS (RO/W1C): stream status, `SSTATUS_*` bits.
pub const SSTATUS: Reg = Reg {
    name: "SSTATUS",
    offset: 0x4C,
};
/// BUSY_LO/HI (RO): clock cycles the engine computed (any vector) since SCTRL.CLEAR.
pub const BUSY_LO: Reg = Reg {
    name: "BUSY_LO",
    offset: 0x50,
};
pub const BUSY_HI: Reg = Reg {
    name: "BUSY_HI",
    offset: 0x54,
};
/// TOTAL_LO/HI (RO): clock cycles from the first input beat after SCTRL.CLEAR to the latest
/// output beat, both counted.
pub const TOTAL_LO: Reg = Reg {
    name: "TOTAL_LO",
    offset: 0x58,
};
pub const TOTAL_HI: Reg = Reg {
    name: "TOTAL_HI",
    offset: 0x5C,
};

/// WCTRL (RW): weight-loader control, `WCTRL_*` bits ([`crate::weights`]).
pub const WCTRL: Reg = Reg {
    name: "WCTRL",
    offset: 0x60,
};
/// WSTATUS (RO): weight-loader status, `WSTATUS_*` bits.
pub const WSTATUS: Reg = Reg {
    name: "WSTATUS",
    offset: 0x64,
};
/// WWORDS (RO): 32-bit image words the loader took since WCTRL.CLEAR.
pub const WWORDS: Reg = Reg {
    name: "WWORDS",
    offset: 0x68,
};
/// WHASH (RO): CRC-32 of the weights the engine holds ([`crate::weights::crc32`]): for weights
/// in the bitstream, the generated image's CRC as a constant; for weights loaded at run time,
/// the CRC of the last image whose END record checked (0 after reset, WCTRL.CLEAR, or while
/// WSTATUS.ERROR is set: an error, even a word after a good END, also clears LOADED).
pub const WHASH: Reg = Reg {
    name: "WHASH",
    offset: 0x6C,
};

/// Every register, in address order (the Verilog include and the docs table follow this).
pub const ALL: [Reg; 28] = [
    MAGIC_REG,
    VERSION,
    HASH_LO,
    HASH_HI,
    GEOMETRY,
    SIZES,
    IN_BASE,
    OUT_BASE,
    CONTROL,
    STATUS,
    CYCLES_LO,
    CYCLES_HI,
    STREAM,
    SCTRL,
    TLAST_EVERY,
    IRQ_COUNT,
    VECTORS,
    IN_BEATS,
    OUT_BEATS,
    SSTATUS,
    BUSY_LO,
    BUSY_HI,
    TOTAL_LO,
    TOTAL_HI,
    WCTRL,
    WSTATUS,
    WWORDS,
    WHASH,
];

/// CONTROL bit 0: write 1 to start a run (reads 0).
pub const CONTROL_START: u32 = 1 << 0;
/// CONTROL bit 1: raise `irq_o` when a run finishes.
pub const CONTROL_IRQ_ENABLE: u32 = 1 << 1;
/// STATUS bit 0 (sticky, write 1 clears): the last run finished.
pub const STATUS_DONE: u32 = 1 << 0;
/// STATUS bit 1: a run is in progress.
pub const STATUS_BUSY: u32 = 1 << 1;
/// STATUS bit 2 (write 1 clears): interrupt pending.
pub const STATUS_IRQ_PENDING: u32 = 1 << 2;

/// SCTRL bit 0 RUN: accept input vectors from `s_axis` (cleared: input stops at the next vector
/// boundary; vectors already received are computed and streamed out).
pub const SCTRL_RUN: u32 = 1 << 0;
/// SCTRL bit 1 CYCLES_BEAT: after each streamed output vector, one more beat carrying the
/// vector's compute cycles (saturated to TDATA bits); TLAST then falls on that beat.
pub const SCTRL_CYCLES_BEAT: u32 = 1 << 1;
/// SCTRL bit 2 CLEAR (write 1, reads 0): zero VECTORS, IN_BEATS, OUT_BEATS, BUSY, TOTAL and the
/// TLAST_EVERY count, and clear SSTATUS's sticky bits. Data in flight is not touched.
pub const SCTRL_CLEAR: u32 = 1 << 2;
/// SSTATUS bit 0 COUNT (sticky, write 1 clears): VECTORS reached IRQ_COUNT (raises IRQ_PENDING).
pub const SSTATUS_COUNT: u32 = 1 << 0;
/// SSTATUS bit 1 ACTIVE: a streamed vector is being received, computed or sent.
pub const SSTATUS_ACTIVE: u32 = 1 << 1;
/// SSTATUS bit 2 FRAMING (sticky, write 1 clears): an input beat carried TLAST but did not end a
/// vector (input vectors are framed by count, docs/register-map.md "Streams").
pub const SSTATUS_FRAMING: u32 = 1 << 2;

/// WCTRL bit 0 LOAD: while set, `s_axis` beats are weight-image words for the loader (low 32
/// bits first on a 64-bit TDATA), not input vectors. Set it only while the engine is idle
/// (STATUS.BUSY and SSTATUS.ACTIVE clear, SCTRL.RUN clear); the engine ignores it otherwise.
pub const WCTRL_LOAD: u32 = 1 << 0;
/// WCTRL bit 1 CLEAR (write 1, reads 0): reset the loader's record parser, WWORDS, the running
/// CRC, WHASH and WSTATUS (LOADED and ERROR).
pub const WCTRL_CLEAR: u32 = 1 << 1;
/// WSTATUS bit 0 LOADED: an END record arrived whose CRC word equals the CRC of every word before
/// it since WCTRL.CLEAR, with no ERROR. Always 1 when the weights are in the bitstream. While it
/// is 0 on a run-time-weights design, CONTROL.START and SCTRL.RUN are ignored.
pub const WSTATUS_LOADED: u32 = 1 << 0;
/// WSTATUS bit 1 ERROR (sticky until CLEAR): a header with bits [31:16] set, a record that named
/// an unknown memory or PE, had zero words or ran past the memory's depth, a word after END, or
/// an END whose CRC did not match. An error also clears LOADED and makes WHASH read 0.
pub const WSTATUS_ERROR: u32 = 1 << 1;
/// WSTATUS bit 2 RUNTIME (constant): this design's weight memories are loaded at run time.
pub const WSTATUS_RUNTIME: u32 = 1 << 2;

/// The STREAM register: `[7:0]` TDATA bits, `[15:8]` lane bits ([`crate::stream::Packing`]),
/// `[31:16]` zero.
pub fn stream_format(tdata_bits: u32, lane_bits: u32) -> u32 {
    (tdata_bits & 0xFF) | (lane_bits & 0xFF) << 8
}

/// Smallest register window, and the size mapped to read the identification block alone.
pub const MIN_WINDOW_BYTES: u64 = 0x1000;

/// Banks as the windows see them: the PE count rounded up to a power of two, so the engine splits
/// a window word into bank and row by bit fields (no divider on the host path).
pub fn bank_stride(pes: usize) -> u64 {
    (pes.max(1) as u64).next_power_of_two()
}

/// Window word of activation `i` (input or output vector) on an engine with `pes` PEs: the
/// activation lives in bank `i mod pes` at row `i div pes`, and the window shows row `r` at words
/// `r * bank_stride .. r * bank_stride + pes` (words of banks `>= pes` read 0).
pub fn window_word(i: usize, pes: usize) -> u64 {
    let pes = pes.max(1);
    (i / pes) as u64 * bank_stride(pes) + (i % pes) as u64
}

/// The activation index at window word `word`, or `None` for a word of a bank `>= pes`.
pub fn window_index(word: u64, pes: usize) -> Option<usize> {
    let pes = pes.max(1);
    let s = bank_stride(pes);
    let bank = (word % s) as usize;
    (bank < pes).then(|| (word / s) as usize * pes + bank)
}

/// Size of each of the four register-map windows for these input and output sizes on `pes`
/// PEs: `max(0x1000, next_power_of_two(4 * words))`, `words` = one past the last activation's
/// window word.
pub fn window_bytes(in_size: usize, out_size: usize, pes: usize) -> u64 {
    let n = in_size.max(out_size);
    let words = if n == 0 {
        0
    } else {
        window_word(n - 1, pes) + 1
    };
    (4 * words).next_power_of_two().max(MIN_WINDOW_BYTES)
}

/// The accelerator's AXI address width: `log2(4 * window_bytes)` (four windows).
pub fn addr_bits(window_bytes: u64) -> u32 {
    (4 * window_bytes).trailing_zeros()
}

/// GEOMETRY fields: `[7:0]` PEs, `[15:8]` layers, `[23:16]` act_bits, `[31:24]` zero.
pub mod geometry {
    pub const PES_LSB: u32 = 0;
    pub const LAYERS_LSB: u32 = 8;
    pub const ACT_BITS_LSB: u32 = 16;
    /// Every field is 8 bits wide.
    pub const FIELD_BITS: u32 = 8;
    /// Largest value of any field.
    pub const FIELD_MAX: u32 = (1 << FIELD_BITS) - 1;

    /// Packs the GEOMETRY word (fields must be `<= FIELD_MAX`; higher bits are dropped).
    pub fn pack(pes: u32, layers: u32, act_bits: u32) -> u32 {
        (pes & FIELD_MAX) << PES_LSB
            | (layers & FIELD_MAX) << LAYERS_LSB
            | (act_bits & FIELD_MAX) << ACT_BITS_LSB
    }
    /// `(pes, layers, act_bits, reserved [31:24])`.
    pub fn unpack(word: u32) -> (u32, u32, u32, u32) {
        (
            (word >> PES_LSB) & FIELD_MAX,
            (word >> LAYERS_LSB) & FIELD_MAX,
            (word >> ACT_BITS_LSB) & FIELD_MAX,
            word >> 24,
        )
    }
}

/// SIZES fields: `[15:0]` input size, `[31:16]` output size.
pub mod sizes {
    pub const FIELD_BITS: u32 = 16;
    /// Largest input or output size the register can report.
    pub const MAX: usize = (1 << FIELD_BITS) - 1;

    pub fn pack(in_size: usize, out_size: usize) -> u32 {
        (in_size as u32 & MAX as u32) | ((out_size as u32 & MAX as u32) << FIELD_BITS)
    }
    /// `(input size, output size)`.
    pub fn unpack(word: u32) -> (usize, usize) {
        ((word & MAX as u32) as usize, (word >> FIELD_BITS) as usize)
    }
}

/// The layer-descriptor word in `layers.mem` (one per layer, [`WIDTH`](layer_desc::WIDTH) bits).
pub mod layer_desc {
    /// Total width of a descriptor word.
    pub const WIDTH: u32 = 128;
    /// `[23:0]` input size.
    pub const IN_SIZE_LSB: u32 = 0;
    /// `[47:24]` output size.
    pub const OUT_SIZE_LSB: u32 = 24;
    /// `[71:48]` first pointer word of the layer in each PE's pointer memory.
    pub const PTR_BASE_LSB: u32 = 48;
    /// `[95:72]` first bias word of the layer in each PE's bias memory.
    pub const BIAS_BASE_LSB: u32 = 72;
    /// Width of the size and base fields.
    pub const FIELD_BITS: u32 = 24;
    /// `[103:96]` right shift from accumulator to output format.
    pub const SHIFT_LSB: u32 = 96;
    pub const SHIFT_BITS: u32 = 8;
    /// `[104]` ReLU.
    pub const RELU_BIT: u32 = 104;
    /// `[126:105]` rows every PE writes back: `ceil(out_size / PEs)` (a PE with fewer real rows
    /// writes zero rows past the vector's end, which nothing reads).
    pub const PE_ROWS_LSB: u32 = 105;
    pub const PE_ROWS_BITS: u32 = 22;
    /// Bit `[127]` is zero.
    pub const USED_BITS: u32 = PE_ROWS_LSB + PE_ROWS_BITS;

    /// One layer's descriptor.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LayerDesc {
        pub in_size: u64,
        pub out_size: u64,
        pub ptr_base: u64,
        pub bias_base: u64,
        pub shift: u32,
        pub relu: bool,
        pub pe_rows: u64,
    }

    impl LayerDesc {
        /// The largest value a 24-bit field holds.
        pub const FIELD_MAX: u64 = (1 << FIELD_BITS) - 1;

        /// The field that does not fit, if any: `(name, value, limit)`.
        pub fn overflow(&self) -> Option<(&'static str, u64, u64)> {
            [
                ("in_size", self.in_size, Self::FIELD_MAX),
                ("out_size", self.out_size, Self::FIELD_MAX),
                ("ptr_base", self.ptr_base, Self::FIELD_MAX),
                ("bias_base", self.bias_base, Self::FIELD_MAX),
                ("shift", self.shift as u64, (1 << SHIFT_BITS) - 1),
                ("pe_rows", self.pe_rows, (1 << PE_ROWS_BITS) - 1),
            ]
            .into_iter()
            .find(|&(_, v, max)| v > max)
        }

        /// The descriptor word (callers check [`overflow`](Self::overflow) first).
        pub fn pack(&self) -> u128 {
            let f = |v: u64| (v & Self::FIELD_MAX) as u128;
            f(self.in_size) << IN_SIZE_LSB
                | f(self.out_size) << OUT_SIZE_LSB
                | f(self.ptr_base) << PTR_BASE_LSB
                | f(self.bias_base) << BIAS_BASE_LSB
                | ((self.shift as u128) & ((1 << SHIFT_BITS) - 1)) << SHIFT_LSB
                | (self.relu as u128) << RELU_BIT
                | ((self.pe_rows as u128) & ((1 << PE_ROWS_BITS) - 1)) << PE_ROWS_LSB
        }
    }
}

/// The EIE entry: a relative row index ("row gap", zeros skipped since the previous entry of the
/// column) above a codebook index (docs/sparse-format.md). The gap's width is a design-wide
/// parameter the planner chooses (`gap_bits`); the RTL takes it from `bramble_defs.vh`.
pub mod entry {
    /// Narrowest row-gap field the planner considers.
    pub const MIN_GAP_BITS: u32 = 3;
    /// Widest row-gap field the planner considers.
    pub const MAX_GAP_BITS: u32 = 8;
    /// EIE's 4-bit gap: what `inspect` assumes and what the hand-written modules' unit tests
    /// (hw/test) build with. A bundle always carries the gap width its plan chose.
    pub const EIE_GAP_BITS: u32 = 4;

    /// True for a gap width the engine supports (`MIN_GAP_BITS..=MAX_GAP_BITS`).
    pub fn valid_gap_bits(gap_bits: u32) -> bool {
        (MIN_GAP_BITS..=MAX_GAP_BITS).contains(&gap_bits)
    }

    /// Longest gap one entry with a `gap_bits`-wide field can express; a longer gap inserts a
    /// padding entry (codebook index 0).
    pub const fn max_gap(gap_bits: u32) -> u32 {
        (1 << gap_bits) - 1
    }

    /// Packs one entry of `idx_bits`-bit codebook index and `gap_bits`-bit row gap: `{gap, code}`.
    pub fn pack(gap: u32, code: u32, idx_bits: u32, gap_bits: u32) -> u64 {
        debug_assert!(gap <= max_gap(gap_bits) && code < (1 << idx_bits));
        ((gap as u64) << idx_bits) | code as u64
    }
    /// `(gap, code)`.
    pub fn unpack(word: u64, idx_bits: u32, gap_bits: u32) -> (u32, u32) {
        (
            ((word >> idx_bits) & max_gap(gap_bits) as u64) as u32,
            (word & ((1 << idx_bits) - 1)) as u32,
        )
    }
}

/// Engine constants that couple hand-written modules with each other (hw/, docs/engine.md).
pub mod engine {
    /// Depth of a PE's activation FIFO (shift-register LUTs: at most 32).
    pub const ACT_FIFO_DEPTH: u32 = 32;
    /// Activations that may still be on their way to a PE's FIFO when it reports full (the
    /// scanner's pick and broadcast register, the PE's input register, the FIFO's room register
    /// and the engine's AND register: 4 by count), with margin.
    pub const BC_IN_FLIGHT: u32 = 8;
    /// The write-back shifts in two steps: by `8 * (shift >> 3)`, then by `shift & 7`.
    pub const SHIFT_HI_BITS: u32 = super::layer_desc::SHIFT_BITS - 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_increasing_words() {
        for (i, r) in ALL.iter().enumerate() {
            assert_eq!(r.offset, 4 * i as u64, "{}", r.name);
        }
    }

    #[test]
    fn window_rule() {
        assert_eq!(window_bytes(16, 5, 4), 0x1000);
        assert_eq!(addr_bits(0x1000), 14);
        assert_eq!(window_bytes(2000, 5, 1), 0x2000);
        assert_eq!(window_bytes(1025, 1, 8), 0x2000);
        assert_eq!(addr_bits(0x2000), 15);
        // 5 PEs: rows of 8 words; activation 1024 is row 204, bank 4 -> word 1636.
        assert_eq!(window_word(1024, 5), 1636);
        assert_eq!(window_bytes(1025, 1, 5), 0x2000);
        assert_eq!(window_bytes(1026, 1, 5), 0x2000);
        assert_eq!(window_bytes(2000, 1, 3), 0x4000);
    }

    #[test]
    fn window_words_are_distinct_bit_fields() {
        for pes in 1..=64 {
            let s = bank_stride(pes);
            assert!(s.is_power_of_two() && s >= pes as u64 && s < 2 * pes as u64);
            let mut seen = std::collections::HashSet::new();
            for i in 0..300 {
                let w = window_word(i, pes);
                assert!(w % s < pes as u64, "bank of {i} on {pes} PEs");
                assert_eq!(((w / s) * pes as u64 + w % s) as usize, i);
                assert_eq!(window_index(w, pes), Some(i));
                assert!(seen.insert(w));
            }
        }
    }

    /// docs/register-map.md's table lists every register of [`ALL`] at its offset, in order.
    #[test]
    fn docs_table_matches() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/register-map.md");
        let text = std::fs::read_to_string(path).unwrap();
        let rows: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.strip_prefix("| 0x")?.split('|');
                let off = u64::from_str_radix(f.next()?.trim(), 16).ok()?;
                Some((off, f.next()?.trim().to_string()))
            })
            .collect();
        let want: Vec<(u64, String)> = ALL.iter().map(|r| (r.offset, r.name.into())).collect();
        assert_eq!(rows, want);
        assert!(text.contains(&format!("currently {REGMAP_VERSION}")));
    }

    #[test]
    fn packing_round_trips() {
        let g = geometry::pack(4, 3, 16);
        assert_eq!(g, 4 | (3 << 8) | (16 << 16));
        assert_eq!(geometry::unpack(g), (4, 3, 16, 0));
        assert_eq!(sizes::unpack(sizes::pack(16, 5)), (16, 5));
        let d = layer_desc::LayerDesc {
            in_size: 784,
            out_size: 300,
            ptr_base: 12,
            bias_base: 9,
            shift: 11,
            relu: true,
            pe_rows: 75,
        };
        assert!(d.overflow().is_none());
        let w = d.pack();
        assert_eq!(w & 0xFF_FFFF, 784);
        assert_eq!((w >> 96) & 0xFF, 11);
        assert_eq!((w >> 104) & 1, 1);
        assert_eq!((w >> 105) & 0x3F_FFFF, 75);
        assert_eq!(w >> layer_desc::USED_BITS, 0);
        let big = layer_desc::LayerDesc {
            in_size: 1 << 24,
            ..d
        };
        assert_eq!(big.overflow().map(|o| o.0), Some("in_size"));
        assert_eq!(entry::unpack(entry::pack(9, 5, 4, 4), 4, 4), (9, 5));
        for gap_bits in entry::MIN_GAP_BITS..=entry::MAX_GAP_BITS {
            let max = entry::max_gap(gap_bits);
            let w = entry::pack(max, 3, 2, gap_bits);
            assert_eq!(w >> (2 + gap_bits), 0, "fits {gap_bits} + 2 bits");
            assert_eq!(entry::unpack(w, 2, gap_bits), (max, 3));
        }
    }
}
