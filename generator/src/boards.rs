//! Board presets of `bramble generate --board`: the full Vivado part and board-part names, the
//! shell the block design builds around the accelerator (Zynq-7000 PS, Zynq UltraScale+ PS, or
//! PCIe XDMA), the default fabric clock, where the PS puts the accelerator and the DMA, and which
//! GIC interrupts the PL lines become. Adding a board is one row. Every string here reaches
//! generated Tcl and device-tree text, so each is a fixed token checked by the tests below.

use crate::parts::{self, Part};

/// What the block design puts around the accelerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// processing_system7: accelerator AXI4-Lite on M_AXI_GP0, AXI DMA on S_AXI_HP0.
    Zynq7,
    /// zynq_ultra_ps_e: M_AXI_HPM0_FPD, S_AXI_HP0_FPD.
    ZynqMp,
    /// XDMA (PCIe): AXI4-Stream H2C/C2H to the streams, the AXI4-Lite BAR to the registers.
    Xdma,
}

impl Shell {
    /// Name used in file names, snapshots and docs.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Zynq7 => "zynq7",
            Shell::ZynqMp => "zynqmp",
            Shell::Xdma => "xdma",
        }
    }
    /// A Zynq shell (a PS, Linux on the board, a device-tree overlay).
    pub fn is_zynq(self) -> bool {
        matches!(self, Shell::Zynq7 | Shell::ZynqMp)
    }
}

/// One board preset.
#[derive(Debug, Clone, Copy)]
pub struct Board {
    /// `--board` value.
    pub preset: &'static str,
    /// Row of the part table (generator/src/parts.rs).
    pub part: &'static str,
    /// The part as `create_project -part` wants it.
    pub full_part: &'static str,
    /// `vendor:board:part0` of the board files; build.tcl picks the newest installed file
    /// version (`get_board_parts -latest_file_version`).
    pub board_part: &'static str,
    /// The board-part version the scripts were written against (docs).
    pub board_part_version: &'static str,
    /// Where the board files come from when Vivado does not ship them (error messages, docs).
    pub board_files: &'static str,
    pub shell: Shell,
    /// Default accelerator clock (MHz).
    pub default_mhz: u32,
    /// Highest `--clock-mhz` accepted (the PS's fabric clock limit, or the clocking wizard's).
    pub max_mhz: u32,
    /// Start of the PS master port's address region where the accelerator goes (Zynq), or of
    /// the BAR (XDMA).
    pub region_base: u64,
    /// GIC SPI number of the first PL-to-PS interrupt line (IRQ_F2P[0] or pl_ps_irq0[0]).
    pub first_spi: u32,
    /// PCIe lanes and generation of the XDMA shell (`X16`, `8.0_GT/s`).
    pub pcie: Option<(&'static str, &'static str)>,
}

/// Every board preset.
pub const BOARDS: &[Board] = &[
    Board {
        preset: "pynq-z2",
        part: "xc7z020",
        full_part: "xc7z020clg400-1",
        board_part: "tul.com.tw:pynq-z2:part0",
        board_part_version: "1.0",
        board_files: "TUL's PYNQ-Z2 board files (install them into Vivado's board store)",
        shell: Shell::Zynq7,
        // The -1 speed grade: PYNQ's own overlays run FCLK_CLK0 at 100 MHz.
        default_mhz: 100,
        max_mhz: 250,
        region_base: 0x43C0_0000,
        // IRQ_F2P[0] is GIC interrupt 61 = SPI 29.
        first_spi: 29,
        pcie: None,
    },
    Board {
        preset: "zc706",
        part: "xc7z045",
        full_part: "xc7z045ffg900-2",
        board_part: "xilinx.com:zc706:part0",
        board_part_version: "1.4",
        board_files: "Vivado's board store (shipped)",
        shell: Shell::Zynq7,
        default_mhz: 200,
        max_mhz: 250,
        region_base: 0x43C0_0000,
        first_spi: 29,
        pcie: None,
    },
    Board {
        preset: "ultra96v2",
        part: "xczu3eg",
        full_part: "xczu3eg-sbva484-1-i",
        board_part: "avnet.com:ultra96v2:part0",
        board_part_version: "1.2",
        board_files: "Avnet's Ultra96-V2 board files (install them into Vivado's board store)",
        shell: Shell::ZynqMp,
        default_mhz: 200,
        max_mhz: 333,
        region_base: 0xA000_0000,
        // pl_ps_irq0[0] is GIC interrupt 121 = SPI 89.
        first_spi: 89,
        pcie: None,
    },
    Board {
        preset: "zcu102",
        part: "xczu9eg",
        full_part: "xczu9eg-ffvb1156-2-e",
        board_part: "xilinx.com:zcu102:part0",
        board_part_version: "3.4",
        board_files: "Vivado's board store (shipped)",
        shell: Shell::ZynqMp,
        default_mhz: 200,
        max_mhz: 333,
        region_base: 0xA000_0000,
        first_spi: 89,
        pcie: None,
    },
    Board {
        preset: "u250",
        part: "xcu250",
        full_part: "xcu250-figd2104-2L-e",
        board_part: "xilinx.com:au250:part0",
        board_part_version: "1.3",
        board_files: "Vivado's board store (shipped)",
        shell: Shell::Xdma,
        default_mhz: 200,
        max_mhz: 500,
        region_base: 0,
        first_spi: 0,
        pcie: Some(("X16", "8.0_GT/s")),
    },
    Board {
        preset: "u55c",
        part: "xcu55c",
        full_part: "xcu55c-fsvh2892-2L-e",
        board_part: "xilinx.com:au55c:part0",
        board_part_version: "1.0",
        board_files: "Vivado's board store (shipped)",
        shell: Shell::Xdma,
        default_mhz: 200,
        max_mhz: 500,
        region_base: 0,
        first_spi: 0,
        pcie: Some(("X16", "8.0_GT/s")),
    },
];

