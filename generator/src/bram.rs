//! Packing one block-RAM memory onto RAMB18/RAMB36 primitives exactly as Yosys 0.23's
//! `memory_libmap` does for Xilinx 7-series and UltraScale+ (`techlibs/xilinx/brams_xc4v.txt`,
//! `handle_geom` in `passes/memory/memory_libmap.cc`; measured in docs/engine.md). Every
//! (configuration, port width) option is costed and the first cheapest wins. The planner's numbers
//! are checked against Yosys in the test suite.

use serde::Serialize;

/// How one memory maps onto primitives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Packing {
    /// Aspect ratio of one primitive in this mapping.
    pub depth: usize,
    pub width: usize,
    /// Primitive units used (a cascade unit is two RAMB36).
    pub units: usize,
    pub ramb18: usize,
    pub ramb36: usize,
}

impl Packing {
    /// `1Kx18`-style shape text.
    pub fn shape(&self) -> String {
        let d = if self.depth % 1024 == 0 {
            format!("{}K", self.depth / 1024)
        } else {
            self.depth.to_string()
        };
        format!("{d}x{}", self.width)
    }
}

/// What Yosys sees of a memory: whether it has a write port (the tied-off ROMs of
/// `bramble_ram_sdp` still do) and how many read ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub writable: bool,
    pub read_ports: usize,
}

/// `bramble_ram_sdp`: one write port (possibly tied off), one read port.
pub const SDP: Ports = Ports {
    writable: true,
    read_ports: 1,
};
/// `bramble_rom_2r`: a true ROM with two read ports.
pub const ROM_2R: Ports = Ports {
    writable: false,
    read_ports: 2,
};

const W18: &[usize] = &[1, 2, 4, 9, 18];
const W36: &[usize] = &[1, 2, 4, 9, 18, 36];
const W72: &[usize] = &[1, 2, 4, 9, 18, 36, 72];
const W9: &[usize] = &[1, 2, 4, 9];

/// (cost, address bits at width 1, widths, read ports, (RAMB18, RAMB36) per unit), in the order
/// Yosys tries them: TDP half, TDP full, TDP cascade, SDP half, SDP full.
const CONFIGS: &[(f64, u32, &[usize], usize, (usize, usize))] = &[
    (129.0, 14, W18, 2, (1, 0)),
    (257.0, 15, W36, 2, (0, 1)),
    (513.0, 16, W9, 2, (0, 2)),
    (129.0, 14, W36, 1, (1, 0)),
    (257.0, 15, W72, 1, (0, 1)),
];

/// The cheapest packing of a `depth x width` memory with `ports`.
pub fn pack(depth: usize, width: usize, ports: Ports) -> Packing {
    let mut best: Option<(f64, Packing)> = None;
    for &(cost, abits, widths, rports, (r18, r36)) in CONFIGS {
        let repl_port = ports.read_ports.div_ceil(rports);
        for (b, &u) in widths.iter().enumerate() {
            let d = 1usize << (abits as usize - b);
            let mult_a = depth.div_ceil(d);
            let e = if !ports.writable {
                1
            } else if u >= 9 {
                9
            } else {
                u
            };
            let sw = width.div_ceil(e) * e;
            let n = (mult_a * sw).div_ceil(u) * repl_port;
            let mut c =
                cost * n as f64 + 0.5 * (mult_a - 1) as f64 * (width * ports.read_ports) as f64;
            if ports.writable && mult_a != 1 {
                c += 0.5 * mult_a as f64;
            }
            if best.as_ref().is_none_or(|(bc, _)| c < *bc) {
                best = Some((
                    c,
                    Packing {
                        depth: d,
                        width: u,
                        units: n,
                        ramb18: n * r18,
                        ramb36: n * r36,
                    },
                ));
            }
        }
    }
    best.expect("configurations are not empty").1
}

