//! The `bramble-host` binary: exit codes, printed identification, `load` on a fake
//! fpga_manager, and `run --json` on the simulated stand-in.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bramble-host"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A .npy v1.0 file: `descr` like "<f8", data already little-endian.
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let shape = bramble_abi::array::write::shape_text(shape);
    std::fs::write(
        path,
        bramble_abi::array::write::npy_bytes(descr, false, &shape, data),
    )
    .unwrap();
}

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

struct Uio {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bundle: PathBuf,
}

fn uio_tree(sizes_word: u32) -> Uio {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let bundle = root.join("bundle");
    write_bundle(&bundle, &standin_manifest("standin_top"));
    let d = root.join("sys/class/uio/uio0");
    std::fs::create_dir_all(d.join("maps/map0")).unwrap();
    std::fs::write(d.join("name"), "standin_top\n").unwrap();
    std::fs::write(d.join("maps/map0/size"), "0x4000\n").unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    let mut img = id_image();
    img[0x14..0x18].copy_from_slice(&sizes_word.to_le_bytes());
    std::fs::write(root.join("dev/uio0"), img).unwrap();
    Uio {
        _dir: dir,
        root,
        bundle,
    }
}

fn uio_args(t: &Uio) -> Vec<String> {
    vec![
        "--backend".into(),
        "uio".into(),
        "--sysfs-root".into(),
        t.root.join("sys").display().to_string(),
        "--dev-root".into(),
        t.root.join("dev").display().to_string(),
        "--no-irq".into(),
    ]
}

#[test]
fn info_prints_and_checks_the_identification_block() {
    let t = uio_tree(4 | (3 << 16));
    let o = bin()
        .arg("info")
        .args(uio_args(&t))
        .arg("--bundle")
        .arg(&t.bundle)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("MAGIC     0x424d5242 (BRMB)"), "{out}");
    assert!(out.contains("HASH      9f86d081884c7d65"), "{out}");
    assert!(out.contains("2 PEs, 1 layers, 16-bit activations"), "{out}");
    assert!(out.contains("matches bundle standin"), "{out}");

    // Without a bundle: just prints (needs the UIO name).
    let o = bin()
        .arg("info")
        .args(uio_args(&t))
        .args(["--uio-name", "standin_top"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    // A backend option missing for uio without a bundle is a usage error.
    let o = bin().arg("info").args(uio_args(&t)).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--uio-name"), "{:?}", text(&o));
}

#[test]
fn info_mismatch_exits_3_with_the_field() {
    let t = uio_tree(4 | (9 << 16));
    let o = bin()
        .arg("info")
        .args(uio_args(&t))
        .arg("--bundle")
        .arg(&t.bundle)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}\n{err}");
    assert!(
        out.contains("SIZES     4 inputs, 9 outputs"),
        "printed before the check: {out}"
    );
    assert!(err.contains("SIZES output: expected 3, found 9"), "{err}");
    assert_eq!(
        err.matches("error:").count(),
        1,
        "chain printed once: {err}"
    );
}

