//! The Verilator backend on the stand-in device (tests/fixtures/standin_top.v): the driver
//! sequence end to end over a real cycle-by-cycle AXI4-Lite master, caching, traces, and every
//! error path (stalled design, wrong hash, missing verilator, broken RTL).
#![cfg(feature = "sim")]

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        "working directory restored"
    );
    let id = dev.identity();
    assert_eq!(
        (id.hash, id.pes(), id.layers(), id.act_bits()),
        (HASH_U64, 2, 1, 16)
    );
    assert_eq!((id.in_size(), id.out_size()), (4, 3));

    // Raw API; outputs use the bias from standin_bias.mem ($readmemh, relative path).
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
            .map(|&v| bramble_host::numeric::quantize(v, 8, 16))
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
    let began = Instant::now();
    let e = dev
        .run_raw(&[1, 2, 3, 4], Duration::from_millis(300))
        .unwrap_err();
    let took = began.elapsed();
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
    assert!(took < Duration::from_secs(3), "took {took:?}");
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
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let top = dir.path().join("rtl/standin_top.v");
    let text = std::fs::read_to_string(&top).unwrap();
    std::fs::write(&top, text.replace("assign irq_o =", "assign irq_o = = ")).unwrap();
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
    let mut m = standin_manifest("standin_top");
    m.rtl_files.push("not_there.v".into());
    let bundle = write_bundle(dir.path(), &m);
    let msg = sim::build(&bundle, &opts()).unwrap_err().to_string();
    assert!(msg.contains("not_there.v"), "{msg}");
}

#[test]
fn fst_trace_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_top"));
    let trace = dir.path().join("wave.fst");
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

#[test]
fn design_that_finishes_while_initialising_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest("standin_finish_top"));
    let e = open(bundle, &opts()).unwrap_err();
    assert!(matches!(e, Error::SimLoad { .. }), "{e}");
    assert!(e.to_string().contains("$finish"), "{e}");
}
