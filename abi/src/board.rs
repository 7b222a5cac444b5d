//! Names and sizes a Zynq board design shares between the generator (block design, device-tree
//! overlay, docs/vivado.md) and the host (which finds the accelerator, the AXI DMA and the DMA
//! buffer by these names). Written once here; the generated overlay and `bramble-host` both use
//! them.
//!
//! On a Zynq board built from `vivado/build.tcl` and `vivado/<top>.dtso`:
//! - the accelerator is the UIO device named [`accel_uio_name`] (the manifest's `top`), its
//!   interrupt is the accelerator's `irq_o`;
//! - the AXI DMA is the UIO device named [`dma_uio_name`] (`<top>_dma`), its interrupt is the
//!   S2MM (stream to memory) completion: UIO gives one interrupt per device, and the end of the
//!   output transfer is the end of a batch. The MM2S interrupt is wired in the block design too
//!   (the GIC line after S2MM's, see [`IRQ_MM2S`]) but not given to Linux;
//! - the DMA buffer is the u-dma-buf device [`UDMABUF_NAME`] (`/dev/udmabuf0`),
//!   [`Batch::udmabuf_bytes`] long: room for the input beats of [`Batch::vectors`] vectors and
//!   their output beats, each rounded up to a page. The host's DMA driver decides the layout of
//!   each transfer (inputs from offset 0, outputs from the next 64-byte boundary after them) and
//!   splits a larger batch into transfers that fit; a test of bramble-host (`dma.rs`) checks
//!   that this size holds [`Batch::vectors`] vectors in its layout.

use crate::manifest::Manifest;
use crate::stream::Packing;

/// UIO name of the accelerator: the manifest's `top` (`bramble-host --uio-name` defaults to it).
pub fn accel_uio_name(top: &str) -> String {
    top.to_string()
}

/// UIO name of the AXI DMA that feeds the accelerator's streams.
pub fn dma_uio_name(top: &str) -> String {
    format!("{top}{DMA_UIO_SUFFIX}")
}

/// Suffix of [`dma_uio_name`].
pub const DMA_UIO_SUFFIX: &str = "_dma";

/// The u-dma-buf device (`device-name` of the overlay's node, so `/dev/udmabuf0` and
/// `/sys/class/u-dma-buf/udmabuf0/phys_addr`).
pub const UDMABUF_NAME: &str = "udmabuf0";
/// `minor-number` of the u-dma-buf node.
pub const UDMABUF_MINOR: u32 = 0;

/// Order of the interrupt lines into the PS (IRQ_F2P on Zynq-7000, pl_ps_irq0 on Zynq
/// UltraScale+): bit 0 the accelerator, bit 1 the DMA's MM2S, bit 2 its S2MM.
pub const IRQ_ACCEL: u32 = 0;
pub const IRQ_MM2S: u32 = 1;
pub const IRQ_S2MM: u32 = 2;
/// Interrupt lines the block design wires into the PS.
pub const IRQ_LINES: u32 = 3;

/// Address bits of the AXI DMA's memory-mapped masters: 32, so its buffer (the u-dma-buf) must
/// lie below 4 GiB, where the kernel's CMA area is by default; the DMA's address registers are
/// the 32-bit layout (no `_MSB` registers).
pub const DMA_ADDR_BITS: u32 = 32;
/// Width of the DMA's transfer-length registers (`c_sg_length_width`): one transfer moves at most
/// `2^26 - 1` bytes.
pub const DMA_LENGTH_BITS: u32 = 26;

/// Most vectors in one batch the overlay's DMA buffer is sized for.
pub const MAX_BATCH: u64 = 1024;
/// Cap on the DMA buffer (inputs and outputs of a batch): 8 MiB fits the default CMA area of
/// PYNQ and PetaLinux images with room to spare.
pub const MAX_UDMABUF_BYTES: u64 = 8 << 20;
/// The buffer's halves start on page boundaries.
pub const PAGE: u64 = 4096;

fn page_up(n: u64) -> u64 {
    n.div_ceil(PAGE) * PAGE
}

