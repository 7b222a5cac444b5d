//! The one array reader (`bramble_abi::array`) through the `bramble` binary: files as numpy and
//! PyTorch really write them (Fortran order, big-endian, float16, bfloat16) read the same as plain
//! C-order float32; files crafted to lie (overflowing shapes, flipped bits, huge members) get a
//! clear error and exit 1, never a panic, an abort or an allocation the file does not back; and
//! description files too large or too deeply nested for the YAML parser are refused up front.

mod common;

use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Row-major float32 bytes, little- or big-endian.
fn f32_bytes(v: &[f32], big: bool) -> Vec<u8> {
    v.iter()
        .flat_map(|x| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        })
        .collect()
}

fn f64_bytes(v: &[f32], big: bool) -> Vec<u8> {
    v.iter()
        .map(|&x| f64::from(x))
        .flat_map(|x| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        })
        .collect()
}

fn f16_bytes(v: &[f32], big: bool) -> Vec<u8> {
    v.iter()
        .map(|&x| f16_bits(x))
        .flat_map(|x| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        })
        .collect()
}

fn bf16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|&x| bf16_bits(x).to_le_bytes()).collect()
}

/// The tiny network's tensors with values exact in float16 and bfloat16, so every dtype must give
/// the very same compressed model.
fn exact_tensors() -> Vec<T> {
    vec![
        t(
            "l1.weight",
            &[4, 3],
            vec![
                0.5, -0.25, 0.0, 1.5, 0.75, -1.0, 0.0, 0.125, 0.375, -0.625, 0.875, 0.0,
            ],
        ),
        t("l1.bias", &[4], vec![0.125, -0.25, 0.0, 0.0625]),
        t(
            "l2.weight",
            &[2, 4],
            vec![1.0, -0.5, 0.25, 0.0, -0.75, 0.0, 0.625, 1.25],
        ),
        t("l2.bias", &[2], vec![0.015625, -0.03125]),
    ]
}

/// One `.npy` member per tensor: `descr`, Fortran order for the 2-D ones if `fortran`.
fn members(ts: &[T], descr: &str, fortran: bool) -> Vec<(String, Vec<u8>)> {
    ts.iter()
        .map(|t| {
            let two_d = t.shape.len() == 2;
            let data = if fortran && two_d {
                to_fortran(t.shape[0], t.shape[1], &t.data)
            } else {
                t.data.clone()
            };
            let big = descr.starts_with('>');
            let payload = match &descr[1..] {
                "f2" => f16_bytes(&data, big),
                "f4" => f32_bytes(&data, big),
                "f8" => f64_bytes(&data, big),
                other => panic!("descr {other}"),
            };
            let shape = match t.shape[..] {
                [n] => format!("({n},)"),
                [r, c] => format!("({r}, {c})"),
                _ => unreachable!(),
            };
            (
                t.name.clone(),
                npy_raw(descr, fortran && two_d, &shape, &payload),
            )
        })
        .collect()
}

fn write_members(path: &Path, m: &[(String, Vec<u8>)], deflate: bool) {
    let m: Vec<(&str, Vec<u8>)> = m.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    write_npz_raw(path, &m, deflate);
}

/// `compress net.yaml -o <out>` in `dir`, returning the model file's text.
fn compress_ok(dir: &Path, out: &str, what: &str) -> String {
    bramble_in(dir, &["compress", "net.yaml", "-o", out]).expect_ok(what);
    std::fs::read_to_string(dir.join(out)).unwrap()
}

/// `compress` must fail cleanly with every needle and leave the directory as it was; `inspect`
/// must fail the same way.
fn expect_compress_error(dir: &Path, what: &str, needles: &[&str]) -> String {
    let before = dir_names(dir);
    let out = bramble_in(dir, &["compress", "net.yaml", "-o", "model.json"]);
    assert_clean_failure(&out, what, needles);
    assert_eq!(dir_names(dir), before, "{what}: compress left files behind");
    let ins = bramble_in(dir, &["inspect", "net.yaml", "--json"]);
    assert_clean_failure(&ins, &format!("{what} (inspect)"), needles);
    out.stderr
}

