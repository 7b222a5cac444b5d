//! `vivado/` of a bundle (docs/vivado.md): Vivado batch scripts and, with `--board`, the block
//! design, the Makefile and the device-tree overlay. Rust computes every number and every name
//! (addresses, interrupt numbers, IP properties); the templates in `templates/vivado/` hold
//! structure only. Nothing a user typed reaches the text: names are checked identifiers (the top)
//! or tokens from the board and IP tables, numbers are numbers.

use crate::boards::{Board, Shell};
use crate::error::{Error, Result};
use crate::ident::Ident;
use crate::parts::Part;
use askama::Template;
use bramble_abi::board::{self as abi_board, Batch};
use bramble_abi::stream::Packing;

/// The directory of the Vivado files inside a bundle.
pub const VIVADO_DIR: &str = "vivado";
/// The oldest Vivado the scripts are written for (the Makefile refuses older ones).
pub const MIN_VIVADO: &str = "2022.1";
/// The newest Vivado release the scripts were written against.
pub const MAX_VIVADO: &str = "2024.2";
/// Name of the block design (and of its wrapper, `<BD_NAME>_wrapper`).
pub const BD_NAME: &str = "bramble_bd";
/// Range of the AXI DMA's register block.
pub const DMA_RANGE: u64 = 0x1_0000;
/// Default `-jobs` of synthesis and implementation (`make bit JOBS=N`).
pub const DEFAULT_JOBS: u32 = 4;

/// The IP cores the scripts instantiate: (role, `vendor:library:name`, versions the scripts were
/// written for, newest first). build.tcl takes the newest of these the running Vivado has, and
/// fails naming the role when it has none.
pub const IPS: &[(&str, &str, &[&str])] = &[
    ("ps7", "xilinx.com:ip:processing_system7", &["5.5"]),
    ("psu", "xilinx.com:ip:zynq_ultra_ps_e", &["3.5", "3.4"]),
    ("dma", "xilinx.com:ip:axi_dma", &["7.1"]),
    ("smartconnect", "xilinx.com:ip:smartconnect", &["1.0"]),
    ("reset", "xilinx.com:ip:proc_sys_reset", &["5.0"]),
    ("concat", "xilinx.com:ip:xlconcat", &["2.1"]),
    ("xdma", "xilinx.com:ip:xdma", &["4.1"]),
    ("clk_wiz", "xilinx.com:ip:clk_wiz", &["6.0"]),
    ("ds_buf", "xilinx.com:ip:util_ds_buf", &["2.2"]),
    ("axis_cc", "xilinx.com:ip:axis_clock_converter", &["1.1"]),
    ("axis_wc", "xilinx.com:ip:axis_dwidth_converter", &["1.1"]),
];

/// One IP of [`IPS`] as the template writes it.
#[derive(Debug, Clone)]
pub struct Ip {
    pub role: &'static str,
    pub vlnv: &'static str,
    /// Versions as a Tcl list (`3.5 3.4`).
    pub versions: String,
}

/// The board part of the block design.
#[derive(Debug, Clone)]
pub struct BoardCtx {
    pub preset: &'static str,
    /// `vendor:board:part0`.
    pub board_part: &'static str,
    pub board_part_version: &'static str,
    pub board_files: &'static str,
    /// `zynq7`, `zynqmp` or `xdma`.
    pub shell: &'static str,
    pub zynq: bool,
    pub zynqmp: bool,
}

/// The PS of a Zynq block design: the cell's role in [`IPS`], its ports, its configuration.
#[derive(Debug, Clone)]
pub struct PsCtx {
    pub role: &'static str,
    pub rule: &'static str,
    pub automation: &'static str,
    pub master: &'static str,
    pub master_aclk: &'static str,
    pub slave: &'static str,
    pub slave_aclk: &'static str,
    pub clk: &'static str,
    pub resetn: &'static str,
    pub irq: &'static str,
    /// `CONFIG.KEY {value}` pairs.
    pub config: Vec<String>,
}

/// One device-tree node of the overlay.
#[derive(Debug, Clone)]
pub struct DtNode {
    pub name: String,
    pub unit: String,
    pub reg: String,
    pub spi: u32,
    pub comment: String,
}

