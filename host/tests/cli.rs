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
    let shape_s = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_s}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    std::fs::write(path, out).unwrap();
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
    let o = bin().arg("info").args(uio_args(&t)).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
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

#[test]
fn run_json_on_a_board_backend() {
    // The file stand-in has no hardware behind it here: pre-set DONE, outputs and CYCLES.
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
    let o = bin()
        .arg("run")
        .args(uio_args(&t))
        .arg("--bundle")
        .arg(&t.bundle)
        .arg("--input")
        .arg(&x)
        .arg("--json")
        .output()
        .unwrap();
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
            "expected 4 values, got 5",
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