#[test]
fn absent_device_exits_5() {
    let t = uio_tree(4 | (3 << 16));
    let o = bin()
        .arg("info")
        .args(uio_args(&t))
        .args(["--uio-name", "other"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{:?}", text(&o));
}

#[test]
fn load_checks_the_part_and_writes_through_fpga_manager() {
    let t = uio_tree(0);
    let mgr = t.root.join("sys/class/fpga_manager/fpga0");
    std::fs::create_dir_all(&mgr).unwrap();
    for (f, v) in [("flags", ""), ("firmware", ""), ("state", "operating\n")] {
        std::fs::write(mgr.join(f), v).unwrap();
    }
    let fw = t.root.join("firmware");
    std::fs::create_dir_all(&fw).unwrap();
    let good = t.root.join("good.bit");
    let data: Vec<u8> = (0..64).collect();
    std::fs::write(
        &good,
        bramble_host::bitstream::build("top", "7z020clg400", "2026/11/27", "16:00:00", &data),
    )
    .unwrap();
    let run = |bit: &Path, extra: &[&str]| {
        bin()
            .arg("load")
            .arg(bit)
            .arg("--bundle")
            .arg(&t.bundle)
            .arg("--sysfs-root")
            .arg(t.root.join("sys"))
            .arg("--firmware-dir")
            .arg(&fw)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&good, &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("part 7z020clg400"), "{out}");
    assert!(fw.join("good.bin").is_file());
    assert_eq!(
        std::fs::read_to_string(mgr.join("firmware")).unwrap(),
        "good.bin\n"
    );

    let bin_out = t.root.join("out.bin");
    let o = run(&good, &["--bin-out", bin_out.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(std::fs::read(&bin_out).unwrap()[..4], [3, 2, 1, 0]);

    let wrong = t.root.join("wrong.bit");
    std::fs::write(
        &wrong,
        bramble_host::bitstream::build("top", "7z010clg400", "2026/11/27", "16:00:00", &data),
    )
    .unwrap();
    let o = run(&wrong, &[]);
    assert_eq!(o.status.code(), Some(6), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("is for part 7z010clg400"),
        "{:?}",
        text(&o)
    );
    assert!(!fw.join("wrong.bin").exists());

    let cut = t.root.join("cut.bit");
    std::fs::write(&cut, &std::fs::read(&good).unwrap()[..40]).unwrap();
    let o = run(&cut, &[]);
    assert_eq!(o.status.code(), Some(6), "{:?}", text(&o));
    assert!(text(&o).1.contains("truncated"), "{:?}", text(&o));
}

/// `bramble-host run` on a file stand-in with no hardware behind it: DONE, outputs and CYCLES are
/// pre-set in the register image. Returns the tree (to inspect the image) and the output.
fn run_on_preset_uio(json: bool) -> (Uio, Output) {
    let t = uio_tree(4 | (3 << 16));
    let node = t.root.join("dev/uio0");
    let mut img = std::fs::read(&node).unwrap();
    for (off, w) in [
        (0x24usize, 1u32),
        (0x28, 99),
        (0x2000, 7),
        (0x2004, (-2i32) as u32),
        (0x2008, 512),
    ] {
        img[off..off + 4].copy_from_slice(&w.to_le_bytes());
    }
    std::fs::write(&node, img).unwrap();
    let x = t.root.join("x.npy");
    write_npy(&x, "<f8", &[4], &f64s(&[0.5, 0.25, 0.0, -1.0]));
    let mut cmd = bin();
    cmd.arg("run")
        .args(uio_args(&t))
        .arg("--bundle")
        .arg(&t.bundle)
        .arg("--input")
        .arg(&x);
    if json {
        cmd.arg("--json");
    }
    let o = cmd.output().unwrap();
    (t, o)
}

#[test]
fn run_json_on_a_board_backend() {
    let (t, o) = run_on_preset_uio(true);
    let node = t.root.join("dev/uio0");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["raw"], serde_json::json!([[7, -2, 512]]));
    assert_eq!(
        v["outputs"],
        serde_json::json!([[7.0 / 256.0, -2.0 / 256.0, 2.0]])
    );
    assert_eq!(v["cycles"], serde_json::json!([99]));
    let img = std::fs::read(&node).unwrap();
    assert_eq!(word(&img, 0x1000), 128);
    assert_eq!(word(&img, 0x100C), (-256i32) as u32);
    assert_eq!(word(&img, 0x20), 1, "START written");
}

#[test]
fn bad_input_files_exit_7() {
    let t = uio_tree(4 | (3 << 16));
    type Case = (
        &'static str,
        &'static str,
        Vec<usize>,
        Vec<u8>,
        &'static str,
    );
    let cases: [Case; 3] = [
        ("int.npy", "<i4", vec![4], vec![0; 16], "float32 or float64"),
        (
            "cube.npy",
            "<f8",
            vec![1, 1, 4],
            f64s(&[0.0; 4]),
            "1-D or 2-D",
        ),
        (
            "wide.npy",
            "<f8",
            vec![1, 5],
            f64s(&[0.0; 5]),
            "inputs have 5 values per row but the bundle `standin` expects 4 (input.size)",
        ),
    ];
    for (name, descr, shape, data, expect) in cases {
        let x = t.root.join(name);
        write_npy(&x, descr, &shape, &data);
        let o = bin()
            .arg("run")
            .args(uio_args(&t))
            .arg("--bundle")
            .arg(&t.bundle)
            .arg("--input")
            .arg(&x)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(7), "{name}: {:?}", text(&o));
        assert!(text(&o).1.contains(expect), "{name}: {:?}", text(&o));
    }
}

#[cfg(feature = "sim")]
#[test]
fn run_sim_json_and_timeout_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    write_bundle(&bundle, &standin_manifest("standin_top"));
    let x = dir.path().join("x.npy");
    let rows = [
        [0.5f32, -0.25, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [-1.0, 2.0, 3.0, 4.0],
    ];
    let data: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write_npy(&x, "<f4", &[3, 4], &data);
    let o = bin()
        .args(["run", "--backend", "sim", "--json", "--bundle"])
        .arg(&bundle)
        .arg("--input")
        .arg(&x)
        .arg("--sim-cache")
        .arg(sim_cache())
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        err.is_empty(),
        "no progress output when stderr is not a terminal: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (i, r) in rows.iter().enumerate() {
        let q: Vec<i64> = r
            .iter()
            .map(|&f| (f as f64 * 256.0).round() as i64)
            .collect();
        assert_eq!(
            v["raw"][i],
            serde_json::json!(standin_expected(&q)),
            "row {i}"
        );
    }
    assert_eq!(v["cycles"], serde_json::json!([LATENCY, LATENCY, LATENCY]));
    // Streamed through the simulated DMA: the batch's cycles from first input to last output.
    let total = v["total_cycles"].as_u64().unwrap();
    assert!(total >= 3 * LATENCY, "{total}");

    // --batch 2: two batches (2 + 1 vectors), the same outputs, total_cycles summed.
    let o = bin()
        .args([
            "run",
            "--backend",
            "sim",
            "--json",
            "--batch",
            "2",
            "--bundle",
        ])
        .arg(&bundle)
        .arg("--input")
        .arg(&x)
        .arg("--sim-cache")
        .arg(sim_cache())
        .output()
        .unwrap();
    let (out2, err2) = text(&o);
    assert!(o.status.success(), "{out2}\n{err2}");
    let v2: serde_json::Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(v2["raw"], v["raw"]);
    assert!(v2["total_cycles"].as_u64().unwrap() >= 3 * LATENCY);

    let stall = dir.path().join("stall");
    write_bundle(&stall, &standin_manifest("standin_stall_top"));
    let o = bin()
        .args(["run", "--backend", "sim", "--timeout", "200ms", "--bundle"])
        .arg(&stall)
        .arg("--input")
        .arg(&x)
        .arg("--sim-cache")
        .arg(sim_cache())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("simulated cycles reached"),
        "{:?}",
        text(&o)
    );
}