/// Fields of every template under `templates/vivado/` (one context; each uses what it needs).
#[derive(Debug, Clone)]
pub struct VivadoContext {
    pub top: String,
    pub network: String,
    pub hash: String,
    pub full_part: String,
    pub family: &'static str,
    pub clock_mhz: u32,
    /// Clock period in ns, three decimals.
    pub clock_ns: String,
    pub rtl_files: Vec<String>,
    pub defs_file: &'static str,
    pub mem_files: Vec<String>,
    pub tdata_bits: u32,
    pub tdata_bytes: u32,
    pub addr_bits: u32,
    pub min_vivado: &'static str,
    pub max_vivado: &'static str,
    pub bd_name: &'static str,
    pub jobs: u32,
    pub ips: Vec<Ip>,
    /// The board preset and shell name (`none` without a board).
    pub preset: &'static str,
    pub shell: &'static str,
    pub board: Option<BoardCtx>,
    pub ps: Option<PsCtx>,
    /// The accelerator's and the DMA's address (hex) and range (hex).
    pub accel_base: String,
    pub accel_range: String,
    pub dma_base: String,
    pub dma_range: String,
    /// AXI DMA and XDMA properties, `CONFIG.KEY {value}`.
    pub dma_config: Vec<String>,
    pub xdma_config: Vec<String>,
    /// The stream's TDATA width in bytes at the XDMA (64 for 512 bits).
    pub xdma_tdata_bytes: u32,
    /// Overlay: address and size cells, interrupt parent, nodes, u-dma-buf.
    pub dt_cells: u32,
    pub dt_intc: &'static str,
    pub dt_nodes: Vec<DtNode>,
    pub firmware: String,
    pub udmabuf_name: &'static str,
    pub udmabuf_minor: u32,
    pub udmabuf_size: String,
    pub batch: u64,
    pub spi_mm2s: u32,
    pub dma_addr_bits: u32,
}

macro_rules! vivado_template {
    ($name:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $name<'a> {
            c: &'a VivadoContext,
        }
        impl std::ops::Deref for $name<'_> {
            type Target = VivadoContext;
            fn deref(&self) -> &VivadoContext {
                self.c
            }
        }
    };
}
vivado_template!(CommonTcl, "vivado/bramble.tcl");
vivado_template!(BuildTcl, "vivado/build.tcl");
vivado_template!(PackageTcl, "vivado/package_ip.tcl");
vivado_template!(OocTcl, "vivado/ooc.tcl");
vivado_template!(Makefile, "vivado/Makefile");
vivado_template!(Dtso, "vivado/overlay.dtso");

fn hex(v: u64) -> String {
    format!("0x{v:08x}")
}

