//! Weights loaded at run time end to end (issue 14): a network generated with run-time weights
//! -> the Verilator model of the real engine (weight memories empty) -> `Device::load_weights`
//! through the harness's AXI DMA model -> runs bit-exact against the golden model. Also: runs
//! before loading and on stale weights are refused, an edited image is refused before anything
//! is sent, and one simulated device swaps networks A -> B -> A with weights-only bundles from
//! `--geometry-of`, each bit-exact.

use bramble::generate::{self, Options};
use bramble::geometry_of;
use bramble::golden;
use bramble::model::Model;
use bramble::parts;
use bramble::plan::{self, WeightsMode};
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble_host::sim::SimOptions;
use bramble_host::{Bundle, Device, Error};
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bramble-sim-cache")
}

fn net(seed: u64, shape: &[usize], density: f64) -> Model {
    synthetic::model(&Spec {
        name: format!("w{seed}"),
        input: shape[0],
        layers: shape
            .windows(2)
            .enumerate()
            .map(|(i, w)| LayerSpec {
                rows: w[1],
                cols: w[0],
                density,
                relu: i % 2 == 0,
            })
            .collect(),
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 8,
        empty_every: 0,
        seed,
    })
}

/// A run-time-weights bundle of `model` in `dir`.
fn runtime_bundle(model: &Model, pes: usize, tdata_bits: u32, dir: &Path) -> PathBuf {
    let part = parts::find("xc7z020").unwrap();
    let req = plan::Request {
        pes: Some(pes),
        weights: WeightsMode::Runtime,
        ..Default::default()
    };
    let (g, p) = plan::choose_with(model, part, req).unwrap();
    let opts = Options {
        tb_count: 1,
        tdata_bits,
        weights: WeightsMode::Runtime,
        ..Default::default()
    };
    generate::generate(model, part, &g, &p, &opts)
        .unwrap()
        .write(dir, false)
        .unwrap();
    dir.to_path_buf()
}

/// A weights-only bundle of `model` for the engine of `old`.
fn weights_only(model: &Model, old: &Path, dir: &Path) -> PathBuf {
    let o = geometry_of::read_old(old).unwrap();
    let g = geometry_of::fit(model, &o).unwrap_or_else(|e| panic!("{e}"));
    geometry_of::weights_only(model, &o, &g)
        .unwrap()
        .write(dir, false)
        .unwrap();
    dir.to_path_buf()
}

fn open(dir: &Path) -> Device {
    let b = Bundle::load_checked(dir).unwrap();
    let opts = SimOptions {
        cache_dir: Some(cache()),
        ..Default::default()
    };
    bramble_host::sim::open(b, &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn check_bit_exact(dev: &mut Device, model: &Model, seed: u64) {
    let inputs = synthetic::inputs(model, 20, 0.5, seed);
    let batch = dev
        .run_batch_raw(&inputs, T)
        .unwrap_or_else(|e| panic!("{e}"));
    for (x, y) in inputs.iter().zip(&batch.raw) {
        assert_eq!(
            y,
            &golden::run(model, x),
            "{}: streamed vs golden",
            model.name
        );
    }
    // And one run through the register windows.
    let out = dev.run_raw(&inputs[3], T).unwrap();
    assert_eq!(out.raw, golden::run(model, &inputs[3]));
}

#[test]
fn load_then_run_bit_exact_and_refusals() {
    for (pes, tdata) in [(2usize, 32u32), (3, 64)] {
        let tmp = tempfile::tempdir().unwrap();
        let a = net(1, &[20, 24, 9], 0.4);
        let dir = runtime_bundle(&a, pes, tdata, &tmp.path().join("a"));
        let mut dev = open(&dir);
        // Nothing loaded: refused before anything is written.
        let e = dev.run_batch_raw(&[vec![0; 20]], T).unwrap_err();
        assert!(
            matches!(e, Error::StaleWeights { loaded: false, .. }),
            "{e}"
        );
        let l = dev.load_bundle_weights(T).unwrap();
        assert_eq!(l.crc32, dev.bundle().manifest().weights_crc32());
        check_bit_exact(&mut dev, &a, 5);

        // Stale: another network's image of the same geometry, loaded under bundle A.
        let b = net(2, &[20, 24, 9], 0.3);
        let bdir = weights_only(&b, &dir, &tmp.path().join("b"));
        dev.load_weights_file(&bdir.join("weights/weights.bin"), T)
            .unwrap();
        let e = dev.run_raw(&[0; 20], T).unwrap_err();
        assert!(matches!(e, Error::StaleWeights { loaded: true, .. }), "{e}");

        // Edited images: refused by the host before anything is sent (B stays loaded).
        let good = std::fs::read(dir.join("weights/weights.bin")).unwrap();
        let mut flipped = good.clone();
        flipped[40] ^= 0x10;
        let mut lying = good.clone();
        lying[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        for bad in [flipped, good[..good.len() - 8].to_vec(), lying] {
            let e = dev.load_weights(&bad, T).unwrap_err();
            assert!(matches!(e, Error::WeightImage { .. }), "{e}");
        }
        let e = dev.run_raw(&[0; 20], T).unwrap_err();
        assert!(matches!(e, Error::StaleWeights { loaded: true, .. }), "{e}");
        dev.load_bundle_weights(T).unwrap();
        check_bit_exact(&mut dev, &a, 6);
    }
}

#[test]
fn swap_networks_on_one_simulated_device() {
    let tmp = tempfile::tempdir().unwrap();
    let a = net(11, &[16, 30, 30, 6], 0.35);
    let b = net(12, &[16, 30, 30, 6], 0.3);
    let adir = runtime_bundle(&a, 4, 32, &tmp.path().join("a"));
    let bdir = weights_only(&b, &adir, &tmp.path().join("b"));
    let mut dev = open(&adir);
    dev.load_bundle_weights(T).unwrap();
    check_bit_exact(&mut dev, &a, 1);
    for round in 0..2 {
        dev.use_weights(Bundle::load_checked(&bdir).unwrap(), T)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        check_bit_exact(&mut dev, &b, 2 + round);
        dev.use_weights(Bundle::load_checked(&adir).unwrap(), T)
            .unwrap();
        check_bit_exact(&mut dev, &a, 4 + round);
    }
}
