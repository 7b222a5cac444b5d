//! The bundle's `vivado/` (docs/vivado.md), checked without Vivado: every script runs to its end
//! under `tclsh` against a mock of the Vivado commands it uses (tests/vivado_mock/vivado.tcl:
//! each command's options checked against UG835, the IP catalog of each targeted release, each
//! IP's pins, address overlap and alignment), for every board preset and without a board. The
//! block design's part, board, cells, connections, interrupts and addresses are compared with the
//! board table, the device-tree overlay and the manifest; the overlay compiles with `dtc -@`; the
//! timing check fails a build with negative slack; the Makefile's version check is run with a fake
//! `vivado` on PATH; the interface attributes for the top level pass Verilator `-Wall`, Icarus and
//! Yosys. One snapshot per shell kind pins the generated text.

mod common;

use bramble::boards::{self, Board, Shell, BOARDS};
use bramble::generate::{self, Options};
use bramble::plan;
use bramble::vivado;
use bramble_abi::board as abi_board;
use bramble_abi::manifest::Manifest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn mock_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vivado_mock")
}

/// True when `tool` runs; in CI (`CI` set) a missing tool fails the test instead.
fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed (.ci/run installs it)"
        );
        eprintln!("{tool} not installed: skipped");
    }
    ok
}

fn tclsh() -> bool {
    have("tclsh", "/dev/null")
}

/// A bundle of the tiny network for `board` (or `part` without one), written under a temp dir.
struct Bundle {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    manifest: Manifest,
}

fn bundle(board: Option<&'static Board>, part: &str, tdata_bits: u32, mhz: Option<u32>) -> Bundle {
    let m = common::tiny();
    let (part, board) =
        boards::resolve(board.is_none().then_some(part), board.map(|b| b.preset)).unwrap();
    let (g, p) = plan::choose(&m, part, Some(2)).unwrap();
    let opts = Options {
        tb_count: 2,
        tdata_bits,
        board,
        clock_mhz: boards::clock_mhz(mhz, board).unwrap(),
        ..Default::default()
    };
    let b = generate::generate(&m, part, &g, &p, &opts).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    b.write(&dir, false).unwrap();
    Bundle {
        tmp,
        dir,
        manifest: b.manifest,
    }
}

/// What the mock recorded: the result of one script run.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    summary: Vec<String>,
    build: PathBuf,
}

impl Run {
    fn lines(&self, kind: &str) -> Vec<Vec<&str>> {
        self.summary
            .iter()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.first() == Some(&kind)).then(|| w[1..].to_vec())
            })
            .collect()
    }
    fn one(&self, kind: &str) -> String {
        let l = self.lines(kind);
        assert_eq!(l.len(), 1, "{kind}: {:?}", l);
        l[0].join(" ")
    }
}

/// Runs `script` of `b`'s vivado/ under tclsh with the mock, in a fresh build directory, with
/// extra environment `env`.
fn run(b: &Bundle, script: &str, env: &[(&str, &str)]) -> Run {
    let build = b.tmp.path().join(format!("build-{script}-{}", env.len()));
    std::fs::create_dir_all(&build).unwrap();
    let summary = build.join("summary.txt");
    let mut c = Command::new("tclsh");
    c.arg(mock_dir().join("run.tcl"))
        .arg(b.dir.join("vivado").join(script))
        .current_dir(&build)
        .env("MOCK_SUMMARY", &summary)
        .env_remove("BRAMBLE_VIVADO_BUILD")
        .env_remove("BRAMBLE_VIVADO_OUT");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run tclsh");
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        summary: std::fs::read_to_string(&summary)
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        build,
    }
}

fn ok(r: &Run, what: &str) {
    assert!(
        r.ok,
        "{what} failed:\n{}\n{}\n{:?}",
        r.stdout, r.stderr, r.summary
    );
    assert_eq!(r.summary.last().map(String::as_str), Some("end"), "{what}");
}

/// One device-tree node of the overlay: name, unit address, reg cells, interrupt cells.
#[derive(Debug)]
struct Node {
    name: String,
    unit: String,
    props: BTreeMap<String, String>,
}