/// `infer m.json --input <input>` must fail cleanly, print nothing and name every needle. The
/// exit code is the one for a bad input file (docs/host.md), so any code but 0 and a panic's 101.
fn expect_infer_error(dir: &Path, input: &str, what: &str, needles: &[&str]) -> String {
    let out = bramble_in(dir, &["infer", "m.json", "--input", input, "--json"]);
    let ctx = format!(
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    );
    assert!(
        matches!(out.code, Some(c) if c != 0 && c != 101),
        "expected a clean failure; {ctx}"
    );
    assert!(!out.stderr.contains("panicked"), "panic; {ctx}");
    assert!(out.stderr.starts_with("error: "), "no `error:` line; {ctx}");
    for n in needles {
        assert!(out.stderr.contains(n), "stderr lacks {n:?}; {ctx}");
    }
    assert!(out.stdout.is_empty(), "{what}: printed {}", out.stdout);
    out.stderr
}

/// A directory with `net.yaml` (TINY_YAML) and `w.npz` from [`exact_tensors`].
fn exact_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_npz(&dir.path().join("w.npz"), &exact_tensors(), true);
    std::fs::write(dir.path().join("net.yaml"), TINY_YAML).unwrap();
    dir
}

/// A compressed tiny model `m.json` to run `infer` on.
fn model_dir() -> tempfile::TempDir {
    let dir = exact_dir();
    compress_ok(dir.path(), "m.json", "model for infer");
    dir
}

/// Regression: `np.save(w.T)` and transposed PyTorch tensors write `fortran_order: True`, which
/// was reported as "tensor `l1.weight` not found; available tensors: ..., l1.weight". Fortran
/// order, big-endian and float16 members must give exactly the model the C-order float32 file
/// gives, stored or deflated.
#[test]
fn fortran_big_endian_and_float16_weights_give_the_same_model() {
    let dir = exact_dir();
    let d = dir.path();
    let want = compress_ok(d, "c.json", "C-order float32");
    let ts = exact_tensors();
    for (descr, fortran, deflate) in [
        ("<f4", true, true),
        ("<f4", true, false),
        (">f4", false, true),
        (">f4", true, false),
        ("<f8", true, true),
        (">f8", true, true),
        ("<f2", false, true),
        ("<f2", true, false),
        (">f2", true, true),
    ] {
        let what = format!("{descr} fortran={fortran} deflate={deflate}");
        write_members(&d.join("w.npz"), &members(&ts, descr, fortran), deflate);
        let out = format!("m{}.json", descr.replace(['<', '>'], "_"));
        let got = compress_ok(d, &out, &what);
        assert_eq!(got, want, "{what}: a different model");
        std::fs::remove_file(d.join(&out)).unwrap();
    }
    // Inference on the description itself agrees too.
    write_members(&d.join("w.npz"), &members(&ts, "<f4", true), true);
    write_npy_rows(&d.join("x.npy"), &[vec![0.5, -0.25, 1.0]]);
    let f = bramble_in(d, &["infer", "net.yaml", "--input", "x.npy", "--json"]).expect_ok("F");
    let c = bramble_in(d, &["infer", "c.json", "--input", "x.npy", "--json"]).expect_ok("C");
    assert_eq!(f.json(), c.json());
}

/// Regression: `.safetensors` F16, BF16 (what PyTorch checkpoints mostly are now) and F64 were
/// refused; each must give the model the F32 file gives.
#[test]
fn safetensors_f16_bf16_f64_give_the_same_model() {
    let dir = exact_dir();
    let d = dir.path();
    std::fs::write(
        d.join("net.yaml"),
        TINY_YAML.replace("weights: w.npz", "weights: w.safetensors"),
    )
    .unwrap();
    let ts = exact_tensors();
    let write = |dtype: &str| {
        let tensors: Vec<(&str, &str, Vec<usize>, Vec<u8>)> = ts
            .iter()
            .map(|t| {
                let bytes = match dtype {
                    "F16" => f16_bytes(&t.data, false),
                    "BF16" => bf16_bytes(&t.data),
                    "F32" => f32_bytes(&t.data, false),
                    "F64" => f64_bytes(&t.data, false),
                    _ => unreachable!(),
                };
                (t.name.as_str(), dtype, t.shape.clone(), bytes)
            })
            .collect();
        write_safetensors_raw(&d.join("w.safetensors"), &tensors);
    };
    write("F32");
    let want = compress_ok(d, "f32.json", "F32");
    let npz = compress_ok(exact_dir().path(), "npz.json", "npz float32");
    assert_eq!(want, npz, "safetensors F32 and npz float32 differ");
    for dtype in ["F16", "BF16", "F64"] {
        write(dtype);
        let out = format!("{dtype}.json");
        assert_eq!(
            compress_ok(d, &out, dtype),
            want,
            "{dtype}: a different model"
        );
    }
}

