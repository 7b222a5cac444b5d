//! `bramble_defs.vh`: the register map and bit layouts of [`crate::regs`] as a Verilog-2005
//! include, so the hand-written RTL in `hw/`, the generated top level and the testbench take
//! every hardware constant from the same source as the host. Every value below is computed from
//! a constant of [`crate::regs`]; nothing is typed here a second time.

use std::fmt::Write as _;

use crate::regs;

/// File name of the include, written next to the RTL in every bundle's `rtl/`.
pub const DEFS_FILE: &str = "bramble_defs.vh";

/// Size of the path register the memory primitives build `<dir>/<image>` in when the
/// simulation passes `+bramble_mem_dir=<dir>` (hw/bramble_ram_sdp.v). Verilator 5.006 formats at
/// most 8192 bits per `$sformat` argument, so 1024 bytes is the most a Verilog-2005 register can
/// carry there.
pub const MEM_PATH_BYTES: usize = 1024;

/// The plusarg that carries the memory directory into the simulation (`+bramble_mem_dir=<dir>`).
pub const MEM_DIR_PLUSARG: &str = "bramble_mem_dir";

/// Longest memory directory the simulation accepts (bytes): the path register also holds the
/// `/` and an image name (generated names are under 24 bytes; this leaves 63).
pub const MAX_MEM_DIR_BYTES: usize = MEM_PATH_BYTES - 64;

/// Bit index of a one-bit mask.
fn bit(mask: u32) -> u32 {
    assert_eq!(
        mask.count_ones(),
        1,
        "internal error: {mask:#x} is not one bit"
    );
    mask.trailing_zeros()
}

/// Bits that index every register word of window 0.
fn reg_word_bits() -> u32 {
    let words = regs::ALL
        .iter()
        .map(|r| r.offset / 4 + 1)
        .max()
        .unwrap_or(1);
    words.next_power_of_two().trailing_zeros().max(1)
}

/// One aligned `` `define `` line.
fn define(s: &mut String, name: &str, value: String, comment: &str) {
    let _ = if comment.is_empty() {
        writeln!(s, "`define {name:<34} {value}")
    } else {
        writeln!(s, "`define {name:<34} {value:<14} // {comment}")
    };
}