/// The nodes of `&amba { ... }` in an overlay (one level, as bramble writes it).
fn overlay_nodes(text: &str) -> (BTreeMap<String, String>, Vec<Node>) {
    let amba = text.split("&amba {").nth(1).expect("an &amba fragment");
    let mut top = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut cur: Option<Node> = None;
    for line in amba.lines().map(str::trim) {
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix(" {") {
            let (name, unit) = head.split_once('@').unwrap_or((head, ""));
            cur = Some(Node {
                name: name.into(),
                unit: unit.into(),
                props: BTreeMap::new(),
            });
        } else if line == "};" {
            match cur.take() {
                Some(n) => nodes.push(n),
                None => break,
            }
        } else if let Some((k, v)) = line.trim_end_matches(';').split_once(" = ") {
            let v = v
                .trim_matches(|c| c == '<' || c == '>' || c == '"')
                .to_string();
            match &mut cur {
                Some(n) => {
                    n.props.insert(k.into(), v);
                }
                None => {
                    top.insert(k.into(), v);
                }
            }
        }
    }
    (top, nodes)
}

fn cells_value(v: &str) -> u64 {
    // `0x0 0xa0000000` (two cells) or `0x43c00000` (one).
    v.split_whitespace()
        .map(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).unwrap())
        .fold(0, |acc, c| (acc << 32) | c)
}

fn reg(node: &Node, cells: usize) -> (u64, u64) {
    let r: Vec<&str> = node.props["reg"].split_whitespace().collect();
    assert_eq!(r.len(), 2 * cells, "{node:?}");
    (
        cells_value(&r[..cells].join(" ")),
        cells_value(&r[cells..].join(" ")),
    )
}

fn hex(v: &str) -> u64 {
    u64::from_str_radix(v.trim_start_matches("0x"), 16).unwrap()
}