/// Regression: a tensor that is in the file but cannot be read was reported as missing. It must
/// be reported as unreadable, with the dtype, when a layer asks for it (and ignored otherwise).
#[test]
fn unreadable_tensor_is_reported_as_such_when_used() {
    let dir = exact_dir();
    let d = dir.path();
    let mut m = members(&exact_tensors(), "<f4", false);
    m[0].1 = npy_raw("<i8", false, "(4, 3)", &[0u8; 96]);
    m.push((
        "bn.num_batches_tracked".into(),
        npy_raw("<i8", false, "()", &7i64.to_le_bytes()),
    ));
    write_members(&d.join("w.npz"), &m, true);
    let e = expect_compress_error(
        d,
        "int64 weight",
        &[
            "net.yaml",
            "`fc1`",
            "weight",
            "w.npz",
            "tensor `l1.weight`",
            "dtype `<i8` is not supported",
        ],
    );
    assert!(!e.contains("not found"), "misreported as missing: {e}");

    let st = d.join("w.safetensors");
    write_safetensors_raw(&st, &[("l1.weight", "I8", vec![4, 3], vec![0; 12])]);
    std::fs::write(
        d.join("net.yaml"),
        TINY_YAML.replace("weights: w.npz", "weights: w.safetensors"),
    )
    .unwrap();
    expect_compress_error(
        d,
        "int8 safetensor",
        &["`fc1`", "tensor `l1.weight`", "dtype I8 is not supported"],
    );
}

/// Regression: a 160-byte `.npy` whose shape overflows aborted `infer` (capacity overflow), one
/// that asks for 400 GB tried to allocate it, and (2^32, 2^32) wrapped to zero elements so
/// `infer` printed nothing and exited 0. Each is now an error before any allocation, for inputs
/// and for calibration files.
#[test]
fn overflowing_npy_shapes_are_errors_not_aborts() {
    let dir = model_dir();
    let d = dir.path();
    let cases = [
        (
            "(1099511627776, 1099511627776)",
            "more elements than fit in memory",
        ),
        (
            "(1000000, 100000)",
            "needs 400000000000 bytes of data but the file holds 32",
        ),
        ("(4294967296, 4294967296)", "overflows"),
    ];
    for (shape, needle) in cases {
        let bytes = npy_raw("<f4", false, shape, &[0u8; 32]);
        assert_eq!(bytes.len(), 160);
        std::fs::write(d.join("x.npy"), &bytes).unwrap();
        expect_infer_error(d, "x.npy", shape, &["x.npy", shape, needle]);
        // The same file as calibration data.
        std::fs::write(d.join("calib.npy"), &bytes).unwrap();
        std::fs::write(
            d.join("net.yaml"),
            TINY_YAML.replace(
                "input: {size: 3, frac_bits: 8}",
                "input: {size: 3}\ncalibration: calib.npy",
            ),
        )
        .unwrap();
        expect_compress_error(d, shape, &["calib.npy", needle]);
    }
}

/// Regression: an `.npz` member with shape (16, 2^60) panicked `compress`; one claiming 400 GB
/// was allocated. Now: an error naming the tensor, and no model file.
#[test]
fn npz_members_with_lying_shapes() {
    for (shape, needle) in [
        ("(16, 1152921504606846976)", "overflows"),
        (
            "(1000000, 100000)",
            "needs 400000000000 bytes of data but the file holds 16",
        ),
    ] {
        for deflate in [false, true] {
            let dir = exact_dir();
            let d = dir.path();
            let mut m = members(&exact_tensors(), "<f4", false);
            m[0].1 = npy_raw("<f4", false, shape, &[0u8; 16]);
            write_members(&d.join("w.npz"), &m, deflate);
            expect_compress_error(
                d,
                shape,
                &["`fc1`", "weight", "w.npz", "tensor `l1.weight`", needle],
            );
        }
    }
}

/// Regression: a flipped bit inside a stored (uncompressed) member was read as a different
/// weight; the zip CRC-32 is now checked for every member that is read.
#[test]
fn crc_flip_in_a_stored_member_is_detected() {
    let dir = exact_dir();
    let d = dir.path();
    let p = d.join("w.npz");
    write_npz(&p, &exact_tensors(), false);
    let mut bytes = std::fs::read(&p).unwrap();
    // l1.weight[3] = 1.5: flip its lowest mantissa bit (still a finite, plausible weight).
    let at = bytes
        .windows(4)
        .position(|w| w == 1.5f32.to_le_bytes())
        .unwrap();
    bytes[at] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    expect_compress_error(
        d,
        "CRC flip",
        &["`fc1`", "tensor `l1.weight`", "CRC-32 mismatch"],
    );
}