/// The text of `bramble_defs.vh` for a design whose entries have a `gap_bits`-wide row gap (the
/// plan's choice, [`regs::entry`]). The hand-written modules' unit tests use
/// [`regs::entry::EIE_GAP_BITS`].
pub fn defs(gap_bits: u32) -> String {
    assert!(
        regs::entry::valid_gap_bits(gap_bits),
        "internal error: gap_bits {gap_bits} should have been checked by the planner"
    );
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// {DEFS_FILE}: register map and bit layouts of a Bramble accelerator \
         (docs/register-map.md).\n\
         //\n\
         // Generated from bramble-abi (abi/src/regs.rs) by bramble; do not edit. The host and the\n\
         // generator use the same constants, so the RTL, the testbench and the driver cannot disagree.\n\
         `ifndef BRAMBLE_DEFS_VH\n\
         `define BRAMBLE_DEFS_VH\n"
    );

    let _ = writeln!(s, "// Identification block");
    define(
        &mut s,
        "BRAMBLE_MAGIC",
        format!("32'h{:08X}", regs::MAGIC),
        "\"BRMB\", little-endian bytes",
    );
    define(
        &mut s,
        "BRAMBLE_REGMAP_VERSION",
        format!("32'd{}", regs::REGMAP_VERSION),
        "VERSION register",
    );

    let word_bits = reg_word_bits();
    let _ = writeln!(
        s,
        "\n// Window 0: byte offset of each register, and its word index (offset / 4)"
    );
    define(
        &mut s,
        "BRAMBLE_REG_WORD_BITS",
        word_bits.to_string(),
        "bits of a register word index",
    );
    for r in regs::ALL {
        define(
            &mut s,
            &format!("BRAMBLE_REG_{}", r.name),
            format!("32'h{:03X}", r.offset),
            "",
        );
    }
    for r in regs::ALL {
        define(
            &mut s,
            &format!("BRAMBLE_REG_{}_WORD", r.name),
            format!("{word_bits}'d{}", r.offset / 4),
            "",
        );
    }

    let _ = writeln!(
        s,
        "\n// Window rule: window >= MIN_WINDOW_BYTES, AXI address width >= MIN_ADDR_BITS"
    );
    define(
        &mut s,
        "BRAMBLE_MIN_WINDOW_BYTES",
        regs::MIN_WINDOW_BYTES.to_string(),
        "",
    );
    define(
        &mut s,
        "BRAMBLE_MIN_ADDR_BITS",
        regs::addr_bits(regs::MIN_WINDOW_BYTES).to_string(),
        "",
    );

    let _ = writeln!(
        s,
        "\n// CONTROL, STATUS, SCTRL, SSTATUS, WCTRL and WSTATUS: bit indices and masks"
    );
    for (name, mask) in [
        ("CONTROL_START", regs::CONTROL_START),
        ("CONTROL_IRQ_ENABLE", regs::CONTROL_IRQ_ENABLE),
        ("STATUS_DONE", regs::STATUS_DONE),
        ("STATUS_BUSY", regs::STATUS_BUSY),
        ("STATUS_IRQ_PENDING", regs::STATUS_IRQ_PENDING),
        ("SCTRL_RUN", regs::SCTRL_RUN),
        ("SCTRL_CYCLES_BEAT", regs::SCTRL_CYCLES_BEAT),
        ("SCTRL_CLEAR", regs::SCTRL_CLEAR),
        ("SSTATUS_COUNT", regs::SSTATUS_COUNT),
        ("SSTATUS_ACTIVE", regs::SSTATUS_ACTIVE),
        ("SSTATUS_FRAMING", regs::SSTATUS_FRAMING),
        ("WCTRL_LOAD", regs::WCTRL_LOAD),
        ("WCTRL_CLEAR", regs::WCTRL_CLEAR),
        ("WSTATUS_LOADED", regs::WSTATUS_LOADED),
        ("WSTATUS_ERROR", regs::WSTATUS_ERROR),
        ("WSTATUS_RUNTIME", regs::WSTATUS_RUNTIME),
    ] {
        define(
            &mut s,
            &format!("BRAMBLE_{name}_BIT"),
            bit(mask).to_string(),
            "",
        );
        define(
            &mut s,
            &format!("BRAMBLE_{name}"),
            format!("32'h{mask:08X}"),
            "",
        );
    }

    {
        use regs::geometry as g;
        let _ = writeln!(
            s,
            "\n// GEOMETRY: three fields of FIELD_BITS each, bits above are zero"
        );
        define(
            &mut s,
            "BRAMBLE_GEOMETRY_PES_LSB",
            g::PES_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_GEOMETRY_LAYERS_LSB",
            g::LAYERS_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_GEOMETRY_ACT_BITS_LSB",
            g::ACT_BITS_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_GEOMETRY_FIELD_BITS",
            g::FIELD_BITS.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_GEOMETRY_FIELD_MAX",
            g::FIELD_MAX.to_string(),
            "most PEs, layers",
        );
    }

    {
        use regs::sizes as z;
        let _ = writeln!(s, "\n// SIZES: input and output size, FIELD_BITS each");
        // The field positions are whatever `pack` does with a 1 in each field.
        define(
            &mut s,
            "BRAMBLE_SIZES_IN_LSB",
            z::pack(1, 0).trailing_zeros().to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_SIZES_OUT_LSB",
            z::pack(0, 1).trailing_zeros().to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_SIZES_FIELD_BITS",
            z::FIELD_BITS.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_SIZES_FIELD_MAX",
            z::MAX.to_string(),
            "largest size",
        );
    }

    {
        let _ = writeln!(
            s,
            "\n// STREAM: TDATA bits and lane bits, one byte each (the packing: bramble_abi::stream)"
        );
        define(
            &mut s,
            "BRAMBLE_STREAM_TDATA_LSB",
            regs::stream_format(1, 0).trailing_zeros().to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_STREAM_LANE_LSB",
            regs::stream_format(0, 1).trailing_zeros().to_string(),
            "",
        );
    }

    {
        use regs::layer_desc as d;
        let _ = writeln!(
            s,
            "\n// Layer descriptor (layers.mem): sizes and bases FIELD_BITS wide, then shift and ReLU"
        );
        define(
            &mut s,
            "BRAMBLE_DESC_WIDTH",
            d::WIDTH.to_string(),
            "bits of one descriptor word",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_FIELD_BITS",
            d::FIELD_BITS.to_string(),
            "sizes and bases",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_IN_SIZE_LSB",
            d::IN_SIZE_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_OUT_SIZE_LSB",
            d::OUT_SIZE_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_PTR_BASE_LSB",
            d::PTR_BASE_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_BIAS_BASE_LSB",
            d::BIAS_BASE_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_SHIFT_LSB",
            d::SHIFT_LSB.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_SHIFT_BITS",
            d::SHIFT_BITS.to_string(),
            "",
        );
        define(&mut s, "BRAMBLE_DESC_RELU_BIT", d::RELU_BIT.to_string(), "");
        define(
            &mut s,
            "BRAMBLE_DESC_PE_ROWS_LSB",
            d::PE_ROWS_LSB.to_string(),
            "rows per PE",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_PE_ROWS_BITS",
            d::PE_ROWS_BITS.to_string(),
            "",
        );
        define(
            &mut s,
            "BRAMBLE_DESC_USED_BITS",
            d::USED_BITS.to_string(),
            "bits above are zero",
        );
    }

    {
        use regs::entry as e;
        let _ = writeln!(
            s,
            "\n// Stored entry: {{row gap, codebook index}}; a longer gap inserts a padding entry.\n\
             // The gap width is this design's (the plan's choice, docs/sparse-format.md)."
        );
        define(&mut s, "BRAMBLE_ENTRY_GAP_BITS", gap_bits.to_string(), "");
        define(
            &mut s,
            "BRAMBLE_ENTRY_MAX_GAP",
            e::max_gap(gap_bits).to_string(),
            "",
        );
    }

    {
        use crate::weights as w;
        let _ = writeln!(
            s,
            "\n// Weight image (bramble_abi::weights): record headers, memory codes, CRC-32"
        );
        define(
            &mut s,
            "BRAMBLE_WIMG_WORD_BITS",
            w::WORD_BITS.to_string(),
            "bits of an image word",
        );
        define(
            &mut s,
            "BRAMBLE_WIMG_NOP",
            format!("32'h{:08X}", w::NOP),
            "the NOP header",
        );
        define(
            &mut s,
            "BRAMBLE_WIMG_END",
            format!("8'h{:02X}", w::END),
            "header [7:0] of END",
        );
        define(
            &mut s,
            "BRAMBLE_WIMG_MAX_WIDTH",
            w::MAX_WIDTH.to_string(),
            "widest memory word",
        );
        define(
            &mut s,
            "BRAMBLE_CRC32_POLY",
            format!("32'h{:08X}", w::CRC32_POLY),
            "reflected IEEE polynomial",
        );
        let mem_bits = w::mem_code_bits();
        define(
            &mut s,
            "BRAMBLE_WMEM_BITS",
            mem_bits.to_string(),
            "bits of a memory code on the write bus",
        );
        for m in w::Mem::ALL {
            define(
                &mut s,
                &format!("BRAMBLE_WMEM_{}", m.name().to_uppercase()),
                format!("{mem_bits}'d{}", m.code()),
                "",
            );
        }
    }

    {
        use regs::engine as g;
        let _ = writeln!(
            s,
            "\n// Engine constants shared by the hand-written modules"
        );
        define(
            &mut s,
            "BRAMBLE_ACT_FIFO_DEPTH",
            g::ACT_FIFO_DEPTH.to_string(),
            "PE activation FIFO",
        );
        define(
            &mut s,
            "BRAMBLE_BC_IN_FLIGHT",
            g::BC_IN_FLIGHT.to_string(),
            "broadcasts in flight past a full PE",
        );
        define(
            &mut s,
            "BRAMBLE_SHIFT_HI_BITS",
            g::SHIFT_HI_BITS.to_string(),
            "write-back coarse shift (x8)",
        );
    }

    let _ = writeln!(
        s,
        "\n// Simulation only: size of the <dir>/<image> path register (+bramble_mem_dir)"
    );
    define(
        &mut s,
        "BRAMBLE_MEM_PATH_BYTES",
        MEM_PATH_BYTES.to_string(),
        "",
    );
    // The one place the memory primitives load an image: a file name relative to the tool's
    // working directory, or (in the Verilator simulation library, which defines
    // BRAMBLE_MEM_DIR_PLUSARG) inside the directory the host passes as a plusarg. There the
    // generated top gives every PE the same image prefix "pe*_", so that all PEs are one module
    // and Verilator compiles the PE once (docs/benchmarks.md, "Verilator throughput"); the "*"
    // becomes k of the PE instance u_pe<k> the memory sits in, read from its instance path.
    s.push_str(
        &r#"
// `BRAMBLE_READMEMH(file, mem): an initial block loading a memory image (hex). In the
// simulation library (built by Verilator with BRAMBLE_MEM_DIR_PLUSARG) the image is
// <dir>/<file> (+@DIRARG@=<dir>), and a "*" in <file> stands for k of the PE instance u_pe<k>
// the memory is part of.
`ifdef BRAMBLE_MEM_DIR_PLUSARG
`define BRAMBLE_READMEMH(FILE, MEM) \
  initial begin : bramble_readmemh \
    reg [8*`BRAMBLE_MEM_PATH_BYTES-1:0] dir; \
    reg [8*`BRAMBLE_MEM_PATH_BYTES-1:0] path; \
    reg [8*`BRAMBLE_MEM_PATH_BYTES-1:0] name; \
    reg [8*`BRAMBLE_MEM_PATH_BYTES-1:0] scope; \
    integer i; \
    integer k; \
    integer star; \
    integer pe; \
    integer digits; \
    name = FILE; \
    star = -1; \
    for (i = 0; i < `BRAMBLE_MEM_PATH_BYTES; i = i + 1) \
      if (star < 0 && name[8*i +: 8] == "*") star = i; \
    if (star >= 0) begin \
      $sformat(scope, "%m"); \
      pe = -1; \
      for (i = `BRAMBLE_MEM_PATH_BYTES - 1; i >= 5; i = i - 1) \
        if (pe < 0 && scope[8*i +: 8] == "." && scope[8*(i-4) +: 32] == "u_pe" && \
            scope[8*(i-5) +: 8] >= "0" && scope[8*(i-5) +: 8] <= "9") begin \
          pe = 0; \
          digits = 1; \
          for (k = i - 5; k >= 0; k = k - 1) \
            if (digits != 0 && scope[8*k +: 8] >= "0" && scope[8*k +: 8] <= "9") \
              pe = pe * 10 + scope[8*k +: 8] - "0"; \
            else digits = 0; \
        end \
      if (pe < 0) begin \
        $display("bramble: %0s is not inside a PE instance u_pe<k> (image %0s)", scope, FILE); \
        $finish; \
      end \
      $sformat(name, "%0s%0d%0s", name >> (8 * (star + 1)), pe, \
               (name << (8 * (`BRAMBLE_MEM_PATH_BYTES - star))) >> \
               (8 * (`BRAMBLE_MEM_PATH_BYTES - star))); \
    end \
    if ($value$plusargs("@DIRARG@=%s", dir)) $sformat(path, "%0s/%0s", dir, name); \
    else path = name; \
    $readmemh(path, MEM); \
  end
`else
`define BRAMBLE_READMEMH(FILE, MEM) initial $readmemh(FILE, MEM);
`endif
"#
        .replace("@DIRARG@", MEM_DIR_PLUSARG),
    );

    s.push_str("\n`endif // BRAMBLE_DEFS_VH\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    /// The value of `` `define NAME value ``, without a trailing comment.
    fn value(text: &str, name: &str) -> Option<String> {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix("`define ")?;
            let (n, v) = rest.split_once(' ')?;
            (n == name).then(|| v.split("//").next().unwrap().trim().to_string())
        })
    }

    #[test]
    fn guarded_and_marked_generated() {
        let t = defs(regs::entry::EIE_GAP_BITS);
        assert!(
            t.contains("`ifndef BRAMBLE_DEFS_VH\n`define BRAMBLE_DEFS_VH\n"),
            "{t}"
        );
        assert!(t.trim_end().ends_with("`endif // BRAMBLE_DEFS_VH"), "{t}");
        assert!(t.contains("Generated from bramble-abi") && t.contains("do not edit"));
        assert_eq!(t.matches("`ifndef").count(), 1);
        // The guard, and the one `ifdef/`else choosing how `BRAMBLE_READMEMH loads an image.
        assert_eq!(t.matches("`ifdef").count(), 1);
        assert_eq!(t.matches("`else").count(), 1);
        assert_eq!(t.matches("`endif").count(), 2);
        assert!(t.is_ascii());
    }

    #[test]
    fn every_register_has_its_offset_and_word() {
        let t = defs(regs::entry::EIE_GAP_BITS);
        for r in regs::ALL {
            let off = value(&t, &format!("BRAMBLE_REG_{}", r.name)).unwrap();
            let hex = off.strip_prefix("32'h").unwrap();
            assert_eq!(
                u64::from_str_radix(hex, 16).unwrap(),
                r.offset,
                "{}",
                r.name
            );
            let word = value(&t, &format!("BRAMBLE_REG_{}_WORD", r.name)).unwrap();
            assert_eq!(word, format!("5'd{}", r.offset / 4), "{}", r.name);
        }
        // 24 registers: word indices 0..=23 need 5 bits.
        assert_eq!(value(&t, "BRAMBLE_REG_WORD_BITS").as_deref(), Some("5"));
        assert_eq!(value(&t, "BRAMBLE_STREAM_LANE_LSB").as_deref(), Some("8"));
        assert_eq!(value(&t, "BRAMBLE_MAGIC").as_deref(), Some("32'h424D5242"));
        assert_eq!(
            value(&t, "BRAMBLE_STATUS_IRQ_PENDING_BIT").as_deref(),
            Some("2")
        );
        assert_eq!(value(&t, "BRAMBLE_SIZES_OUT_LSB").as_deref(), Some("16"));
        assert_eq!(value(&t, "BRAMBLE_DESC_RELU_BIT").as_deref(), Some("104"));
        assert_eq!(value(&t, "BRAMBLE_ENTRY_GAP_BITS").as_deref(), Some("4"));
        let t8 = defs(8);
        assert_eq!(value(&t8, "BRAMBLE_ENTRY_GAP_BITS").as_deref(), Some("8"));
        assert_eq!(value(&t8, "BRAMBLE_ENTRY_MAX_GAP").as_deref(), Some("255"));
        assert_eq!(value(&t, "BRAMBLE_MIN_ADDR_BITS").as_deref(), Some("14"));
    }

    #[test]
    fn every_name_is_defined_once() {
        let t = defs(regs::entry::EIE_GAP_BITS);
        let mut names: Vec<&str> = t
            .lines()
            .filter_map(|l| l.strip_prefix("`define ")?.split([' ', '(']).next())
            // Defined once in each branch of its `ifdef.
            .filter(|&n| n != "BRAMBLE_READMEMH")
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "a define appears twice");
    }

    /// One check of the test module: `expr` must equal `want`.
    fn check(m: &mut String, expr: &str, want: u128) {
        let _ = writeln!(
            m,
            "if (({expr}) !== 128'd{want}) begin $display(\"BAD {}\"); bad = bad + 1; end",
            expr.replace('"', "'")
        );
    }

    /// A Verilog module that includes the defs twice (the guard) and compares every macro with
    /// the Rust packing: GEOMETRY, SIZES and a descriptor word decoded through the macros.
    fn check_module(gap_bits: u32) -> String {
        let mut m = String::from(
            "`include \"bramble_defs.vh\"\n`include \"bramble_defs.vh\"\nmodule t;\n\
             reg [`BRAMBLE_DESC_WIDTH-1:0] d;\ninteger bad;\ninitial begin\nbad = 0;\n",
        );
        for r in regs::ALL {
            check(
                &mut m,
                &format!("`BRAMBLE_REG_{}", r.name),
                r.offset as u128,
            );
            let word = format!("`BRAMBLE_REG_{}_WORD", r.name);
            check(&mut m, &word, (r.offset / 4) as u128);
        }
        check(&mut m, "`BRAMBLE_MAGIC", regs::MAGIC as u128);
        check(
            &mut m,
            "`BRAMBLE_REGMAP_VERSION",
            regs::REGMAP_VERSION as u128,
        );
        check(
            &mut m,
            "`BRAMBLE_CONTROL_START | `BRAMBLE_CONTROL_IRQ_ENABLE",
            (regs::CONTROL_START | regs::CONTROL_IRQ_ENABLE) as u128,
        );
        check(
            &mut m,
            "(32'd1 << `BRAMBLE_STATUS_DONE_BIT) | (32'd1 << `BRAMBLE_STATUS_BUSY_BIT) | \
             (32'd1 << `BRAMBLE_STATUS_IRQ_PENDING_BIT)",
            (regs::STATUS_DONE | regs::STATUS_BUSY | regs::STATUS_IRQ_PENDING) as u128,
        );
        check(
            &mut m,
            "((200 & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_PES_LSB) | \
             ((3 & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_LAYERS_LSB) | \
             ((16 & `BRAMBLE_GEOMETRY_FIELD_MAX) << `BRAMBLE_GEOMETRY_ACT_BITS_LSB)",
            regs::geometry::pack(200, 3, 16) as u128,
        );
        check(
            &mut m,
            "((784 & `BRAMBLE_SIZES_FIELD_MAX) << `BRAMBLE_SIZES_IN_LSB) | \
             ((10 & `BRAMBLE_SIZES_FIELD_MAX) << `BRAMBLE_SIZES_OUT_LSB)",
            regs::sizes::pack(784, 10) as u128,
        );
        let desc = regs::layer_desc::LayerDesc {
            in_size: 784,
            out_size: 300,
            ptr_base: 0xABCDE,
            bias_base: 77,
            shift: 13,
            relu: true,
            pe_rows: 38,
        };
        let _ = writeln!(m, "d = 128'h{:032x};", desc.pack());
        for (lsb, bits, want) in [
            ("IN_SIZE_LSB", "FIELD_BITS", desc.in_size as u128),
            ("OUT_SIZE_LSB", "FIELD_BITS", desc.out_size as u128),
            ("PTR_BASE_LSB", "FIELD_BITS", desc.ptr_base as u128),
            ("BIAS_BASE_LSB", "FIELD_BITS", desc.bias_base as u128),
            ("SHIFT_LSB", "SHIFT_BITS", desc.shift as u128),
            ("PE_ROWS_LSB", "PE_ROWS_BITS", desc.pe_rows as u128),
        ] {
            let field = format!("d[`BRAMBLE_DESC_{lsb} +: `BRAMBLE_DESC_{bits}]");
            check(&mut m, &field, want);
        }
        check(&mut m, "d[`BRAMBLE_DESC_RELU_BIT]", 1);
        check(&mut m, "d >> `BRAMBLE_DESC_USED_BITS", 0);
        check(
            &mut m,
            "`BRAMBLE_ENTRY_MAX_GAP",
            regs::entry::max_gap(gap_bits) as u128,
        );
        check(
            &mut m,
            "(1 << `BRAMBLE_ENTRY_GAP_BITS) - 1",
            regs::entry::max_gap(gap_bits) as u128,
        );
        for mem in crate::weights::Mem::ALL {
            check(
                &mut m,
                &format!("`BRAMBLE_WMEM_{}", mem.name().to_uppercase()),
                mem.code() as u128,
            );
        }
        check(
            &mut m,
            "`BRAMBLE_CRC32_POLY",
            crate::weights::CRC32_POLY as u128,
        );
        check(&mut m, "`BRAMBLE_WIMG_END", crate::weights::END as u128);
        check(
            &mut m,
            "`BRAMBLE_WSTATUS_LOADED | `BRAMBLE_WSTATUS_ERROR | `BRAMBLE_WSTATUS_RUNTIME",
            (regs::WSTATUS_LOADED | regs::WSTATUS_ERROR | regs::WSTATUS_RUNTIME) as u128,
        );
        m.push_str("if (bad == 0) $display(\"DEFS OK\");\n$finish;\nend\nendmodule\n");
        m
    }

    /// Compiles the include under Icarus and runs the checks; skipped where iverilog is absent
    /// (the generator's RTL tests run every tool on it in any case).
    #[test]
    fn compiles_under_icarus_and_agrees_with_rust() {
        if Command::new("iverilog").arg("-V").output().is_err() {
            eprintln!("iverilog not installed; skipped");
            return;
        }
        // Every gap width the planner may choose.
        for gap_bits in regs::entry::MIN_GAP_BITS..=regs::entry::MAX_GAP_BITS {
            let dir: PathBuf = std::env::temp_dir().join(format!(
                "bramble-abi-defs-{}-{:?}-{gap_bits}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("inc")).unwrap();
            std::fs::write(dir.join("inc").join(DEFS_FILE), defs(gap_bits)).unwrap();
            std::fs::write(dir.join("t.v"), check_module(gap_bits)).unwrap();
            let vvp = dir.join("t.vvp");
            let c = Command::new("iverilog")
                .args(["-g2005", "-Wall", "-o"])
                .arg(&vvp)
                .arg(format!("-I{}", dir.join("inc").display()))
                .arg(dir.join("t.v"))
                .output()
                .unwrap();
            let text = |o: &std::process::Output| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            };
            assert!(c.status.success(), "iverilog: {}", text(&c));
            let r = Command::new("vvp").arg("-n").arg(&vvp).output().unwrap();
            let out = text(&r);
            let _ = std::fs::remove_dir_all(&dir);
            assert!(
                out.contains("DEFS OK") && !out.contains("BAD"),
                "{gap_bits}: {out}"
            );
        }
    }
}
