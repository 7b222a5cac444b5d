//! The Verilator backend on the stand-in device (tests/fixtures/standin_top.v): the driver
//! sequence end to end over a real cycle-by-cycle AXI4-Lite master, caching, traces, relative
//! bundle paths, and every error path (stalled design, wrong hash, missing verilator, broken RTL).
#![cfg(feature = "sim")]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use bramble_host::sim::{self, SimBackend, SimOptions};
use bramble_host::{Backend, Device, Error};
use common::*;

/// Builds are serialised so two tests never compile the same model at once on a 2-core machine;
/// the second one then finds it in the cache.
static BUILD: Mutex<()> = Mutex::new(());

fn opts() -> SimOptions {
    SimOptions {
        cache_dir: Some(sim_cache()),
        ..SimOptions::default()
    }
}

fn open(bundle: bramble_host::Bundle, opts: &SimOptions) -> bramble_host::Result<Device> {
    let lib = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, opts)?
    };
    let backend = SimBackend::new(&lib, &bundle, opts.trace.as_deref())?;
    Device::open(bundle, Box::new(backend))
}

#[test]
fn end_to_end_driver_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let cwd = std::env::current_dir().unwrap();
    let mut dev = open(bundle, &opts()).unwrap();
    assert_eq!(
        std::env::current_dir().unwrap(),
        cwd,
        "working directory untouched"
    );
    let id = dev.identity();
    assert_eq!(
        (id.hash, id.pes(), id.layers(), id.act_bits()),
        (HASH_U64, 2, 1, 16)
    );
    assert_eq!((id.in_size(), id.out_size()), (4, 3));

    // Raw API; outputs use the bias from standin_bias.mem ($readmemh from +bramble_mem_dir).
    let inputs = [
        vec![0, 0, 0, 0],
        vec![5, -7, 100, 32767],
        vec![-32768, 32767, -1, 1],
        vec![32767, 0, 0, 0], // wraps in the stand-in: 32767 + 1
    ];
    for x in &inputs {
        let out = dev.run_raw(x, Duration::from_secs(5)).unwrap();
        assert_eq!(out.raw, standin_expected(x), "inputs {x:?}");
        assert_eq!(out.cycles, LATENCY);
    }
    // A second START reruns the inputs in place.
    let mut run = dev.start().unwrap();
    run.wait(Duration::from_secs(5)).unwrap();
    assert_eq!(
        dev.read_outputs_raw().unwrap(),
        standin_expected(&inputs[3])
    );
    assert_eq!(dev.cycles().unwrap(), LATENCY);

    // Float batch.
    let xs: Vec<Vec<f64>> = (0..10).map(|i| vec![i as f64 * 0.25 - 1.0; 4]).collect();
    let batch = dev.run_batch(&xs, Duration::from_secs(5)).unwrap();
    for (x, raw) in xs.iter().zip(&batch.raw) {
        let q: Vec<i64> = x
            .iter()
            .map(|&v| bramble_abi::numeric::quantize(v, 8, 16))
            .collect();
        assert_eq!(raw, &standin_expected(&q));
    }
    assert_eq!(batch.cycles, vec![LATENCY; 10]);
    assert!(dev.sim_cycles().unwrap() > 10 * LATENCY);
    assert_eq!(batch.outputs[4][1], (0.0 * 256.0 + 16.0) / 256.0);

    // Bounds are checked before the bus is touched.
    assert!(matches!(
        dev.read_register(0x4000),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        dev.write_register(0x1002, 0),
        Err(Error::Unaligned { offset: 0x1002 })
    ));
}

#[test]
fn second_build_comes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let o = opts();
    let first = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, &o).unwrap()
    };
    let again = sim::build(&bundle, &o).unwrap();
    assert!(again.cached);
    assert_eq!(first.path, again.path);
    assert!(again.path.starts_with(sim_cache()));
}

#[test]
fn stalled_design_times_out_with_cycles_reached() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_stall_top"));
    let mut dev = open(bundle, &opts()).unwrap();
    let e = dev
        .run_raw(&[1, 2, 3, 4], Duration::from_millis(300))
        .unwrap_err();
    match &e {
        Error::Timeout {
            timeout,
            elapsed,
            sim_cycles: Some(c),
        } => {
            assert_eq!(*timeout, Duration::from_millis(300));
            assert!(*elapsed >= *timeout);
            assert!(*c > 1000, "simulated cycles reached: {c}");
        }
        other => panic!("expected a timeout with cycles, got {other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("timeout 300ms") && msg.contains("simulated cycles reached"),
        "{msg}"
    );
}