/// Regression: every member was decoded up front, so a 1 MB `.npz` holding an unused deflated
/// 2^28-element member made `compress` take gigabytes. Only named tensors are read now: an
/// unused member that claims terabytes (and could not be read) and a real 1 GiB one cost
/// nothing; `compress` runs under a 512 MiB address-space limit.
#[test]
fn unused_huge_members_are_not_read() {
    let dir = exact_dir();
    let d = dir.path();
    let p = d.join("w.npz");
    {
        let file = std::fs::File::create(&p).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::FileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for t in exact_tensors() {
            zip.start_file(format!("{}.npy", t.name), opts).unwrap();
            std::io::Write::write_all(&mut zip, &npy_f32(&t.shape, &t.data)).unwrap();
        }
        // Claims 8 TiB of float64, holds 16 bytes.
        zip.start_file("lie.npy", opts).unwrap();
        let lie = npy_raw("<f8", false, "(1048576, 1048576)", &[0u8; 16]);
        std::io::Write::write_all(&mut zip, &lie).unwrap();
        // Really holds 2^28 float32 zeros (1 GiB), about 1 MB deflated.
        zip.start_file("big.npy", opts).unwrap();
        let n = 1usize << 28;
        std::io::Write::write_all(&mut zip, &npy_raw("<f4", false, &format!("({n},)"), &[]))
            .unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..(n * 4) >> 20 {
            std::io::Write::write_all(&mut zip, &chunk).unwrap();
        }
        zip.finish().unwrap();
    }
    let size = std::fs::metadata(&p).unwrap().len();
    assert!(size < 8 << 20, "the test archive is {size} bytes");
    let bramble = env!("CARGO_BIN_EXE_bramble");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" compress net.yaml -o m.json")
        .arg(bramble)
        .current_dir(d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "compress failed: {stderr}");
    // And a layer that does name the lying member gets an error, not an allocation.
    std::fs::write(
        d.join("net.yaml"),
        TINY_YAML.replace("weight: l2.weight", "weight: lie"),
    )
    .unwrap();
    expect_compress_error(
        d,
        "lying member used",
        &["`out`", "tensor `lie`", "needs 8796093022208 bytes"],
    );
}

/// Regression: `sim` and `bramble-host run` turned NaN inputs into 0 while `infer` refused them.
/// The one reader refuses NaN and infinity and says where, in the logical (row, column) even for
/// a Fortran-order file.
#[test]
fn nan_and_inf_inputs_are_refused_with_their_position() {
    let dir = model_dir();
    let d = dir.path();
    write_npy_rows(
        &d.join("x.npy"),
        &[vec![0.5, 0.0, 0.0], vec![0.0, f32::NAN, 0.0]],
    );
    expect_infer_error(d, "x.npy", "NaN", &["x.npy", "row 1, column 1", "NaN"]);
    let rows = [0.5f32, 0.0, 0.0, 0.0, 0.0, f32::NEG_INFINITY];
    let f = npy_raw(
        "<f4",
        true,
        "(2, 3)",
        &f32_bytes(&to_fortran(2, 3, &rows), false),
    );
    std::fs::write(d.join("xf.npy"), f).unwrap();
    expect_infer_error(d, "xf.npy", "-inf", &["xf.npy", "row 1, column 2", "-inf"]);
    let one = npy_raw(
        "<f8",
        false,
        "(3,)",
        &f64_bytes(&[0.0, f32::INFINITY, 0.0], false),
    );
    std::fs::write(d.join("x1.npy"), one).unwrap();
    expect_infer_error(d, "x1.npy", "inf 1-D", &["x1.npy", "index 1", "inf"]);
}

/// Regression: the generator refused Fortran-order, big-endian and float16 inputs (the host read
/// the Fortran ones, the generator did not). All must give the outputs of the C-order file.
#[test]
fn inputs_in_every_order_and_dtype_give_the_same_outputs() {
    let dir = model_dir();
    let d = dir.path();
    let rows = [0.5f32, -0.25, 1.0, 0.125, 0.75, -1.5];
    std::fs::write(
        d.join("x.npy"),
        npy_raw("<f4", false, "(2, 3)", &f32_bytes(&rows, false)),
    )
    .unwrap();
    let want = bramble_in(d, &["infer", "m.json", "--input", "x.npy", "--json"])
        .expect_ok("C order")
        .json();
    assert_eq!(want["outputs"].as_array().unwrap().len(), 2);
    let fr = to_fortran(2, 3, &rows);
    let cases: [(&str, bool, Vec<u8>); 8] = [
        ("<f4", true, f32_bytes(&fr, false)),
        (">f4", false, f32_bytes(&rows, true)),
        (">f4", true, f32_bytes(&fr, true)),
        ("<f8", true, f64_bytes(&fr, false)),
        (">f8", false, f64_bytes(&rows, true)),
        ("<f2", false, f16_bytes(&rows, false)),
        (">f2", false, f16_bytes(&rows, true)),
        (">f2", true, f16_bytes(&fr, true)),
    ];
    for (descr, fortran, payload) in cases {
        let what = format!("{descr} fortran={fortran}");
        std::fs::write(d.join("y.npy"), npy_raw(descr, fortran, "(2, 3)", &payload)).unwrap();
        let got = bramble_in(d, &["infer", "m.json", "--input", "y.npy", "--json"])
            .expect_ok(&what)
            .json();
        assert_eq!(got, want, "{what}");
    }
}

