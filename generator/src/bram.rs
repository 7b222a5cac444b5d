//! Packing one block-RAM memory onto RAMB18/RAMB36 primitives the way Yosys 0.23's
//! `memory_libmap` does for Xilinx 7-series and UltraScale+ (techlibs/xilinx/brams_xc4v.txt):
//! every (primitive, aspect ratio) option is costed as `units * cost`, with
//! `units = ceil(width / w) * ceil(depth / d)`, and the cheapest wins. A RAMB18 costs 129, a
//! RAMB36 257, a cascaded pair of RAMB36 513. The planner's numbers are checked against Yosys
//! in the test suite.

use serde::Serialize;

/// A primitive kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Prim {
    Ramb18,
    Ramb36,
    /// Two RAMB36 cascaded for depth (64K x 1 .. 8K x 9).
    Ramb36Cascade,
}

/// How one memory maps onto primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Packing {
    pub prim: Prim,
    /// Aspect ratio of one primitive in this mapping.
    pub depth: usize,
    pub width: usize,
    /// Primitives used (a cascade counts as one unit of two RAMB36).
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

/// (primitive, cost, [(depth, width)]) options, TDP and SDP modes together.
const OPTIONS: &[(Prim, usize, &[(usize, usize)])] = &[
    (
        Prim::Ramb18,
        129,
        &[
            (16384, 1),
            (8192, 2),
            (4096, 4),
            (2048, 9),
            (1024, 18),
            (512, 36),
        ],
    ),
    (
        Prim::Ramb36,
        257,
        &[
            (32768, 1),
            (16384, 2),
            (8192, 4),
            (4096, 9),
            (2048, 18),
            (1024, 36),
            (512, 72),
        ],
    ),
    (
        Prim::Ramb36Cascade,
        513,
        &[(65536, 1), (32768, 2), (16384, 4), (8192, 9)],
    ),
];

/// The cheapest packing of a `depth x width` memory.
pub fn pack(depth: usize, width: usize) -> Packing {
    let mut best: Option<(usize, Packing)> = None;
    for &(prim, cost, shapes) in OPTIONS {
        for &(d, w) in shapes {
            let units = width.div_ceil(w) * depth.div_ceil(d);
            let total = units * cost;
            if best.as_ref().is_none_or(|(c, _)| total < *c) {
                let (ramb18, ramb36) = match prim {
                    Prim::Ramb18 => (units, 0),
                    Prim::Ramb36 => (0, units),
                    Prim::Ramb36Cascade => (0, 2 * units),
                };
                best = Some((
                    total,
                    Packing {
                        prim,
                        depth: d,
                        width: w,
                        units,
                        ramb18,
                        ramb36,
                    },
                ));
            }
        }
    }
    best.expect("options are not empty").1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observed with Yosys 0.23 `synth_xilinx -family xc7` (and identical for xcup).
    #[test]
    fn matches_yosys_observations() {
        let cases = [
            ((1024, 8), (1, 0)),
            ((1024, 18), (1, 0)),
            ((512, 36), (1, 0)),
            ((1024, 40), (3, 0)),
            ((4096, 8), (0, 1)),
            ((512, 72), (0, 1)),
            ((2048, 12), (0, 1)),
            ((100, 8), (1, 0)),
            ((16384, 1), (1, 0)),
            ((600, 20), (0, 1)),
            ((2048, 9), (1, 0)),
            ((64, 34), (1, 0)),
            ((5000, 10), (5, 0)),
        ];
        for ((d, w), (r18, r36)) in cases {
            let p = pack(d, w);
            assert_eq!((p.ramb18, p.ramb36), (r18, r36), "{d}x{w}: {p:?}");
        }
    }
}