#[cfg(not(feature = "sim"))]
#[test]
fn board_build_refuses_the_sim_backend_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    write_bundle(&bundle, &standin_manifest("standin_top"));
    let x = dir.path().join("x.npy");
    write_npy(&x, "<f8", &[4], &f64s(&[0.0; 4]));
    let o = bin()
        .args(["run", "--backend", "sim", "--bundle"])
        .arg(&bundle)
        .arg("--input")
        .arg(&x)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("without the `sim` feature"),
        "{:?}",
        text(&o)
    );
}

/// A UIO tree plus a fake fpga_manager in `state`, a firmware directory and a good `.bit`.
struct Fpga {
    t: Uio,
    fw: PathBuf,
    bit: PathBuf,
}

fn fpga_tree(state: &str) -> Fpga {
    let t = uio_tree(0);
    let mgr = t.root.join("sys/class/fpga_manager/fpga0");
    std::fs::create_dir_all(&mgr).unwrap();
    for (f, v) in [("flags", ""), ("firmware", ""), ("state", state)] {
        std::fs::write(mgr.join(f), v).unwrap();
    }
    let fw = t.root.join("firmware");
    std::fs::create_dir_all(&fw).unwrap();
    let bit = t.root.join("good.bit");
    let data: Vec<u8> = (0..64).collect();
    std::fs::write(
        &bit,
        bramble_host::bitstream::build("top", "7z020clg400", "2026/11/27", "16:00:00", &data),
    )
    .unwrap();
    Fpga { t, fw, bit }
}

fn load(f: &Fpga, bit: &Path, extra: &[&std::ffi::OsStr]) -> Output {
    bin()
        .arg("load")
        .arg(bit)
        .arg("--bundle")
        .arg(&f.t.bundle)
        .arg("--sysfs-root")
        .arg(f.t.root.join("sys"))
        .arg("--firmware-dir")
        .arg(&f.fw)
        .args(extra)
        .output()
        .unwrap()
}

