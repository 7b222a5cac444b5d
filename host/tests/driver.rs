//! The driver sequence (identify, write inputs, start, wait, read outputs) and its error paths,
//! on the in-process fake accelerator.

mod common;

use std::time::Duration;

use bramble_host::fake::FakeAccelerator;
use bramble_host::{Backend, Device, Error};
use common::*;

fn bundle() -> (tempfile::TempDir, bramble_host::Bundle) {
    let dir = tempfile::tempdir().unwrap();
    let b = write_bundle(dir.path(), &standin_manifest("standin_top"));
    (dir, b)
}

fn fake(b: &bramble_host::Bundle) -> FakeAccelerator {
    FakeAccelerator::for_bundle(b, Box::new(standin_expected))
}

#[test]
fn run_raw_float_and_batch() {
    let (_d, b) = bundle();
    let mut dev = Device::open(b.clone(), Box::new(fake(&b))).unwrap();
    assert_eq!(dev.identity().hash, HASH_U64);

    let out = dev
        .run_raw(&[5, -7, 100, 32767], Duration::from_secs(1))
        .unwrap();
    assert_eq!(out.raw, standin_expected(&[5, -7, 100, 32767]));
    assert_eq!(out.cycles, 17);
    assert_eq!(out.values[0], 6.0 / 256.0);

    // Floats are quantised with input.frac_bits = 8: 0.5 -> 128, -1/512 -> -1 (half away).
    let out = dev
        .run(&[0.5, -1.0 / 512.0, 0.0, 1e9], Duration::from_secs(1))
        .unwrap();
    assert_eq!(out.raw, standin_expected(&[128, -1, 0, 32767]));

    let inputs: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64; 4]).collect();
    let batch = dev.run_batch(&inputs, Duration::from_secs(1)).unwrap();
    assert_eq!(batch.raw.len(), 5);
    assert_eq!(batch.cycles, vec![17; 5]);
    for (i, raw) in batch.raw.iter().enumerate() {
        assert_eq!(raw, &standin_expected(&[256 * i as i64; 4]));
    }
    let json = serde_json::to_value(&batch).unwrap();
    assert!(json["outputs"].is_array() && json["raw"].is_array() && json["cycles"].is_array());
    assert_eq!(json.as_object().unwrap().len(), 3);

    let raw_batch = dev
        .run_batch_raw(
            &[vec![1, 2, 3, 4], vec![-1, -2, -3, -4]],
            Duration::from_secs(1),
        )
        .unwrap();
    assert_eq!(raw_batch.raw[1], standin_expected(&[-1, -2, -3, -4]));
}