#[test]
fn wrong_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = standin_manifest("standin_top");
    m.network_hash = "0123456789abcdef".into();
    let bundle = write_bundle(dir.path(), &m);
    let e = open(bundle, &opts()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Mismatch { .. }), "{msg}");
    assert!(
        msg.contains("expected 0123456789abcdef, found 9f86d081884c7d65"),
        "{msg}"
    );
}

#[test]
fn wrong_geometry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = standin_manifest("standin_top");
    m.pes = 4;
    let bundle = write_bundle(dir.path(), &m);
    let msg = open(bundle, &opts()).unwrap_err().to_string();
    assert!(msg.contains("GEOMETRY PEs: expected 4, found 2"), "{msg}");
}

#[test]
fn missing_verilator_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let o = SimOptions {
        verilator: Some("/nonexistent/bin/verilator".into()),
        ..opts()
    };
    let e = sim::build(&bundle, &o).unwrap_err();
    assert!(matches!(e, Error::VerilatorMissing { .. }), "{e}");
    assert!(e.to_string().contains("apt-get install verilator"), "{e}");
}

#[test]
fn broken_rtl_shows_the_compiler_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = standin_manifest("standin_top");
    write_bundle(dir.path(), &m);
    // A broken source the manifest vouches for (so the integrity check passes and the compiler
    // is the one to complain).
    let top = dir.path().join("rtl/standin_top.v");
    let text = std::fs::read_to_string(&top).unwrap();
    let broken = text.replace("assign irq_o =", "assign irq_o = = ");
    std::fs::write(&top, &broken).unwrap();
    let entry = m
        .files
        .iter_mut()
        .find(|f| f.path == "rtl/standin_top.v")
        .unwrap();
    entry.sha256 = bramble_abi::manifest::sha256_hex(broken.as_bytes());
    std::fs::write(dir.path().join("manifest.json"), m.to_json()).unwrap();
    let bundle = bramble_host::Bundle::load_checked(dir.path()).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let o = SimOptions {
        cache_dir: Some(cache.path().into()),
        ..SimOptions::default()
    };
    let e = sim::build(&bundle, &o).unwrap_err();
    match &e {
        Error::SimBuild { log_tail, log, .. } => {
            assert!(log_tail.contains("%Error"), "{log_tail}");
            assert!(log.is_file(), "log kept at {}", log.display());
        }
        other => panic!("expected a build error, got {other}"),
    }
}

#[test]
fn missing_rtl_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    std::fs::remove_file(dir.path().join("rtl/standin_top.v")).unwrap();
    // Building checks the bundle first: nothing is compiled from a bundle that lies.
    let msg = sim::build(&bundle, &opts()).unwrap_err().to_string();
    assert!(
        msg.contains("rtl/standin_top.v") && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn fst_trace_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    // Outside the bundle: a file inside it would be an extra file the next check refuses.
    let out = tempfile::tempdir().unwrap();
    let trace = out.path().join("wave.fst");
    let o = SimOptions {
        trace: Some(trace.clone()),
        ..opts()
    };
    {
        let mut dev = open(bundle.clone(), &o).unwrap();
        dev.run_raw(&[1, 2, 3, 4], Duration::from_secs(5)).unwrap();
    } // dropping the device closes the trace
    let bytes = std::fs::read(&trace).unwrap();
    assert!(bytes.len() > 100, "trace has {} bytes", bytes.len());

    // An untraced library refuses a trace request instead of silently writing nothing.
    let plain = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, &opts()).unwrap()
    };
    let e = SimBackend::new(&plain, &bundle, Some(&trace))
        .err()
        .unwrap();
    assert!(e.to_string().contains("--trace-fst"), "{e}");
}

#[test]
fn backend_steps_and_counts_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let lib = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, &opts()).unwrap()
    };
    let mut be = SimBackend::new(&lib, &bundle, None).unwrap();
    let c0 = be.cycles();
    be.step(100);
    assert_eq!(be.cycles(), c0 + 100);
    // One AXI read costs a few cycles: a real handshake, not a backdoor.
    let c1 = be.cycles();
    assert_eq!(be.read32(0).unwrap(), 0x424D_5242);
    assert!(be.cycles() - c1 >= 2);
    assert_eq!(be.sim_cycles(), Some(be.cycles()));
}