fn config(pairs: &[(&str, String)]) -> Vec<String> {
    pairs
        .iter()
        .map(|(k, v)| format!("CONFIG.{k} {{{v}}}"))
        .collect()
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// The accelerator's and the DMA's address on a board: the accelerator at the start of the
/// board's region (aligned to its range, a power of two), the DMA right after it (aligned to its
/// own range). Without a DMA (XDMA) only the first is used.
pub fn addresses(board: &Board, accel_range: u64) -> (u64, u64) {
    let accel = align_up(board.region_base, accel_range);
    let dma = align_up(accel + accel_range, DMA_RANGE);
    (accel, dma)
}

fn ps(board: &Board, mhz: u32) -> Option<PsCtx> {
    let f = mhz.to_string();
    match board.shell {
        Shell::Zynq7 => Some(PsCtx {
            role: "ps7",
            rule: "xilinx.com:bd_rule:processing_system7",
            automation: "make_external \"FIXED_IO, DDR\" apply_board_preset \"1\" Master \"Disable\" Slave \"Disable\"",
            master: "M_AXI_GP0",
            master_aclk: "M_AXI_GP0_ACLK",
            slave: "S_AXI_HP0",
            slave_aclk: "S_AXI_HP0_ACLK",
            clk: "FCLK_CLK0",
            resetn: "FCLK_RESET0_N",
            irq: "IRQ_F2P",
            config: config(&[
                ("PCW_USE_M_AXI_GP0", "1".into()),
                ("PCW_USE_S_AXI_HP0", "1".into()),
                ("PCW_S_AXI_HP0_DATA_WIDTH", "64".into()),
                ("PCW_USE_FABRIC_INTERRUPT", "1".into()),
                ("PCW_IRQ_F2P_INTR", "1".into()),
                ("PCW_EN_CLK0_PORT", "1".into()),
                ("PCW_EN_RST0_PORT", "1".into()),
                ("PCW_FPGA0_PERIPHERAL_FREQMHZ", f),
            ]),
        }),
        Shell::ZynqMp => Some(PsCtx {
            role: "psu",
            rule: "xilinx.com:bd_rule:zynq_ultra_ps_e",
            automation: "apply_board_preset \"1\"",
            master: "M_AXI_HPM0_FPD",
            master_aclk: "maxihpm0_fpd_aclk",
            slave: "S_AXI_HP0_FPD",
            slave_aclk: "saxihp0_fpd_aclk",
            clk: "pl_clk0",
            resetn: "pl_resetn0",
            irq: "pl_ps_irq0",
            config: config(&[
                // HPM0_FPD is GP0, HPM1_FPD GP1, HPM0_LPD GP2; HP0_FPD is S_AXI_GP2.
                ("PSU__USE__M_AXI_GP0", "1".into()),
                ("PSU__USE__M_AXI_GP1", "0".into()),
                ("PSU__USE__M_AXI_GP2", "0".into()),
                ("PSU__MAXIGP0__DATA_WIDTH", "32".into()),
                ("PSU__USE__S_AXI_GP2", "1".into()),
                ("PSU__SAXIGP2__DATA_WIDTH", "64".into()),
                ("PSU__USE__IRQ0", "1".into()),
                ("PSU__FPGA_PL0_ENABLE", "1".into()),
                ("PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ", f),
            ]),
        }),
        Shell::Xdma => None,
    }
}

impl VivadoContext {
    /// The context of the bundle's `vivado/` files. `rtl_files` are the Verilog sources in
    /// compile order, `mem_files` the memory images (names inside `rtl/`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        top: &Ident,
        network: &Ident,
        hash: String,
        part: &Part,
        board: Option<&Board>,
        clock_mhz: u32,
        packing: &Packing,
        in_size: usize,
        out_size: usize,
        addr_bits: u32,
        rtl_files: Vec<String>,
        mem_files: Vec<String>,
    ) -> VivadoContext {
        let top_s = top.to_string();
        let accel_range = 1u64 << addr_bits;
        let tdata_bits = packing.tdata_bits();
        let (accel, dma) = board.map_or((0, 0), |b| addresses(b, accel_range));
        let batch = Batch::new(packing, in_size, out_size);
        let zynq = board.is_some_and(|b| b.shell.is_zynq());
        let full_part = board.map_or_else(
            || crate::hls::full_part(part.name),
            |b| b.full_part.to_string(),
        );
        let first_spi = board.map_or(0, |b| b.first_spi);
        let cells = if board.is_some_and(|b| b.shell == Shell::ZynqMp) {
            2
        } else {
            1
        };
        let reg = |base: u64, range: u64| {
            if cells == 2 {
                format!(
                    "0x{:x} 0x{:x} 0x{:x} 0x{:x}",
                    base >> 32,
                    base & 0xffff_ffff,
                    range >> 32,
                    range & 0xffff_ffff
                )
            } else {
                format!("0x{base:x} 0x{range:x}")
            }
        };
        let dt_nodes = if zynq {
            vec![
                DtNode {
                    name: abi_board::accel_uio_name(&top_s),
                    unit: format!("{accel:x}"),
                    reg: reg(accel, accel_range),
                    spi: first_spi + abi_board::IRQ_ACCEL,
                    comment: format!("the accelerator (irq_o, PL interrupt {})", abi_board::IRQ_ACCEL),
                },
                DtNode {
                    name: abi_board::dma_uio_name(&top_s),
                    unit: format!("{dma:x}"),
                    reg: reg(dma, DMA_RANGE),
                    spi: first_spi + abi_board::IRQ_S2MM,
                    comment: format!(
                        "the AXI DMA (s2mm_introut, PL interrupt {}; mm2s_introut is PL interrupt {}, SPI {}, not given to UIO)",
                        abi_board::IRQ_S2MM,
                        abi_board::IRQ_MM2S,
                        first_spi + abi_board::IRQ_MM2S
                    ),
                },
            ]
        } else {
            Vec::new()
        };
        let lite_mb = accel_range.div_ceil(1 << 20).next_power_of_two();
        let xdma_config = match board.and_then(|b| b.pcie) {
            Some((width, speed)) => config(&[
                ("PCIE_BOARD_INTERFACE", "pci_express_x16".into()),
                ("SYS_RST_N_BOARD_INTERFACE", "pcie_perstn".into()),
                ("mode_selection", "Advanced".into()),
                ("pl_link_cap_max_link_width", width.into()),
                ("pl_link_cap_max_link_speed", speed.into()),
                ("axi_data_width", "512_bit".into()),
                ("axisten_freq", "250".into()),
                ("xdma_axi_intf_mm", "AXI_Stream".into()),
                ("xdma_rnum_chnl", "1".into()),
                ("xdma_wnum_chnl", "1".into()),
                ("axilite_master_en", "true".into()),
                ("axilite_master_scale", "Megabytes".into()),
                ("axilite_master_size", lite_mb.to_string()),
                ("xdma_num_usr_irq", "1".into()),
            ]),
            None => Vec::new(),
        };
        VivadoContext {
            top: top_s.clone(),
            network: network.to_string(),
            hash,
            full_part,
            family: part.family.name(),
            clock_mhz,
            clock_ns: format!("{:.3}", 1000.0 / f64::from(clock_mhz)),
            rtl_files,
            defs_file: bramble_abi::verilog::DEFS_FILE,
            mem_files,
            tdata_bits,
            tdata_bytes: tdata_bits / 8,
            addr_bits,
            min_vivado: MIN_VIVADO,
            max_vivado: MAX_VIVADO,
            bd_name: BD_NAME,
            jobs: DEFAULT_JOBS,
            ips: IPS
                .iter()
                .map(|&(role, vlnv, versions)| Ip {
                    role,
                    vlnv,
                    versions: versions.join(" "),
                })
                .collect(),
            preset: board.map_or("none", |b| b.preset),
            shell: board.map_or("none", |b| b.shell.name()),
            board: board.map(|b| BoardCtx {
                preset: b.preset,
                board_part: b.board_part,
                board_part_version: b.board_part_version,
                board_files: b.board_files,
                shell: b.shell.name(),
                zynq: b.shell.is_zynq(),
                zynqmp: b.shell == Shell::ZynqMp,
            }),
            ps: board.and_then(|b| ps(b, clock_mhz)),
            accel_base: hex(accel),
            accel_range: hex(accel_range),
            dma_base: hex(dma),
            dma_range: hex(DMA_RANGE),
            dma_config: config(&[
                ("c_include_sg", "0".into()),
                ("c_sg_length_width", abi_board::DMA_LENGTH_BITS.to_string()),
                ("c_addr_width", abi_board::DMA_ADDR_BITS.to_string()),
                ("c_m_axi_mm2s_data_width", "64".into()),
                ("c_m_axis_mm2s_tdata_width", tdata_bits.to_string()),
                ("c_m_axi_s2mm_data_width", "64".into()),
                ("c_s_axis_s2mm_tdata_width", tdata_bits.to_string()),
                ("c_mm2s_burst_size", "16".into()),
                ("c_s2mm_burst_size", "16".into()),
            ]),
            xdma_config,
            xdma_tdata_bytes: 64,
            dt_cells: cells,
            dt_intc: if cells == 2 { "gic" } else { "intc" },
            dt_nodes,
            firmware: format!("{top_s}.bin"),
            udmabuf_name: abi_board::UDMABUF_NAME,
            udmabuf_minor: abi_board::UDMABUF_MINOR,
            udmabuf_size: hex(batch.udmabuf_bytes()),
            batch: batch.vectors(),
            spi_mm2s: first_spi + abi_board::IRQ_MM2S,
            dma_addr_bits: abi_board::DMA_ADDR_BITS,
        }
    }
}