/// Regression: an fpga_manager `error` state was a generic backend error, so `load` exited 1; the
/// documented code for a failed load is 6.
#[test]
fn load_error_state_exits_6() {
    let f = fpga_tree("write error\n");
    let o = load(&f, &f.bit, &["--timeout".as_ref(), "30s".as_ref()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}\n{err}");
    assert!(err.contains("state is `write error`"), "{err}");
    assert!(err.contains("good.bin"), "names the image: {err}");
    assert_eq!(
        err.matches("error:").count(),
        1,
        "chain printed once: {err}"
    );
    assert!(out.is_empty(), "{out}");
}

/// Regression: `--bin-out` onto the `.bit` itself (or a link to it) destroyed the input: it was
/// truncated and replaced by its own byte-swapped data. Now refused, with or without `--force`,
/// and an existing output is replaced only with `--force`, atomically.
#[test]
fn bin_out_never_overwrites_the_bitstream_and_needs_force_to_replace() {
    let f = fpga_tree("operating\n");
    let original = std::fs::read(&f.bit).unwrap();
    let hard = f.t.root.join("hard.bin");
    std::fs::hard_link(&f.bit, &hard).unwrap();
    let soft = f.t.root.join("soft.bin");
    std::os::unix::fs::symlink(&f.bit, &soft).unwrap();
    for out in [&f.bit, &hard, &soft] {
        for force in [false, true] {
            let mut extra = vec![std::ffi::OsStr::new("--bin-out"), out.as_os_str()];
            if force {
                extra.push("--force".as_ref());
            }
            let o = load(&f, &f.bit, &extra);
            let (stdout, err) = text(&o);
            assert_eq!(o.status.code(), Some(1), "{out:?} {force}: {stdout}\n{err}");
            assert!(err.contains("same file as the input"), "{err}");
            assert_eq!(std::fs::read(&f.bit).unwrap(), original, "{out:?} {force}");
        }
    }
    // Into the bundle directory: refused too (it would break the bundle's file list).
    let inside = f.t.bundle.join("x.bin");
    let o = load(&f, &f.bit, &["--bin-out".as_ref(), inside.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(!inside.exists());

    // A new file is written; an existing one only with --force.
    let dest = f.t.root.join("out.bin");
    let o = load(&f, &f.bit, &["--bin-out".as_ref(), dest.as_os_str()]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(std::fs::read(&dest).unwrap()[..4], [3, 2, 1, 0]);
    std::fs::write(&dest, b"keep").unwrap();
    let o = load(&f, &f.bit, &["--bin-out".as_ref(), dest.as_os_str()]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("--force"), "{:?}", text(&o));
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep");
    let o = load(
        &f,
        &f.bit,
        &["--bin-out".as_ref(), dest.as_os_str(), "--force".as_ref()],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(std::fs::read(&dest).unwrap()[..4], [3, 2, 1, 0]);
    let names: Vec<String> = std::fs::read_dir(&f.t.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "no temporary left: {names:?}");
    // Nothing was loaded: --bin-out only converts.
    assert!(std::fs::read_dir(&f.fw).unwrap().next().is_none());
    // --force means nothing without --bin-out.
    let o = load(&f, &f.bit, &["--force".as_ref()]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
}

/// The text form of `run` is the one `bramble run` / `bramble sim` print (the host library's
/// `report` module): `bramble infer`'s lines plus cycles.
#[test]
fn run_text_on_a_board_backend() {
    let (_t, o) = run_on_preset_uio(false);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(
        out,
        "0: outputs [0.02734375, -0.0078125, 2.0]\n0: raw     [7, -2, 512]\n0: cycles  99\n"
    );
}

/// Bad bundles exit 7 like bad input files: an invalid manifest (any backend), and for the
/// simulator a bundle file that is not the one listed (checked before anything is built).
#[test]
fn bad_bundles_exit_7() {
    let t = uio_tree(4 | (3 << 16));
    let x = t.root.join("x.npy");
    write_npy(&x, "<f8", &[4], &f64s(&[0.0; 4]));
    let run = |extra: &[&str]| {
        bin()
            .arg("run")
            .args(extra)
            .arg("--bundle")
            .arg(&t.bundle)
            .arg("--input")
            .arg(&x)
            .output()
            .unwrap()
    };
    let rtl = t.bundle.join("rtl/standin_top.v");
    let v = std::fs::read_to_string(&rtl).unwrap();
    std::fs::write(&rtl, format!("{v}\n// edited\n")).unwrap();
    let cache = t.root.join("cache");
    let o = run(&["--backend", "sim", "--sim-cache", cache.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(7), "{:?}", text(&o));
    assert!(text(&o).1.contains("rtl/standin_top.v"), "{:?}", text(&o));
    assert!(!cache.exists(), "nothing built");

    let manifest = t.bundle.join("manifest.json");
    std::fs::write(&manifest, "{ not json").unwrap();
    let args = uio_args(&t);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args);
    assert_eq!(o.status.code(), Some(7), "{:?}", text(&o));
    assert!(text(&o).1.contains("manifest.json"), "{:?}", text(&o));
}
