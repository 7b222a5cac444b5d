//! Weights loaded at run time (issue 14) on the in-process fake: loading, the checks before
//! anything is sent, the refusal of runs on missing or stale weights, and swapping networks of
//! one geometry with `Device::use_weights`.

mod common;

use std::path::Path;
use std::time::Duration;

use bramble_abi::manifest::{sha256_hex, FileEntry};
use bramble_abi::weights::Image;
use bramble_host::cli::exit_code;
use bramble_host::fake::FakeAccelerator;
use bramble_host::{Bundle, Device, Error};
use common::*;

const T: Duration = Duration::from_secs(2);

/// A run-time-weights stand-in bundle with `image` as its weights.
fn runtime_bundle(dir: &Path, image: &Image) -> Bundle {
    write_bundle(dir, &standin_manifest("standin_top"));
    let m = runtime_manifest(standin_manifest("standin_top"), image);
    write_weights(dir, &m, image);
    Bundle::load_checked(dir).unwrap()
}

/// A weights-only bundle (what `bramble generate --geometry-of` writes) for the stand-in
/// geometry, with `image`.
fn weights_only_bundle(dir: &Path, image: &Image) -> Bundle {
    let mut m = runtime_manifest(standin_manifest("standin_top"), image);
    m.name = "other".into();
    m.network_hash = "00000000000000aa".into();
    m.weights.weights_only = true;
    m.rtl_files.clear();
    m.memory_images.clear();
    m.files = vec![FileEntry {
        path: WEIGHTS_FILE.into(),
        sha256: sha256_hex(&image.to_bytes()),
    }];
    write_weights(dir, &m, image);
    Bundle::load_checked(dir).unwrap()
}

/// A runtime fake for `b` with its stream attached; `other` computes negated outputs once the
/// image with CRC `other_crc` is loaded.
fn device(b: &Bundle, other_crc: Option<u32>) -> Device {
    let mut f = FakeAccelerator::for_bundle(b, Box::new(standin_expected));
    if let Some(crc) = other_crc {
        f.add_network(
            crc,
            Box::new(|x| standin_expected(x).iter().map(|v| -v).collect()),
        );
    }
    let s = f.stream().unwrap();
    let mut d = Device::open(b.clone(), Box::new(f)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    d
}

const X: [i64; 4] = [5, -7, 100, 300];

#[test]
fn load_then_run_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(dir.path(), &standin_image());
    let mut d = device(&b, None);
    assert_eq!(
        d.identity().hash,
        GEOMETRY_HASH_U64,
        "HASH is the geometry hash"
    );
    let l = d.load_bundle_weights(T).unwrap();
    assert_eq!(l.crc32, WEIGHTS_CRC);
    assert_eq!(l.words, standin_image().words.len() as u64);
    assert_eq!(d.run_raw(&X, T).unwrap().raw, standin_expected(&X));
    let xs: Vec<Vec<i64>> = (0..300).map(|i| vec![i, -i, 2 * i, 7]).collect();
    let batch = d.run_batch_raw(&xs, T).unwrap();
    for (x, y) in xs.iter().zip(&batch.raw) {
        assert_eq!(y, &standin_expected(x));
    }
    // Loading again (the same image) is fine: CLEAR starts over.
    d.load_bundle_weights(T).unwrap();
    d.run_raw(&X, T).unwrap();
}

#[test]
fn runs_before_loading_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(dir.path(), &standin_image());
    let mut d = device(&b, None);
    for e in [
        d.run_raw(&X, T).unwrap_err(),
        d.run_batch_raw(&[X.to_vec()], T).unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(
            matches!(e, Error::StaleWeights { loaded: false, .. }),
            "{msg}"
        );
        assert!(msg.contains("WSTATUS.LOADED is 0"), "{msg}");
        assert!(msg.contains("bramble-host load-weights"), "{msg}");
        assert!(msg.contains(&format!("{WEIGHTS_CRC:08x}")), "{msg}");
        assert_eq!(exit_code(&e), 3);
    }
}

#[test]
fn stale_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(dir.path(), &standin_image());
    let mut d = device(&b, None);
    // Another network's image of the same geometry, loaded under this bundle.
    let other = image_with(7, 9);
    d.load_weights(&other.to_bytes(), T).unwrap();
    let e = d.run_raw(&X, T).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, Error::StaleWeights { loaded: true, .. }),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "holds weights with CRC {:08x}, the bundle {} expects {WEIGHTS_CRC:08x}",
            other.crc,
            dir.path().display()
        )),
        "{msg}"
    );
    assert_eq!(exit_code(&e), 3);
    d.load_bundle_weights(T).unwrap();
    d.run_raw(&X, T).unwrap();
}

#[test]
fn edited_images_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(dir.path(), &standin_image());
    let good = standin_image().to_bytes();
    let path = dir.path().join(WEIGHTS_FILE);
    let mut flipped = good.clone();
    flipped[17] ^= 0x04;
    let mut lying = good.clone();
    lying[8..12].copy_from_slice(&1000u32.to_le_bytes()); // count of the first record
    let mut deep = good.clone();
    deep[4..8].copy_from_slice(&15u32.to_le_bytes()); // address past the bias memory's depth
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (flipped, "CRC"),
        (good[..good.len() - 4].to_vec(), "ends inside a record"),
        (good[..good.len() - 2].to_vec(), "not a whole number"),
        (lying, "bias record of PE 0: words 0..1000"),
        (deep, "depth 2"),
        (Vec::new(), "0 bytes"),
    ];
    for (bytes, why) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let mut d = device(&b, None);
        let e = d.load_bundle_weights(T).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::WeightImage { .. }), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains(why), "{why}: {msg}");
        assert_eq!(exit_code(&e), 7);
        // Nothing reached the device: a run is still refused for missing weights.
        assert!(matches!(
            d.run_raw(&X, T).unwrap_err(),
            Error::StaleWeights { loaded: false, .. }
        ));
    }
    // A consistent image that is not the manifest's (the CRC recomputed after an edit).
    std::fs::write(&path, image_with(1, 2).to_bytes()).unwrap();
    let e = device(&b, None).load_bundle_weights(T).unwrap_err();
    assert!(e.to_string().contains("weights.crc32"), "{e}");
    // The same checks through load_weights_file.
    let e = device(&b, None)
        .load_weights_file(&dir.path().join("missing.bin"), T)
        .unwrap_err();
    assert!(e.to_string().contains("missing.bin"), "{e}");
}