/// URAM288 blocks for a `depth x width` memory with `(* ram_style = "ultra" *)`, as Yosys 0.23
/// `synth_xilinx -family xcup` maps it (`techlibs/xilinx/urams.txt`: 4K x 72, one port per side,
/// no initial contents). A narrow memory is packed several words to a 72-bit row: the largest
/// power of two of words that fits, at most 8, with the word selected by LUTs after the read.
/// Measured with one write and one read port (docs/engine.md, "UltraRAM").
pub fn uram(depth: usize, width: usize) -> usize {
    const ROWS: usize = 4096;
    const ROW_BITS: usize = 72;
    let fit = (ROW_BITS / width.max(1)).max(1);
    let per_row = (1usize << fit.ilog2()).min(8);
    let columns = width.div_ceil(ROW_BITS / per_row).max(1);
    depth.max(1).div_ceil(ROWS * per_row) * columns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Measured with Yosys 0.23 `synth_xilinx -family xcup -noiopad` on a one-write, one-read
    /// memory with `(* ram_style = "ultra" *)` and no initial contents.
    #[test]
    fn uram_matches_yosys_measurements() {
        let measured = [
            ((4096, 72), 1),
            ((8192, 72), 2),
            ((6000, 72), 2),
            ((12288, 72), 3),
            ((40000, 72), 10),
            ((2048, 72), 1),
            ((4096, 80), 2),
            ((4096, 64), 1),
            ((4096, 36), 1),
            ((8192, 36), 1),
            ((8192, 32), 1),
            ((16384, 26), 2),
            ((16384, 24), 2),
            ((16384, 20), 2),
            ((4096, 18), 1),
            ((8192, 18), 1),
            ((16384, 18), 1),
            ((20000, 18), 2),
            ((24576, 18), 2),
            ((32768, 18), 2),
            ((100000, 18), 7),
            ((16384, 16), 1),
            ((32768, 16), 2),
            ((32768, 14), 2),
            ((32768, 12), 2),
            ((40000, 10), 3),
            ((32768, 9), 1),
            ((65536, 9), 2),
            ((65536, 8), 2),
            ((4096, 4), 1),
            ((131072, 4), 4),
        ];
        for ((d, w), want) in measured {
            assert_eq!(uram(d, w), want, "{d}x{w}");
        }
    }

    /// Measured with Yosys 0.23 `synth_xilinx -family xc7` (identical on xcup), docs/engine.md.
    #[test]
    fn matches_yosys_measurements() {
        let sdp = [
            ((16, 8), (1, 0)),
            ((100, 8), (1, 0)),
            ((1024, 8), (1, 0)),
            ((1025, 8), (1, 0)),
            ((3000, 8), (0, 1)),
            ((4096, 8), (0, 1)),
            ((8192, 8), (0, 2)),
            ((16384, 8), (0, 4)),
            ((1024, 36), (0, 1)),
            ((1024, 40), (3, 0)),
            ((2048, 12), (0, 1)),
            ((5000, 12), (5, 0)),
            ((6000, 20), (9, 0)),
            ((3000, 18), (3, 0)),
            ((20000, 9), (0, 5)),
            ((130, 100), (3, 0)),
            ((2048, 36), (0, 2)),
            ((512, 72), (0, 1)),
            ((512, 36), (1, 0)),
            ((512, 40), (0, 1)),
            ((1024, 72), (0, 2)),
            ((4096, 5), (0, 1)),
            ((600, 20), (0, 1)),
            ((1500, 16), (0, 1)),
            ((256, 64), (0, 1)),
            ((128, 128), (0, 2)),
            ((4, 128), (0, 2)),
            ((700, 12), (1, 0)),
            ((1200, 50), (5, 0)),
            ((800, 90), (5, 0)),
            ((2500, 30), (5, 0)),
            ((33000, 2), (5, 0)),
            ((400, 200), (0, 3)),
        ];
        for ((d, w), want) in sdp {
            let p = pack(d, w, SDP);
            assert_eq!((p.ramb18, p.ramb36), want, "sdp {d}x{w}: {p:?}");
        }
        let rom = [
            ((5000, 12), (0, 2)),
            ((8192, 12), (0, 3)),
            ((2048, 8), (1, 0)),
            ((1024, 12), (1, 0)),
            ((100, 8), (1, 0)),
            ((4096, 8), (0, 1)),
        ];
        for ((d, w), want) in rom {
            let p = pack(d, w, ROM_2R);
            assert_eq!((p.ramb18, p.ramb36), want, "rom_2r {d}x{w}: {p:?}");
        }
    }

    /// Every entry width the planner can produce (3 + 1 .. 8 + 8 bits: gap + codebook index) as
    /// `bramble_rom_2r`, measured with Yosys 0.23 `synth_xilinx -flatten -family xc7` on a
    /// random-initialised ROM (issue 14). 9-bit words use the parity bits: 2K x 9 in one RAMB18.
    #[test]
    fn entry_widths_match_yosys() {
        #[rustfmt::skip]
        let rom = [
            ((1024, 4), (1, 0)), ((2048, 4), (1, 0)), ((2500, 4), (1, 0)), ((4096, 4), (1, 0)),
            ((5000, 4), (0, 1)), ((8192, 4), (0, 1)), ((12000, 4), (3, 0)),
            ((2048, 5), (1, 0)), ((6000, 5), (0, 1)),
            ((2048, 6), (1, 0)), ((6000, 6), (0, 1)),
            ((2048, 7), (1, 0)), ((6000, 7), (3, 0)),
            ((2048, 8), (1, 0)), ((6000, 8), (3, 0)),
            ((2048, 9), (1, 0)), ((6000, 9), (3, 0)),
            ((2048, 10), (0, 1)), ((6000, 10), (0, 2)),
            ((2048, 11), (0, 1)), ((6000, 11), (0, 2)),
            ((2048, 12), (0, 1)), ((6000, 12), (0, 2)),
            ((2048, 13), (0, 1)), ((6000, 13), (5, 0)),
            ((2048, 14), (0, 1)), ((6000, 14), (5, 0)),
            ((2048, 15), (0, 1)), ((6000, 15), (5, 0)),
            ((2048, 16), (0, 1)), ((6000, 16), (0, 3)),
            ((12000, 6), (0, 2)), ((12000, 9), (0, 3)), ((12000, 13), (9, 0)),
            ((12000, 16), (11, 0)),
        ];
        for ((d, w), want) in rom {
            let p = pack(d, w, ROM_2R);
            assert_eq!((p.ramb18, p.ramb36), want, "rom_2r {d}x{w}: {p:?}");
        }
    }
}