/// A batch as it crosses the streams: bytes per input and per output vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Bytes of one input vector on the stream (`ceil(in / lanes)` beats).
    pub in_vector_bytes: u64,
    /// Bytes of one output vector on the stream, with the cycle-count beat (SCTRL.CYCLES_BEAT).
    pub out_vector_bytes: u64,
}

impl Batch {
    /// The batch of vectors of `in_size` and `out_size` activations packed as `packing` says.
    pub fn new(packing: &Packing, in_size: usize, out_size: usize) -> Batch {
        let beat = u64::from(packing.tdata_bits() / 8);
        Batch {
            in_vector_bytes: packing.beats(in_size) as u64 * beat,
            out_vector_bytes: (packing.beats(out_size) as u64 + 1) * beat,
        }
    }

    /// The batch of a bundle (its manifest has been validated, so its packing exists).
    pub fn of(m: &Manifest) -> Batch {
        let p = m.packing().expect("validated manifest has a packing");
        Batch::new(&p, m.input.size, m.output.size)
    }

    /// Vectors per batch the DMA buffer holds: [`MAX_BATCH`], fewer when the buffer would pass
    /// [`MAX_UDMABUF_BYTES`] or a transfer would pass the DMA's length register; at least 1.
    pub fn vectors(&self) -> u64 {
        let (i, o) = (self.in_vector_bytes, self.out_vector_bytes);
        let max_len = (1u64 << DMA_LENGTH_BITS) - 1;
        let mut b = MAX_BATCH;
        while b > 1
            && (page_up(b * i) + page_up(b * o) > MAX_UDMABUF_BYTES || b * i.max(o) > max_len)
        {
            b -= 1;
        }
        b
    }

    /// Bytes of the buffer's input half: the batch's input beats rounded up to a page.
    pub fn out_offset(&self) -> u64 {
        page_up(self.vectors() * self.in_vector_bytes)
    }

    /// Size of the overlay's u-dma-buf: a batch of inputs, then a batch of outputs, each half
    /// page-aligned.
    pub fn udmabuf_bytes(&self) -> u64 {
        self.out_offset() + page_up(self.vectors() * self.out_vector_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(input: usize, output: usize, tdata_bits: u32) -> Manifest {
        let mut m: Manifest = serde_json::from_str(
            r#"{"format":"bramble-bundle","format_version":4,"name":"n","top":"n_top",
            "part":"xc7z020","family":"7series","pes":1,"network_hash":"0000000000000000",
            "regmap_version":4,"act_bits":16,"tdata_bits":32,"gap_bits":4,
            "input":{"size":1,"bits":16,"frac_bits":8},"output":{"size":1,"bits":16,"frac_bits":8},
            "layers":[],"weights":{"mode":"bitstream","image":"w.bin","crc32":"00000000",
            "geometry_hash":"0000000000000000","weights_only":false},
            "rtl_files":["a.v"],"memory_images":[],"files":[]}"#,
        )
        .unwrap();
        m.input.size = input;
        m.output.size = output;
        m.tdata_bits = tdata_bits;
        m
    }

    #[test]
    fn names() {
        assert_eq!(accel_uio_name("jet70_top"), "jet70_top");
        assert_eq!(dma_uio_name("jet70_top"), "jet70_top_dma");
    }

    #[test]
    fn buffer_for_a_small_network_holds_a_full_batch() {
        // 16 inputs of 16 bits in 32-bit beats: 8 beats = 32 bytes; 5 outputs: 3 beats + cycles.
        let b = Batch::of(&manifest(16, 5, 32));
        assert_eq!(b.in_vector_bytes, 32);
        assert_eq!(b.out_vector_bytes, 16);
        assert_eq!(b.vectors(), MAX_BATCH);
        assert_eq!(b.out_offset(), 32 * 1024);
        assert_eq!(b.udmabuf_bytes(), 48 * 1024);
    }

    #[test]
    fn buffer_is_capped() {
        let b = Batch::of(&manifest(60_000, 60_000, 64));
        assert!(b.vectors() >= 1 && b.vectors() < MAX_BATCH);
        assert!(b.udmabuf_bytes() <= MAX_UDMABUF_BYTES);
        assert_eq!(b.udmabuf_bytes() % PAGE, 0);
    }
}