/// Regression for the harness rework that evaluates the model twice per clock instead of about
/// 2.7 times (issue 9): saving evaluations must not move a single handshake. On the stand-in a
/// write takes 2 clocks (AW and W accepted together, then B) and a read 2 (AR, then R), back to
/// back (the counts the harness gave before the rework).
#[test]
fn axi_accesses_take_the_same_clocks_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let lib = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, &opts()).unwrap()
    };
    let mut be = SimBackend::new(&lib, &bundle, None).unwrap();
    let mut clocks = Vec::new();
    for i in 0..4u64 {
        let c = be.cycles();
        be.write32(0x1000 + 4 * i, 10 * i as u32).unwrap();
        clocks.push(be.cycles() - c);
    }
    for _ in 0..2 {
        let c = be.cycles();
        assert_eq!(be.read32(0).unwrap(), 0x424D_5242);
        clocks.push(be.cycles() - c);
    }
    assert_eq!(clocks, [2, 2, 2, 2, 2, 2]);
}

#[test]
fn design_that_finishes_while_initialising_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_finish_top"));
    let e = open(bundle, &opts()).unwrap_err();
    assert!(matches!(e, Error::SimLoad { .. }), "{e}");
    assert!(e.to_string().contains("$finish"), "{e}");
}

/// A float64 .npy (v1.0) with one input per row.
fn write_npy_f64(path: &Path, rows: &[[f64; 4]]) {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let bytes = bramble_abi::array::write::npy_f64(&[rows.len(), 4], &flat);
    std::fs::write(path, bytes).unwrap();
}

/// Regression: a bundle named by a relative path, from a working directory other than the
/// bundle's, on a cold cache. Verilator ran inside the cache's build directory with the relative
/// source paths ("Cannot find file containing module"), and the memory images were found only by
/// changing the process working directory. The child process is given its working directory, so
/// this test process never changes its own.
#[test]
fn relative_bundle_from_another_directory_on_a_cold_cache() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(
        &dir.path().join("work/bundle"),
        &standin_manifest("standin_top"),
    );
    let cwd = dir.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let rows = [[0.5, -0.25, 1.0, 0.0], [-1.0, 2.0, 3.0, 4.0]];
    write_npy_f64(&cwd.join("x.npy"), &rows);
    let o = Command::new(env!("CARGO_BIN_EXE_bramble-host"))
        .current_dir(&cwd)
        .args(["run", "--backend", "sim", "--json"])
        .args(["--bundle", "../work/bundle", "--input", "x.npy"])
        .args(["--sim-cache", "fresh-cache"])
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        cwd.join("fresh-cache").is_dir(),
        "the relative cache is under the child's working directory"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (i, r) in rows.iter().enumerate() {
        let q: Vec<i64> = r.iter().map(|&f| (f * 256.0).round() as i64).collect();
        assert_eq!(
            v["raw"][i],
            serde_json::json!(standin_expected(&q)),
            "row {i}"
        );
    }
    assert_eq!(v["cycles"], serde_json::json!([LATENCY, LATENCY]));
}

/// A bundle `depth` directories of 200 bytes below a temporary directory.
fn deep_bundle(root: &Path, depth: usize) -> bramble_host::Bundle {
    let mut dir = root.to_path_buf();
    for i in 0..depth {
        dir.push(format!("{i}{}", "d".repeat(199)));
    }
    write_bundle(&dir, &standin_manifest("standin_top"))
}