/// Zero-size arrays: an input with no rows or no columns is an error; a weight tensor with a zero
/// dimension (even next to a huge one) is read and then rejected by the description's checks.
#[test]
fn zero_size_inputs_and_weights() {
    let dir = model_dir();
    let d = dir.path();
    for (shape, needle) in [
        ("(0, 3)", "0 rows"),
        ("(2, 0)", "0 columns"),
        ("(0,)", "0 values"),
        ("(0, 1152921504606846976)", "0 rows"),
    ] {
        std::fs::write(d.join("z.npy"), npy_raw("<f4", false, shape, &[])).unwrap();
        expect_infer_error(d, "z.npy", shape, &["z.npy", needle]);
    }
    for (layout, shape, needle) in [
        ("out_in", "(0, 3)", "0 outputs; allowed 1..="),
        ("out_in", "(4, 0)", "so 0 inputs"),
        (
            "out_in",
            "(0, 1152921504606846976)",
            "so 1152921504606846976 inputs",
        ),
        ("in_out", "(3, 0)", "0 outputs; allowed 1..="),
        (
            "in_out",
            "(1152921504606846976, 0)",
            "so 1152921504606846976 inputs",
        ),
    ] {
        let dir = exact_dir();
        let mut m = members(&exact_tensors(), "<f4", false);
        m[0].1 = npy_raw("<f4", false, shape, &[]);
        write_members(&dir.path().join("w.npz"), &m, true);
        std::fs::write(
            dir.path().join("net.yaml"),
            TINY_YAML.replace("layout: out_in", &format!("layout: {layout}")),
        )
        .unwrap();
        expect_compress_error(dir.path(), shape, &["`fc1`", "weight", needle]);
    }
}

/// Regression: a 400 KB description of nested brackets kept serde_yaml busy for minutes. Files
/// over 1 MiB and nesting deeper than 64 are refused before parsing, quickly.
#[test]
fn yaml_size_and_nesting_limits() {
    let dir = exact_dir();
    let d = dir.path();
    let cases = [
        (
            "[".repeat(400_000),
            "nesting deeper than 64 at line 1".to_string(),
        ),
        (
            format!(
                "{TINY_YAML}extra: {}{}\n",
                "{a: ".repeat(70),
                "}".repeat(70)
            ),
            "nesting deeper than 64 at line 9".to_string(),
        ),
        (
            (0..80)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>(),
            "nesting deeper than 64 at line 65".to_string(),
        ),
        (
            // Each line opens a sequence inside the one above: line 64 is 65 levels deep.
            (0..70)
                .map(|i| format!("{}- x\n", "  ".repeat(i)))
                .collect(),
            "nesting deeper than 64 at line 64".to_string(),
        ),
        (
            format!("{}- x\n", "- ".repeat(70)),
            "nesting deeper than 64 at line 1".to_string(),
        ),
        (
            format!("{TINY_YAML}#{}\n", "x".repeat(1 << 20)),
            "the limit is 1048576 (1 MiB)".to_string(),
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(d.join("net.yaml"), &text).unwrap();
        let start = Instant::now();
        expect_compress_error(d, &needle, &["net.yaml", &needle]);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{needle}: took {:?}",
            start.elapsed()
        );
    }
    // Brackets in comments, quoted strings and block scalars are not nesting.
    let deep = "[".repeat(100);
    let fine = TINY_YAML
        .replace("name: tiny", &format!("name: tiny  # {deep}"))
        .replace("weight: l2.weight", "weight: 'l2.weight'")
        + &format!("# {deep}\n");
    std::fs::write(d.join("net.yaml"), &fine).unwrap();
    compress_ok(d, "ok.json", "brackets in comments");
}