fn render(t: &impl Template, name: &str) -> Result<Vec<u8>> {
    let mut text = t.render().map_err(|e| Error::Template {
        template: format!("vivado/{name}"),
        message: e.to_string(),
    })?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text.into_bytes())
}

/// The overlay's file name inside `vivado/`.
pub fn dtso_file(top: &str) -> String {
    format!("{top}.dtso")
}

/// Every file of `vivado/` (paths relative to the bundle): without a board the common procs,
/// package_ip.tcl, ooc.tcl and the Makefile; with a board also build.tcl, and on a Zynq board
/// the overlay.
pub fn files(c: &VivadoContext) -> Result<Vec<(String, Vec<u8>)>> {
    let f = |name: &str| format!("{VIVADO_DIR}/{name}");
    let mut out = vec![
        (f("bramble.tcl"), render(&CommonTcl { c }, "bramble.tcl")?),
        (
            f("package_ip.tcl"),
            render(&PackageTcl { c }, "package_ip.tcl")?,
        ),
        (f("ooc.tcl"), render(&OocTcl { c }, "ooc.tcl")?),
        (f("Makefile"), render(&Makefile { c }, "Makefile")?),
    ];
    if let Some(b) = &c.board {
        out.push((f("build.tcl"), render(&BuildTcl { c }, "build.tcl")?));
        if b.zynq {
            out.push((f(&dtso_file(&c.top)), render(&Dtso { c }, "overlay.dtso")?));
        }
    }
    Ok(out)
}

