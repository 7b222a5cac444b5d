//! Streamed batches end to end: a network -> bundle -> Verilator model of the real engine ->
//! `Device::run_batch` through the harness's AXI DMA model (the same driver code as on a Zynq
//! board), with seeded TVALID gaps on the input and TREADY stalls on the output. Every streamed
//! output must equal the golden model bit for bit, for batches of 1, 2, 17 and 100 vectors;
//! the per-vector compute cycles (the cycles beat) and the batch's `total_cycles` must be there.

use bramble::generate::{self, Options};
use bramble::golden;
use bramble::model::Model;
use bramble::parts;
use bramble::plan;
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble_host::sim::{SimOptions, SimStreamConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cache() -> PathBuf {
    // Shared by all tests of this binary, inside the target directory.
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bramble-sim-cache")
}

fn bundle(model: &Model, part: &str, pes: usize, tdata_bits: u32, dir: &Path) -> PathBuf {
    let part = parts::find(part).unwrap();
    let (g, p) = plan::choose(model, part, Some(pes)).unwrap();
    let out = dir.join("bundle");
    let opts = Options {
        tb_count: 1,
        tdata_bits,
        ..Default::default()
    };
    generate::generate(model, part, &g, &p, &opts)
        .unwrap()
        .write(&out, false)
        .unwrap();
    out
}

/// Streams `inputs` in batches of 1, 2, 17 and 100 (as many as there are) under the given
/// backpressure and checks every output against the golden model.
fn check(
    model: &Model,
    part: &str,
    pes: usize,
    tdata_bits: u32,
    inputs: &[Vec<i64>],
    gaps: &[(u32, u32)],
) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundle(model, part, pes, tdata_bits, tmp.path());
    let want: Vec<Vec<i64>> = inputs.iter().map(|x| golden::run(model, x)).collect();
    for (k, &(valid_pct, ready_pct)) in gaps.iter().enumerate() {
        let b = bramble_host::Bundle::load_checked(&dir).unwrap();
        let opts = SimOptions {
            cache_dir: Some(cache()),
            ..Default::default()
        };
        let stream = SimStreamConfig {
            valid_pct,
            ready_pct,
            seed: 11 + k as u64,
            ..Default::default()
        };
        let mut dev = bramble_host::sim::open_with_stream(b, &opts, &stream)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            dev.has_stream(),
            "the engine has stream ports: batches must stream"
        );
        let mut at = 0;
        for n in [1usize, 2, 17, 100] {
            if at >= inputs.len() {
                break;
            }
            let end = (at + n).min(inputs.len());
            let batch = dev
                .run_batch_raw(&inputs[at..end], Duration::from_secs(120))
                .unwrap_or_else(|e| panic!("batch of {n} at {at}: {e}"));
            assert_eq!(batch.raw.len(), end - at);
            for (i, raw) in batch.raw.iter().enumerate() {
                assert_eq!(
                    raw,
                    &want[at + i],
                    "{}: vector {} of a batch of {} (valid {valid_pct}%, ready {ready_pct}%): \
                     streamed vs golden",
                    model.name,
                    at + i,
                    end - at
                );
                assert!(batch.cycles[i] > 0, "compute cycles of vector {}", at + i);
            }
            let total = batch
                .total_cycles
                .expect("a streamed batch has total_cycles");
            let compute: u64 = batch.cycles.iter().sum();
            // The engine computes one vector at a time: a batch takes at least its compute.
            assert!(total >= compute, "total_cycles {total} < compute {compute}");
            at = end;
        }
    }
}

fn jet(name: &str) -> Model {
    bramble::benchmarks::jet(name).unwrap()
}

fn jet_inputs(model: &Model, n: usize) -> Vec<Vec<i64>> {
    let mut rng = synthetic::Rng::new(77);
    (0..n)
        .map(|_| {
            let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
            golden::quantize_input(model, &x)
        })
        .collect()
}

/// No gaps, gaps on both sides, and a consumer that is ready half the time.
const GAPS: [(u32, u32); 3] = [(100, 100), (60, 70), (100, 50)];

#[test]
fn jet_70pruned_streams_bit_exact() {
    let m = jet("jet_70pruned");
    check(&m, "xc7z020", 8, 32, &jet_inputs(&m, 120), &GAPS);
}

#[test]
fn jet_dense_streams_bit_exact_64bit_tdata() {
    let m = jet("jet_dense");
    check(&m, "xczu3eg", 4, 64, &jet_inputs(&m, 120), &GAPS[1..2]);
}

#[test]
fn jet_95pruned_streams_bit_exact() {
    let m = jet("jet_95pruned");
    check(&m, "xcu250", 3, 32, &jet_inputs(&m, 120), &GAPS[2..]);
}

/// The digits example as a user has it: the description, its weights and its test images.
#[test]
fn digits_streams_bit_exact() {
    let ex = workspace().join("examples/digits");
    let (m, _) = bramble::source::load(&ex.join("digits.yaml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = bundle(&m, "xc7z020", 8, 32, tmp.path());
    let b = bramble_host::Bundle::load_checked(&dir).unwrap();
    let x = bramble_host::report::read_inputs(&ex.join("test_x.npy"), &b).unwrap();
    let inputs: Vec<Vec<i64>> = x
        .rows
        .iter()
        .take(120)
        .map(|v| golden::quantize_input(&m, v))
        .collect();
    check(&m, "xc7z020", 8, 32, &inputs, &GAPS[1..2]);
}

/// Random networks: 8-bit activations (8 lanes on 64-bit TDATA, 4 on 32), odd sizes that leave
/// lanes of the last beat empty, 1 to 3 layers (A and B buffers present or not).
#[test]
fn random_networks_stream_bit_exact() {
    for (seed, shape, act, pes, tdata) in [
        (1u64, &[13usize, 7][..], 8u32, 3usize, 64u32),
        (2, &[21, 17, 9], 6, 4, 32),
        (3, &[9, 30, 11, 5], 12, 5, 64),
    ] {
        let layers = shape
            .windows(2)
            .enumerate()
            .map(|(i, w)| LayerSpec {
                rows: w[1],
                cols: w[0],
                density: 0.5,
                relu: i % 2 == 0,
            })
            .collect();
        let m = synthetic::model(&Spec {
            name: format!("stream{seed}"),
            input: shape[0],
            layers,
            act_bits: act,
            weight_bits: 3,
            codebook_bits: 10,
            empty_every: 0,
            seed,
        });
        let inputs = synthetic::inputs(&m, 120, 0.4, seed ^ 0x77);
        check(&m, "xcu250", pes, tdata, &inputs, &GAPS[1..2]);
    }
}