/// Default clock without a board (out-of-context synthesis, IP packaging): the frequency the
/// benchmarks quote.
pub const DEFAULT_MHZ: u32 = 200;
/// Lowest `--clock-mhz` accepted.
pub const MIN_MHZ: u32 = 10;
/// Highest `--clock-mhz` accepted without a board.
pub const MAX_MHZ: u32 = 500;

/// The preset called `name` (exactly as listed); the error lists the presets.
pub fn find(name: &str) -> Result<&'static Board, String> {
    BOARDS.iter().find(|b| b.preset == name).ok_or_else(|| {
        let known: Vec<String> = BOARDS
            .iter()
            .map(|b| format!("{} ({})", b.preset, b.full_part))
            .collect();
        format!("unknown board `{name}`; known boards: {}", known.join(", "))
    })
}

impl Board {
    /// The part-table row of this board.
    pub fn part(&self) -> &'static Part {
        parts::find(self.part).expect("every board's part is in the part table")
    }
}

/// The part and board of `generate`'s `--part` and `--board`: the board implies the part; given
/// together, the part must be the board's (by the part table's name: `xc7z020` and
/// `xc7z020clg400-1` both agree with pynq-z2).
pub fn resolve(
    part: Option<&str>,
    board: Option<&str>,
) -> Result<(&'static Part, Option<&'static Board>), String> {
    match (part, board) {
        (None, None) => Err("give --part or --board".into()),
        (Some(p), None) => Ok((parts::find(p)?, None)),
        (p, Some(b)) => {
            let board = find(b)?;
            if let Some(p) = p {
                let given = parts::find(p)?;
                if given.name != board.part {
                    return Err(format!(
                        "--part {p} is a {} but board {} has a {} ({}); drop --part or pick the \
                         board's part",
                        given.name, board.preset, board.part, board.full_part
                    ));
                }
                // A name with a package must be the board's (a prefix of it, any case).
                let lower = p.to_ascii_lowercase();
                let lower = if lower.starts_with("xc") {
                    lower
                } else {
                    format!("xc{lower}")
                };
                let full = board.full_part.to_ascii_lowercase();
                if lower != board.part && !full.starts_with(&lower) {
                    return Err(format!(
                        "--part {p}: board {} has {}; drop --part or give the board's part",
                        board.preset, board.full_part
                    ));
                }
            }
            Ok((board.part(), Some(board)))
        }
    }
}

/// The accelerator clock: `mhz` if given (checked against the board's limit), else the board's
/// default, else [`DEFAULT_MHZ`].
pub fn clock_mhz(mhz: Option<u32>, board: Option<&Board>) -> Result<u32, String> {
    let max = board.map_or(MAX_MHZ, |b| b.max_mhz);
    let f = mhz.unwrap_or(board.map_or(DEFAULT_MHZ, |b| b.default_mhz));
    if !(MIN_MHZ..=max).contains(&f) {
        let whose = board.map_or("without a board".to_string(), |b| {
            format!("on {}", b.preset)
        });
        return Err(format!(
            "--clock-mhz {f}: the accelerator clock must be {MIN_MHZ}..={max} MHz {whose}"
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-/".contains(c))
    }

    #[test]
    fn every_board_is_consistent() {
        for b in BOARDS {
            assert!(token(b.preset) && token(b.full_part) && token(b.board_part));
            assert!(token(b.board_part_version));
            // Pasted into a Tcl string: no quote, bracket, brace, dollar or backslash.
            assert!(b
                .board_files
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " '()-,.".contains(c)));
            assert!(b.full_part.starts_with(b.part), "{}", b.preset);
            assert_eq!(b.part().name, b.part, "{}", b.preset);
            assert_eq!(b.board_part.split(':').count(), 3, "{}", b.preset);
            assert!(b.default_mhz <= b.max_mhz);
            assert_eq!(b.shell == Shell::Xdma, b.pcie.is_some());
        }
        // Every part of the part table has a board.
        for p in crate::parts::PARTS {
            assert!(BOARDS.iter().any(|b| b.part == p.name), "{}", p.name);
        }
    }

    #[test]
    fn part_and_board_must_agree() {
        assert_eq!(resolve(None, Some("zcu102")).unwrap().0.name, "xczu9eg");
        assert!(resolve(Some("xczu9eg"), Some("zcu102")).is_ok());
        assert!(resolve(Some("xczu9eg-ffvb1156-2-e"), Some("zcu102")).is_ok());
        let e = resolve(Some("xc7z020"), Some("zcu102")).unwrap_err();
        assert!(e.contains("xczu9eg") && e.contains("zcu102"), "{e}");
        let e = resolve(Some("xczu9eg-ffvc900-1-e"), Some("zcu102")).unwrap_err();
        assert!(e.contains("xczu9eg-ffvb1156-2-e"), "{e}");
        assert!(resolve(None, Some("zedboard"))
            .unwrap_err()
            .contains("pynq-z2"));
        assert!(resolve(Some("xc7a35t"), None).is_err());
        assert!(resolve(None, None).is_err());
    }

    #[test]
    fn clocks() {
        assert_eq!(clock_mhz(None, None).unwrap(), 200);
        assert_eq!(clock_mhz(None, find("pynq-z2").ok()).unwrap(), 100);
        assert_eq!(clock_mhz(Some(150), find("pynq-z2").ok()).unwrap(), 150);
        assert!(clock_mhz(Some(300), find("pynq-z2").ok()).is_err());
        assert!(clock_mhz(Some(5), None).is_err());
    }
}