/// The `X_INTERFACE_INFO` / `X_INTERFACE_PARAMETER` attributes of the top level's ports, one
/// `(port, attribute lines)` pair per port, as package_ip.tcl and the block design's module
/// reference expect them (docs/vivado.md, "Interface attributes").
pub fn interface_attributes() -> Vec<(String, Vec<String>)> {
    let info = |vlnv: &str, bus: &str, sig: &str| {
        format!("(* X_INTERFACE_INFO = \"xilinx.com:{vlnv} {bus} {sig}\" *)")
    };
    let param = |p: &str| format!("(* X_INTERFACE_PARAMETER = \"{p}\" *)");
    let mut v = vec![
        (
            "clk_i".to_string(),
            vec![
                info("signal:clock:1.0", "clk_i", "CLK"),
                param("ASSOCIATED_BUSIF s_axil:s_axis:m_axis, ASSOCIATED_RESET rst_ni"),
            ],
        ),
        (
            "rst_ni".to_string(),
            vec![
                info("signal:reset:1.0", "rst_ni", "RST"),
                param("POLARITY ACTIVE_LOW"),
            ],
        ),
    ];
    let axil = [
        ("awaddr_i", "AWADDR"),
        ("awprot_i", "AWPROT"),
        ("awvalid_i", "AWVALID"),
        ("awready_o", "AWREADY"),
        ("wdata_i", "WDATA"),
        ("wstrb_i", "WSTRB"),
        ("wvalid_i", "WVALID"),
        ("wready_o", "WREADY"),
        ("bresp_o", "BRESP"),
        ("bvalid_o", "BVALID"),
        ("bready_i", "BREADY"),
        ("araddr_i", "ARADDR"),
        ("arprot_i", "ARPROT"),
        ("arvalid_i", "ARVALID"),
        ("arready_o", "ARREADY"),
        ("rdata_o", "RDATA"),
        ("rresp_o", "RRESP"),
        ("rvalid_o", "RVALID"),
        ("rready_i", "RREADY"),
    ];
    for (i, (suffix, sig)) in axil.iter().enumerate() {
        let mut lines = vec![info("interface:aximm:1.0", "s_axil", sig)];
        if i == 0 {
            lines.push(param("PROTOCOL AXI4LITE, DATA_WIDTH 32"));
        }
        v.push((format!("s_axil_{suffix}"), lines));
    }
    const AXIS: [(&str, &str, &str); 8] = [
        ("s_axis_tdata_i", "s_axis", "TDATA"),
        ("s_axis_tvalid_i", "s_axis", "TVALID"),
        ("s_axis_tready_o", "s_axis", "TREADY"),
        ("s_axis_tlast_i", "s_axis", "TLAST"),
        ("m_axis_tdata_o", "m_axis", "TDATA"),
        ("m_axis_tvalid_o", "m_axis", "TVALID"),
        ("m_axis_tready_i", "m_axis", "TREADY"),
        ("m_axis_tlast_o", "m_axis", "TLAST"),
    ];
    for (port, bus, sig) in AXIS {
        let mut lines = vec![info("interface:axis:1.0", bus, sig)];
        if sig == "TDATA" {
            lines.push(param("HAS_TKEEP 0, HAS_TSTRB 0, HAS_TLAST 1"));
        }
        v.push((port.to_string(), lines));
    }
    v.push((
        "irq_o".to_string(),
        vec![
            info("signal:interrupt:1.0", "irq_o", "INTERRUPT"),
            param("SENSITIVITY LEVEL_HIGH"),
        ],
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards::BOARDS;

    #[test]
    fn addresses_are_aligned_and_disjoint() {
        for b in BOARDS {
            for bits in [14u32, 16, 20, 22] {
                let range = 1u64 << bits;
                let (a, d) = addresses(b, range);
                assert_eq!(a % range, 0, "{}", b.preset);
                assert_eq!(d % DMA_RANGE, 0);
                assert!(d >= a + range, "{}: overlap", b.preset);
                assert!(a >= b.region_base);
            }
        }
        let pynq = crate::boards::find("pynq-z2").unwrap();
        assert_eq!(addresses(pynq, 0x4000), (0x43C0_0000, 0x43C1_0000));
    }

    #[test]
    fn every_port_has_an_attribute() {
        let a = interface_attributes();
        assert_eq!(a.len(), 2 + 19 + 8 + 1);
        for (port, lines) in &a {
            assert!(lines[0].contains("X_INTERFACE_INFO"), "{port}");
            assert!(lines.iter().all(|l| l.is_ascii() && !l.contains('$')));
        }
    }
}