/// Every preset: build.tcl runs to its end; the part and board, every cell's VLNV, every
/// connection and interrupt, and the addresses are the table's, the overlay's and the
/// manifest's; the outputs land in out/.
#[test]
fn every_board_builds_under_the_mock() {
    if !tclsh() {
        return;
    }
    for board in BOARDS {
        let b = bundle(Some(board), "", 32, None);
        let r = run(&b, "build.tcl", &[]);
        ok(&r, board.preset);
        assert_eq!(r.one("part"), board.full_part);
        assert!(
            r.one("board_part").starts_with(board.board_part),
            "{}",
            board.preset
        );
        let nets: Vec<(String, String)> = r
            .lines("net")
            .iter()
            .map(|w| (w[0].to_string(), w[1].to_string()))
            .collect();
        let has = |a: &str, b: &str| nets.iter().any(|(x, y)| x == a && y == b);
        let intf = r.lines("intf");
        let has_intf = |a: &str, b: &str| intf.iter().any(|w| w[0] == a && w[1] == b);
        let addrs = r.lines("addr");
        let accel = addrs
            .iter()
            .find(|w| w[1] == "accel/s_axil/reg0")
            .expect("the accelerator has an address");
        assert_eq!(
            hex(accel[3]),
            b.manifest.address_space(),
            "{}",
            board.preset
        );
        assert!(
            has("ps/FCLK_CLK0", "accel/clk_i")
                || has("ps/pl_clk0", "accel/clk_i")
                || has("clk/clk_out1", "accel/clk_i")
        );
        let out = r.build.join("out");
        for f in [
            "tiny_top.bit",
            "tiny_top.hwh",
            "timing.rpt",
            "utilization.rpt",
        ] {
            assert!(out.join(f).is_file(), "{}: {f}", board.preset);
        }
        match board.shell {
            Shell::Zynq7 | Shell::ZynqMp => {
                let ps_irq = if board.shell == Shell::Zynq7 {
                    "ps/IRQ_F2P"
                } else {
                    "ps/pl_ps_irq0"
                };
                assert!(has(
                    "accel/irq_o",
                    &format!("irq/In{}", abi_board::IRQ_ACCEL)
                ));
                assert!(has(
                    "dma/mm2s_introut",
                    &format!("irq/In{}", abi_board::IRQ_MM2S)
                ));
                assert!(has(
                    "dma/s2mm_introut",
                    &format!("irq/In{}", abi_board::IRQ_S2MM)
                ));
                assert!(has("irq/dout", ps_irq));
                assert!(has_intf("dma/M_AXIS_MM2S", "accel/s_axis"));
                assert!(has_intf("accel/m_axis", "dma/S_AXIS_S2MM"));
                assert!(has_intf("ctrl_ic/M00_AXI", "accel/s_axil"));
                for f in ["tiny_top.xsa", "tiny_top.bin"] {
                    assert!(out.join(f).is_file(), "{}: {f}", board.preset);
                }
                let dma = addrs
                    .iter()
                    .find(|w| w[1] == "dma/S_AXI_LITE/Reg")
                    .expect("the DMA has an address");
                // The overlay: same addresses and sizes, interrupts = first SPI + line.
                let text = std::fs::read_to_string(b.dir.join("vivado/tiny_top.dtso")).unwrap();
                let (top, nodes) = overlay_nodes(&text);
                let cells: usize = top["#address-cells"].parse().unwrap();
                assert_eq!(cells, if board.shell == Shell::ZynqMp { 2 } else { 1 });
                let find = |n: &str| {
                    nodes
                        .iter()
                        .find(|x| x.name == n)
                        .unwrap_or_else(|| panic!("node {n}: {nodes:?}"))
                };
                let a = find(&abi_board::accel_uio_name(&b.manifest.top));
                let d = find(&abi_board::dma_uio_name(&b.manifest.top));
                assert_eq!(reg(a, cells), (hex(accel[2]), hex(accel[3])));
                assert_eq!(reg(d, cells), (hex(dma[2]), hex(dma[3])));
                assert_eq!(a.unit, format!("{:x}", hex(accel[2])));
                assert_eq!(d.unit, format!("{:x}", hex(dma[2])));
                let spi = |n: &Node| n.props["interrupts"].clone();
                assert_eq!(
                    spi(a),
                    format!("0 {} 4", board.first_spi + abi_board::IRQ_ACCEL)
                );
                assert_eq!(
                    spi(d),
                    format!("0 {} 4", board.first_spi + abi_board::IRQ_S2MM)
                );
                let u = find(abi_board::UDMABUF_NAME);
                assert_eq!(u.props["compatible"], "ikwzm,u-dma-buf");
                assert_eq!(u.props["device-name"], abi_board::UDMABUF_NAME);
                let batch = abi_board::Batch::of(&b.manifest);
                assert_eq!(hex(&u.props["size"]), batch.udmabuf_bytes());
                assert!(text.contains("firmware-name = \"tiny_top.bin\";"));
                // The block design wires exactly the order of bramble_abi::board.
                assert_eq!(abi_board::IRQ_LINES, 3);
            }
            Shell::Xdma => {
                assert!(has("accel/irq_o", "xdma/usr_irq_req"));
                assert!(has_intf("h2c_cc/M_AXIS", "accel/s_axis"));
                assert!(has_intf("accel/m_axis", "c2h_cc/S_AXIS"));
                assert_eq!(accel[0], "xdma/M_AXI_LITE");
                assert_eq!(hex(accel[2]), 0);
                assert!(!b.dir.join("vivado/tiny_top.dtso").exists());
                assert!(!out.join("tiny_top.bin").exists());
            }
        }
    }
}

/// The oldest and newest targeted releases build; the newest IP version the scripts know is
/// picked from each release's catalog; an older release is refused.
#[test]
fn oldest_and_newest_vivado_builds_and_older_is_refused() {
    if !tclsh() {
        return;
    }
    let b = bundle(boards::find("zcu102").ok(), "", 64, Some(250));
    for v in [vivado::MIN_VIVADO, vivado::MAX_VIVADO] {
        let r = run(&b, "build.tcl", &[("MOCK_VIVADO_VERSION", v)]);
        ok(&r, v);
    }
    let r = run(&b, "build.tcl", &[("MOCK_VIVADO_VERSION", "2022.1")]);
    assert!(r
        .summary
        .iter()
        .any(|l| l == "cell ps xilinx.com:ip:zynq_ultra_ps_e:3.4"));
    let r = run(&b, "build.tcl", &[("MOCK_VIVADO_VERSION", "2023.2")]);
    assert!(r
        .summary
        .iter()
        .any(|l| l == "cell ps xilinx.com:ip:zynq_ultra_ps_e:3.5"));
    let r = run(&b, "build.tcl", &[("MOCK_VIVADO_VERSION", "2021.2")]);
    assert!(!r.ok);
    assert!(r.stderr.contains("older than 2022.1"), "{}", r.stderr);
}