/// Regression: Verilator 5.006 turns the memory path register into a file name through a
/// 256-byte buffer by default, which a longer `+bramble_mem_dir` path overran (a crash, not an
/// error). Paths up to the documented limit work; longer ones are refused before anything runs.
#[test]
fn long_memory_directory_works_up_to_the_limit() {
    let root = tempfile::tempdir().unwrap();
    let bundle = deep_bundle(root.path(), 4);
    let rtl_len = std::fs::canonicalize(bundle.rtl_dir())
        .unwrap()
        .as_os_str()
        .len();
    assert!(
        (300..=bramble_abi::verilog::MAX_MEM_DIR_BYTES).contains(&rtl_len),
        "{rtl_len}"
    );
    let mut dev = open(bundle, &opts()).unwrap();
    let x = vec![5, -7, 100, 32767];
    let out = dev.run_raw(&x, Duration::from_secs(5)).unwrap();
    assert_eq!(
        out.raw,
        standin_expected(&x),
        "bias read from the long path"
    );

    let too_long = deep_bundle(root.path(), 6);
    let e = open(too_long, &opts()).err().unwrap();
    assert!(matches!(e, Error::SimLoad { .. }), "{e}");
    let limit = bramble_abi::verilog::MAX_MEM_DIR_BYTES;
    assert!(
        e.to_string().contains(&format!("at most {limit} bytes")),
        "{e}"
    );
}

/// Regression: a design that `$display`s while simulated (a debugging print, and Verilator's own
/// run-time messages go the same way) wrote into stdout through fd 1, between or after the JSON
/// of `bramble-host run --json`, which then no longer parsed. fd 1 now points at stderr while the
/// command runs; only the results reach stdout.
#[test]
fn design_output_never_reaches_json_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let chatty = "standin_chatty_top.v";
    std::fs::create_dir_all(bundle.join("rtl")).unwrap();
    std::fs::copy(fixtures().join(chatty), bundle.join("rtl").join(chatty)).unwrap();
    let mut m = standin_manifest("standin_top");
    m.top = "standin_chatty_top".into();
    m.rtl_files = vec![chatty.into(), "standin_top.v".into()];
    m.files.push(bramble_abi::manifest::FileEntry {
        path: format!("rtl/{chatty}"),
        sha256: bramble_abi::manifest::sha256_hex(&std::fs::read(fixtures().join(chatty)).unwrap()),
    });
    write_bundle(&bundle, &m);
    let rows = [[0.5, -0.25, 1.0, 0.0], [-1.0, 2.0, 3.0, 4.0]];
    let x = dir.path().join("x.npy");
    write_npy_f64(&x, &rows);
    let o = Command::new(env!("CARGO_BIN_EXE_bramble-host"))
        .args(["run", "--backend", "sim", "--json", "--bundle"])
        .arg(&bundle)
        .arg("--input")
        .arg(&x)
        .arg("--sim-cache")
        .arg(sim_cache())
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}\nstderr:\n{err}"));
    for (i, r) in rows.iter().enumerate() {
        let q: Vec<i64> = r.iter().map(|&f| (f * 256.0).round() as i64).collect();
        assert_eq!(
            v["raw"][i],
            serde_json::json!(standin_expected(&q)),
            "row {i}"
        );
    }
    // The design did print: on stderr.
    assert!(err.contains("standin_chatty_top: AXI write"), "{err}");
}

/// Regression: the cache key hashed only the sources listed in the manifest, not the headers they
/// include (`bramble_defs.vh`), so a bundle whose include changed reused a stale library. A fake
/// `verilator` that fails every build names the key of each attempt (`<key>.failed`).
#[test]
fn included_header_is_part_of_the_cache_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("verilator");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Verilator 5.006 fake'; exit 0; }\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = SimOptions {
        cache_dir: Some(dir.path().join("cache")),
        verilator: Some(fake),
        ..SimOptions::default()
    };
    let failed_dir = |header: &str, name: &str| {
        let root = dir.path().join(name);
        std::fs::create_dir_all(root.join("rtl")).unwrap();
        std::fs::write(root.join("rtl/defs.vh"), header).unwrap();
        let mut m = standin_manifest("standin_top");
        m.files.push(bramble_abi::manifest::FileEntry {
            path: "rtl/defs.vh".into(),
            sha256: bramble_abi::manifest::sha256_hex(header.as_bytes()),
        });
        match sim::build(&write_bundle(&root, &m), &o) {
            Err(Error::SimBuild { dir, .. }) => dir,
            other => panic!("expected the fake build to fail, got {other:?}"),
        }
    };
    let a = failed_dir("`define X 1\n", "a");
    assert_eq!(
        a,
        failed_dir("`define X 1\n", "a2"),
        "same contents, same key"
    );
    assert_ne!(
        a,
        failed_dir("`define X 2\n", "b"),
        "the header is in the key"
    );
}