#[test]
fn swap_networks_of_one_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let a = runtime_bundle(&dir.path().join("a"), &standin_image());
    let img_b = image_with(3, 4);
    let b = weights_only_bundle(&dir.path().join("b"), &img_b);
    let mut d = device(&a, Some(img_b.crc));
    d.load_bundle_weights(T).unwrap();
    let neg = |v: Vec<i64>| v.iter().map(|x| -x).collect::<Vec<_>>();
    for round in 0..2 {
        let l = d.use_weights(b.clone(), T).unwrap();
        assert_eq!(l.crc32, img_b.crc);
        assert_eq!(d.bundle().manifest().name, "other");
        assert_eq!(d.run_raw(&X, T).unwrap().raw, neg(standin_expected(&X)));
        d.use_weights(a.clone(), T).unwrap();
        assert_eq!(
            d.run_raw(&X, T).unwrap().raw,
            standin_expected(&X),
            "{round}"
        );
    }
    // A weights-only bundle opens the device by itself (HASH is the geometry hash).
    let f = FakeAccelerator::for_bundle(&b, Box::new(standin_expected));
    let s = f.stream().unwrap();
    let mut d = Device::open(b.clone(), Box::new(f)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    d.load_bundle_weights(T).unwrap();
    d.run_raw(&X, T).unwrap();
}

#[test]
fn swap_refuses_another_geometry_and_keeps_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let a = runtime_bundle(&dir.path().join("a"), &standin_image());
    let img_b = image_with(3, 4);
    let mut m = runtime_manifest(standin_manifest("standin_top"), &img_b);
    m.weights.geometry_hash = "00000000000000ff".into();
    let other = dir.path().join("c");
    write_bundle(&other, &standin_manifest("standin_top"));
    write_weights(&other, &m, &img_b);
    let c = Bundle::load_checked(&other).unwrap();
    let mut d = device(&a, None);
    d.load_bundle_weights(T).unwrap();
    let e = d.use_weights(c, T).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Mismatch { .. }), "{msg}");
    assert!(
        msg.contains("geometry hash") && msg.contains("00000000000000ff"),
        "{msg}"
    );
    assert_eq!(d.bundle().dir(), a.dir());
    d.run_raw(&X, T).unwrap();
    // A bundle with its weights in the bitstream cannot be swapped on.
    let e = d.use_weights(a.clone(), T).map(|_| ());
    assert!(e.is_ok());
    let bit = write_bundle(&dir.path().join("bit"), &standin_manifest("standin_top"));
    let e = d.use_weights(bit, T).unwrap_err();
    assert!(e.to_string().contains("bitstream"), "{e}");
}

#[test]
fn loading_needs_a_stream_and_runtime_weights() {
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(&dir.path().join("a"), &standin_image());
    let f = FakeAccelerator::for_bundle(&b, Box::new(standin_expected));
    let mut d = Device::open(b.clone(), Box::new(f)).unwrap();
    let e = d.load_bundle_weights(T).unwrap_err();
    assert!(matches!(e, Error::Stream { .. }), "{e}");
    assert!(e.to_string().contains("/dev/mem has no stream path"), "{e}");

    // Weights in the bitstream: nothing to load, and runs check WHASH against the manifest.
    let bit = write_bundle(&dir.path().join("bit"), &standin_manifest("standin_top"));
    let mut f = FakeAccelerator::for_bundle(&bit, Box::new(standin_expected));
    let s = f.stream().unwrap();
    f.latency = Some(1);
    let mut d = Device::open(bit.clone(), Box::new(f)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    let e = d.load_bundle_weights(T).unwrap_err();
    assert!(matches!(e, Error::WeightsLoad { .. }), "{e}");
    assert!(e.to_string().contains("weights.mode \"bitstream\""), "{e}");
    d.run_raw(&X, T).unwrap();
}

#[test]
fn the_engine_refusing_an_image_is_an_error() {
    // The host checks against the manifest; a device whose memories are smaller (another
    // design behind the same identification) refuses the record: WSTATUS.ERROR.
    let dir = tempfile::tempdir().unwrap();
    let b = runtime_bundle(&dir.path().join("a"), &standin_image());
    let mut m = b.manifest().clone();
    m.weights.memories.retain(|w| w.name != "bias");
    let small = Bundle::from_manifest(dir.path().join("a"), m).unwrap();
    let f = FakeAccelerator::for_bundle(&small, Box::new(standin_expected));
    let s = f.stream().unwrap();
    let mut d = Device::open(b.clone(), Box::new(f)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    let e = d.load_bundle_weights(T).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::WeightsLoad { .. }), "{msg}");
    assert!(msg.contains("WSTATUS.ERROR"), "{msg}");
    assert_eq!(exit_code(&e), 1);
}