/// Timing not met (setup or hold), a failed run, or missing board files end the build with a
/// message, and nothing is copied to out/.
#[test]
fn failures_are_clear() {
    if !tclsh() {
        return;
    }
    let b = bundle(boards::find("pynq-z2").ok(), "", 32, None);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("MOCK_WNS", "-0.25")],
            "timing not met at 100 MHz: WNS -0.25 ns",
        ),
        (&[("MOCK_WHS", "-0.01")], "WHS -0.01 ns (hold)"),
        (&[("MOCK_FAIL_RUN", "synth_1")], "synthesis failed"),
        (&[("MOCK_FAIL_RUN", "impl_1")], "implementation failed"),
        (
            &[("MOCK_NO_BOARD_FILES", "1")],
            "board files for pynq-z2 (tul.com.tw:pynq-z2:part0) are not installed",
        ),
    ];
    for (env, msg) in cases {
        let r = run(&b, "build.tcl", env);
        assert!(!r.ok, "{env:?} did not fail");
        assert!(r.stderr.contains(msg), "{env:?}: {}", r.stderr);
        assert!(!r.build.join("out/tiny_top.bit").exists(), "{env:?}");
    }
    let b = bundle(None, "xcu250", 32, Some(300));
    let r = run(&b, "ooc.tcl", &[("MOCK_WNS", "-0.5")]);
    assert!(
        !r.ok && r.stderr.contains("timing not met at 300 MHz"),
        "{}",
        r.stderr
    );
}