#[test]
fn run_handle_waits_again_after_timeout() {
    let (_d, b) = bundle();
    let mut f = fake(&b);
    f.latency = Some(1_000_000);
    let mut dev = Device::open(b, Box::new(f)).unwrap();
    dev.write_inputs_raw(&[1, 2, 3, 4]).unwrap();
    let mut run = dev.start().unwrap();
    let e = run.wait(Duration::from_millis(20)).unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

#[test]
fn stalled_device_times_out_with_elapsed_time() {
    let (_d, b) = bundle();
    let mut f = fake(&b);
    f.latency = None;
    let mut dev = Device::open(b, Box::new(f)).unwrap();
    let e = dev
        .run_raw(&[0; 4], Duration::from_millis(100))
        .unwrap_err();
    match &e {
        Error::Timeout {
            timeout,
            elapsed,
            sim_cycles,
        } => {
            assert_eq!(*timeout, Duration::from_millis(100));
            assert!(*elapsed >= Duration::from_millis(100));
            assert_eq!(*sim_cycles, None);
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(e.to_string().contains("timed out"), "{e}");
}

#[test]
fn zero_timeout_checks_once_and_does_not_hang() {
    let (_d, b) = bundle();
    let mut f = fake(&b);
    f.latency = None;
    let mut dev = Device::open(b, Box::new(f)).unwrap();
    assert!(dev
        .run_raw(&[0; 4], Duration::ZERO)
        .unwrap_err()
        .is_timeout());
}

#[test]
fn every_identification_field_is_checked() {
    let (_d, b) = bundle();
    type Tweak = fn(&mut FakeAccelerator);
    let cases: [(Tweak, &str, &str, &str); 8] = [
        (|f| f.magic = 0xFFFF_FFFF, "MAGIC", "0x424d5242", "all ones"),
        (|f| f.version = 3, "VERSION", "4", "3"),
        (|f| f.hash ^= 1, "network hash", HASH, "9f86d081884c7d64"),
        (
            |f| f.geometry = (f.geometry & !0xFF) | 3,
            "GEOMETRY PEs",
            "2",
            "3",
        ),
        (|f| f.geometry += 1 << 8, "GEOMETRY layers", "1", "2"),
        (
            |f| f.geometry = (f.geometry & !0xFF0000) | (8 << 16),
            "GEOMETRY act_bits",
            "16",
            "8",
        ),
        (|f| f.sizes = 5 | (3 << 16), "SIZES input", "4", "5"),
        (|f| f.sizes = 4 | (9 << 16), "SIZES output", "3", "9"),
    ];
    for (tweak, field, expected, found) in cases {
        let mut f = fake(&b);
        tweak(&mut f);
        let e = Device::open(b.clone(), Box::new(f)).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Mismatch { .. }), "{msg}");
        assert!(msg.contains(field), "{field}: {msg}");
        assert!(
            msg.contains(&format!("expected {expected}")),
            "{field}: {msg}"
        );
        assert!(msg.contains(found), "{field}: {msg}");
    }
}

#[test]
fn input_length_and_range_are_checked_before_writing() {
    let (_d, b) = bundle();
    let mut dev = Device::open(b.clone(), Box::new(fake(&b))).unwrap();
    let e = dev.write_inputs_raw(&[1, 2, 3]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Length {
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e}"
    );
    let e = dev.write_inputs(&[1.0; 5]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Length {
                expected: 4,
                found: 5,
                ..
            }
        ),
        "{e}"
    );
    let e = dev.write_inputs_raw(&[0, 32768, 0, 0]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::RawRange {
                index: 1,
                value: 32768,
                bits: 16
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("-32768..=32767"), "{e}");
}

#[test]
fn register_access_is_checked() {
    let (_d, b) = bundle();
    let mut dev = Device::open(b.clone(), Box::new(fake(&b))).unwrap();
    let e = dev.read_register(0x22).unwrap_err();
    assert!(
        e.to_string().contains("offset must be a multiple of 4"),
        "{e}"
    );
    let e = dev.write_register(0x4000, 1).unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutOfRange {
                offset: 0x4000,
                limit: 0x4000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(dev.read_register(0x0).unwrap(), 0x424D_5242);
    // Input window reads back what was written (sign-extended).
    dev.write_inputs_raw(&[-2, 3, 0, 1]).unwrap();
    assert_eq!(dev.read_register(0x1000).unwrap(), (-2i32) as u32);
}

#[test]
fn backend_smaller_than_the_register_map_is_refused() {
    let (_d, b) = bundle();
    let mut f = fake(&b);
    f.window = 0x800; // reaches only 0x2000 bytes
    let e = Device::open(b, Box::new(f)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MapTooSmall {
                size: 0x2000,
                needed: 0x4000,
                ..
            }
        ),
        "{e}"
    );
}

/// A backend whose STATUS reads all ones (a dead bus): a failure, not a timeout.
struct DeadBus(FakeAccelerator);

impl Backend for DeadBus {
    fn describe(&self) -> String {
        "dead bus".into()
    }
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read32(&mut self, offset: u64) -> bramble_host::Result<u32> {
        if offset == 0x24 {
            Ok(0xFFFF_FFFF)
        } else {
            self.0.read32(offset)
        }
    }
    fn write32(&mut self, offset: u64, value: u32) -> bramble_host::Result<()> {
        self.0.write32(offset, value)
    }
}

#[test]
fn failure_is_distinguished_from_timeout() {
    let (_d, b) = bundle();
    let mut dev = Device::open(b.clone(), Box::new(DeadBus(fake(&b)))).unwrap();
    let e = dev.run_raw(&[0; 4], Duration::from_secs(5)).unwrap_err();
    assert!(!e.is_timeout());
    assert!(e.to_string().contains("not responding"), "{e}");
}

#[test]
fn interrupt_is_enabled_and_cleared() {
    let (_d, b) = bundle();
    let mut dev = Device::open(b.clone(), Box::new(fake(&b))).unwrap();
    dev.run_raw(&[0; 4], Duration::from_secs(1)).unwrap();
    // CONTROL reads back IRQ_ENABLE; STATUS has DONE but IRQ_PENDING was cleared by the driver.
    assert_eq!(dev.read_register(0x20).unwrap() & 2, 2);
    assert_eq!(dev.status().unwrap(), 1);
    assert_eq!(dev.cycles().unwrap(), 17);
}

/// Regression: after a timed-out run the device is still BUSY; the next run must be refused
/// instead of overwriting its inputs and having its START ignored (which returned the old
/// run's outputs as if they were the new ones).
#[test]
fn run_after_a_timeout_is_refused_while_busy() {
    let (_d, b) = bundle();
    let mut f = fake(&b);
    f.latency = None;
    let mut dev = Device::open(b, Box::new(f)).unwrap();
    let e = dev.run_raw(&[1; 4], Duration::from_millis(20)).unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let e = dev.run_raw(&[2; 4], Duration::from_millis(20)).unwrap_err();
    assert!(matches!(e, Error::Busy), "{e}");
    assert!(dev.start().is_err());
}

/// A device whose batches stream through the fake's stream model.
fn streaming(b: &bramble_host::Bundle, fk: FakeAccelerator) -> Device {
    let s = fk.stream().unwrap();
    let mut dev = Device::open(b.clone(), Box::new(fk)).unwrap();
    dev.attach_stream(Box::new(s)).unwrap();
    dev
}

#[test]
fn batches_stream_through_the_fake_and_split_by_its_buffer() {
    let (_d, b) = bundle();
    let mut dev = streaming(&b, fake(&b));
    assert!(dev.has_stream());
    // 8 input + 12 output bytes a vector, 4 KiB: 204 vectors per transfer, so 500 is 3.
    let xs: Vec<Vec<i64>> = (0..500)
        .map(|i| vec![i - 250, 3 * i, -i, 32767 - i])
        .collect();
    let batch = dev.run_batch_raw(&xs, Duration::from_secs(1)).unwrap();
    for (x, raw) in xs.iter().zip(&batch.raw) {
        assert_eq!(raw, &standin_expected(x));
    }
    assert_eq!(batch.cycles, vec![17; 500]);
    // Per transfer: vectors * 17 + the last vector's 2 + 3 beats.
    assert_eq!(batch.total_cycles, Some(500 * 17 + 3 * 5));
    let json = serde_json::to_value(&batch).unwrap();
    assert_eq!(json["total_cycles"], serde_json::json!(500 * 17 + 15));
    // Floats take the same quantisation as the window path.
    let fx: Vec<Vec<f64>> = (0..3).map(|i| vec![i as f64 * 0.75; 4]).collect();
    let streamed = dev.run_batch(&fx, Duration::from_secs(1)).unwrap();
    let windowed: Vec<_> = fx
        .iter()
        .map(|x| dev.run(x, Duration::from_secs(1)).unwrap().raw)
        .collect();
    assert_eq!(streamed.raw, windowed);
}

#[test]
fn a_stalled_fake_stream_reports_how_far_it_got() {
    let (_d, b) = bundle();
    let mut fk = fake(&b);
    fk.set_stall_after(Some(3));
    let mut dev = streaming(&b, fk);
    let xs: Vec<Vec<i64>> = (0..8).map(|i| vec![i; 4]).collect();
    let e = dev
        .run_batch_raw(&xs, Duration::from_millis(50))
        .unwrap_err();
    match &e {
        Error::StreamTimeout {
            vectors,
            streamed,
            in_beats,
            out_beats,
            ..
        } => assert_eq!((*vectors, *streamed, *in_beats, *out_beats), (8, 3, 6, 9)),
        other => panic!("{other}"),
    }
    assert!(e.is_any_timeout() && !e.is_timeout());
    assert!(e.to_string().contains("VECTORS 3"), "{e}");
}

#[test]
fn raw_inputs_out_of_range_are_refused_before_streaming() {
    let (_d, b) = bundle();
    let mut dev = streaming(&b, fake(&b));
    let e = dev
        .run_batch_raw(&[vec![0, 0, 40000, 0]], Duration::from_secs(1))
        .unwrap_err();
    assert!(matches!(e, Error::RawRange { index: 2, .. }), "{e}");
}