/// Without a board: no build.tcl, no overlay; ooc.tcl runs at the clock asked for, and
/// package_ip.tcl refuses a top level without the interface attributes.
#[test]
fn without_a_board_ooc_and_ip_packaging() {
    if !tclsh() {
        return;
    }
    let b = bundle(None, "xc7z020", 32, Some(125));
    let names: Vec<String> = std::fs::read_dir(b.dir.join("vivado"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(
        names,
        ["Makefile", "bramble.tcl", "ooc.tcl", "package_ip.tcl"]
    );
    // Every vivado/ file is listed in the manifest, so the integrity check holds.
    for n in &names {
        assert!(
            b.manifest
                .files
                .iter()
                .any(|f| f.path == format!("vivado/{n}")),
            "{n}"
        );
    }
    b.manifest.check_files(&b.dir).unwrap();
    let r = run(&b, "ooc.tcl", &[]);
    ok(&r, "ooc.tcl");
    assert_eq!(r.one("part"), "xc7z020clg400-1");
    assert_eq!(r.one("synth"), "tiny_top");
    assert_eq!(r.one("clock"), "8.000 port:clk_i");
    assert!(r.build.join("ooc/timing.rpt").is_file());
    // The generated top carries the interface attributes: every interface is inferred.
    let r = run(&b, "package_ip.tcl", &[]);
    ok(&r, "package_ip.tcl");
    assert!(r.summary.iter().any(|l| l == "ipsaved"));
}

/// The generated top level (templates/top.v) carries the attributes of docs/vivado.md, and
/// package_ip.tcl infers every interface from them with the right mode and saves the core.
#[test]
fn package_ip_with_the_attributes() {
    if !tclsh() {
        return;
    }
    let b = bundle(None, "xczu9eg", 64, None);
    let top = std::fs::read_to_string(b.dir.join("rtl/tiny_top.v")).unwrap();
    for (port, lines) in bramble::vivado::interface_attributes() {
        let decl = top
            .lines()
            .position(|l| {
                let l = l.trim_start();
                (l.starts_with("input") || l.starts_with("output"))
                    && l.trim_end_matches(',').ends_with(&format!(" {port}"))
            })
            .unwrap_or_else(|| panic!("port {port} in the generated top"));
        let above: Vec<&str> = top.lines().collect();
        for (k, want) in lines.iter().rev().enumerate() {
            assert_eq!(above[decl - 1 - k].trim(), want, "attribute {k} of {port}");
        }
    }
    let r = run(&b, "package_ip.tcl", &[]);
    ok(&r, "package_ip.tcl");
    assert!(r.summary.iter().any(|l| l == "ipsaved"));
    assert_eq!(r.one("part"), "xczu9eg-ffvb1156-2-e");
}

/// The generated design, with the attribute lines on its top level, keeps Verilator -Wall,
/// Icarus and Yosys free of warnings.
#[test]
fn interface_attributes_are_accepted_by_the_tools() {
    // The generated design itself, top level and attributes included, for both TDATA widths.
    for tdata in [32, 64] {
        let b = bundle(None, "xczu9eg", tdata, None);
        let rtl = b.dir.join("rtl");
        let files = b.manifest.rtl_files.clone();
        let top = b.manifest.top.clone();
        if have("verilator", "--version") {
            let o = Command::new("verilator")
                .args(["--lint-only", "-Wall", "--top-module", &top])
                .args(&files)
                .current_dir(&rtl)
                .output()
                .unwrap();
            assert!(
                o.status.success() && o.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        if have("iverilog", "-V") {
            let o = Command::new("iverilog")
                .args(["-g2005", "-s", &top, "-o"])
                .arg(b.tmp.path().join("a.out"))
                .args(&files)
                .current_dir(&rtl)
                .output()
                .unwrap();
            assert!(
                o.status.success() && o.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        if have("yosys", "-V") {
            let o = Command::new("yosys")
                .args(["-q", "-p", &format!("hierarchy -top {top}; proc"), "--"])
                .args(&files)
                .current_dir(&rtl)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success() && !err.contains("Warning"), "{err}");
        }
    }
}

/// The overlays compile with `dtc -@` for a Zynq-7000 and a Zynq UltraScale+ bundle.
#[test]
fn overlays_compile_with_dtc() {
    if !have("dtc", "--version") {
        return;
    }
    for preset in ["pynq-z2", "ultra96v2", "zc706", "zcu102"] {
        let b = bundle(boards::find(preset).ok(), "", 64, None);
        let out = b.tmp.path().join("o.dtbo");
        let o = Command::new("dtc")
            .args(["-@", "-I", "dts", "-O", "dtb", "-o"])
            .arg(&out)
            .arg(b.dir.join("vivado/tiny_top.dtso"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{preset}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.stderr.is_empty(),
            "{preset}: dtc warns: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(std::fs::metadata(&out).unwrap().len() > 0);
    }
}

/// A fake `vivado` on PATH: `-version` prints `version`; batch mode runs the script under the
/// mock (so `make bit` goes through build.tcl end to end).
fn fake_vivado(dir: &Path, version: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = -version ]; then echo 'vivado v{version} (64-bit)'; echo 'SW Build 1 on today'; exit 0; fi\n\
         while [ $# -gt 0 ]; do if [ \"$1\" = -source ]; then src=$2; fi; shift; done\n\
         MOCK_VIVADO_VERSION={version} MOCK_SUMMARY=\"$BRAMBLE_VIVADO_BUILD/summary.txt\" exec tclsh {} \"$src\"\n",
        mock_dir().join("run.tcl").display()
    );
    let f = bin.join("vivado");
    std::fs::write(&f, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn make(b: &Bundle, bin: &Path, target: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("make")
        .arg("-C")
        .arg(b.dir.join("vivado"))
        .arg(target)
        .env("PATH", path)
        .env_remove("MAKEFLAGS")
        .output()
        .unwrap()
}

/// The Makefile prints the Vivado it found, refuses one older than the oldest targeted, and
/// `make bit` builds in a sibling of the bundle (which stays exactly as generated).
#[test]
fn makefile_checks_the_vivado_version() {
    if !have("make", "--version") || !tclsh() {
        return;
    }
    let b = bundle(boards::find("ultra96v2").ok(), "", 32, None);
    let old = fake_vivado(&b.tmp.path().join("old"), "2021.2");
    let o = make(&b, &old, "bit");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("Vivado 2021.2 is older than 2022.1"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("Vivado 2021.2"));

    let new = fake_vivado(&b.tmp.path().join("new"), "2024.2");
    let o = make(&b, &new, "bit");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("Vivado 2024.2"), "{out}");
    let build = b.tmp.path().join("tiny.vivado-build");
    for f in [
        "tiny_top.bit",
        "tiny_top.hwh",
        "tiny_top.xsa",
        "tiny_top.bin",
    ] {
        assert!(build.join("out").join(f).is_file(), "{f}");
    }
    b.manifest.check_files(&b.dir).unwrap();
    let o = make(&b, &new, "ooc");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = make(&b, &new, "clean");
    assert!(o.status.success());
    assert!(!build.exists());

    // Without a board `make bit` says why it cannot.
    let nb = bundle(None, "xc7z020", 32, None);
    let o = make(&nb, &new, "bit");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("without --board"));
}

/// `generate --board`: the part is implied, a contradicting --part is refused, --clock-mhz is
/// checked against the board.
#[test]
fn cli_board_and_part() {
    let d = common::tiny_dir(common::TINY_YAML);
    let net = d.path().join("net.yaml");
    let out = d.path().join("b");
    let run = |args: &[&str]| {
        let mut a: Vec<&std::ffi::OsStr> = vec!["generate".as_ref(), net.as_os_str()];
        a.extend(args.iter().map(|s| std::ffi::OsStr::new(*s)));
        a.extend(["-o".as_ref(), out.as_os_str(), "--force".as_ref()]);
        common::bramble(&a)
    };
    let o = run(&["--board", "zcu102", "--part", "xc7z020"]);
    assert_ne!(o.code, Some(0));
    assert!(
        o.stderr.contains("board zcu102 has a xczu9eg"),
        "{}",
        o.stderr
    );
    let o = run(&["--board", "pynq-z2", "--clock-mhz", "400"]);
    assert_ne!(o.code, Some(0));
    assert!(o.stderr.contains("--clock-mhz 400"), "{}", o.stderr);
    let o = run(&["--board", "nope"]);
    assert!(o.stderr.contains("known boards: pynq-z2"), "{}", o.stderr);
    let o = run(&[
        "--board",
        "zcu102",
        "--part",
        "xczu9eg-ffvb1156-2-e",
        "--clock-mhz",
        "150",
    ]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let m = Manifest::load(&out).unwrap();
    assert_eq!(m.part, "xczu9eg");
    let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
    assert!(tcl.contains("CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ {150}"));
    let o = run(&["--part", "xc7z020"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(!out.join("vivado/build.tcl").exists());
}

/// One snapshot per shell kind (and the overlay of each Zynq kind).
#[test]
fn snapshots_per_shell() {
    for (preset, shell) in [
        ("pynq-z2", "zynq7"),
        ("ultra96v2", "zynqmp"),
        ("u250", "xdma"),
    ] {
        let b = bundle(boards::find(preset).ok(), "", 32, None);
        let read = |p: &str| std::fs::read_to_string(b.dir.join("vivado").join(p)).unwrap();
        insta::assert_snapshot!(format!("vivado_{shell}_build_tcl"), read("build.tcl"));
        if shell != "xdma" {
            insta::assert_snapshot!(format!("vivado_{shell}_dtso"), read("tiny_top.dtso"));
        }
    }
    let b = bundle(None, "xc7z020", 32, None);
    let read = |p: &str| std::fs::read_to_string(b.dir.join("vivado").join(p)).unwrap();
    insta::assert_snapshot!("vivado_noboard_makefile", read("Makefile"));
    insta::assert_snapshot!("vivado_noboard_bramble_tcl", read("bramble.tcl"));
}

/// docs/vivado.md carries exactly the attribute lines of `interface_attributes`, each before its
/// port, in port order.
#[test]
fn docs_list_the_interface_attributes() {
    let doc = std::fs::read_to_string(common::workspace_root().join("docs/vivado.md")).unwrap();
    let block = doc
        .split("### Interface attributes")
        .nth(1)
        .and_then(|s| s.split("```verilog\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a verilog block under Interface attributes");
    let mut want = Vec::new();
    for (port, attrs) in vivado::interface_attributes() {
        want.extend(attrs);
        want.push(format!("<port {port}>"));
    }
    let got: Vec<String> = block
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with("(*") {
                l.to_string()
            } else {
                let port = l.trim_end_matches(',').split_whitespace().last().unwrap();
                format!("<port {port}>")
            }
        })
        .collect();
    assert_eq!(got, want);
}
