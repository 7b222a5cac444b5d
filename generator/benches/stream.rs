//! End-to-end streaming efficiency under Verilator (issue 10): a batch streamed through the
//! harness's AXI DMA model into the engine's AXI4-Stream input and out of its output, the same
//! driver path as a Zynq board. For each design and batch it prints
//!
//! - `total_cycles`: the device's TOTAL counter, first input beat to last output beat;
//! - compute: the sum of the per-vector compute cycles (the cycles beat of every vector);
//! - ideal: the sum over vectors and layers of active non-zero weights / PEs (a layer's active
//!   weights are those in the columns of its non-zero inputs);
//! - end-to-end efficiency = ideal / total_cycles, and compute / total_cycles (how much of the
//!   batch the engine computed: the rest is fill, drain and stalls);
//! - overhead per vector beyond compute = (total_cycles - compute) / vectors;
//! - vectors per second at 200 MHz = vectors / (total_cycles / 200e6).
//!
//! with a consumer that is always ready and with one that is ready half the time (seeded).
//! Every output is checked against the golden model.
//!
//! Run: `cargo bench -p bramble --bench stream [-- FILTER...]` (designs whose name contains a
//! FILTER). Needs verilator.

use bramble::generate::{self, Options};
use bramble::model::Model;
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble::{golden, parts, plan};
use bramble_host::sim::{SimOptions, SimStreamConfig};
use std::time::Duration;

/// Active non-zero weights / PEs of every layer for one input (the engine's lower bound).
fn ideal(m: &Model, pes: usize, x: &[i64]) -> f64 {
    let mut act = x.to_vec();
    let mut sum = 0.0;
    for l in 0..m.layers.len() {
        let w = &m.layers[l].weights;
        let nnz: usize = (0..w.cols)
            .filter(|&j| act[j] != 0)
            .map(|j| (w.col_ptr[j + 1] - w.col_ptr[j]) as usize)
            .sum();
        sum += nnz as f64 / pes as f64;
        act = golden::run_layer(m, l, &act);
    }
    sum
}

fn measure(name: &str, m: &Model, part: &str, pes: usize, inputs: &[Vec<i64>]) {
    let part = parts::find(part).unwrap();
    let (g, p) = plan::choose(m, part, Some(pes)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    generate::generate(m, part, &g, &p, &Options::default())
        .unwrap()
        .write(&dir, false)
        .unwrap();
    let want: Vec<Vec<i64>> = inputs.iter().map(|x| golden::run(m, x)).collect();
    let ideal: f64 = inputs.iter().map(|x| ideal(m, pes, x)).sum();
    for ready_pct in [100, 50] {
        let bundle = bramble_host::Bundle::load(&dir).unwrap();
        let stream = SimStreamConfig {
            ready_pct,
            buffer_size: 64 << 20,
            ..Default::default()
        };
        let mut dev = bramble_host::sim::open_with_stream(bundle, &SimOptions::default(), &stream)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(dev.has_stream());
        let batch = dev
            .run_batch_raw(inputs, Duration::from_secs(3600))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(batch.raw, want, "{name}: streamed outputs vs golden");
        let total = batch.total_cycles.expect("streamed") as f64;
        let compute: u64 = batch.cycles.iter().sum();
        let n = inputs.len() as f64;
        println!(
            "| {name} | {} | {pes} | {} | {ready_pct}% | {total:.0} | {compute} | {ideal:.0} | {:.3} | {:.3} | {:.1} | {:.0} |",
            part.name,
            inputs.len(),
            ideal / total,
            compute as f64 / total,
            (total - compute as f64) / n,
            n / (total / 200e6),
        );
    }
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    println!("| design | part | PEs | vectors | consumer ready | total_cycles | compute | ideal | end-to-end efficiency | compute / total | overhead / vector | vectors/s at 200 MHz |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    if selected("1024x1024") {
        let big = synthetic::model(&Spec {
            name: "fc1024".into(),
            input: 1024,
            layers: vec![LayerSpec {
                rows: 1024,
                cols: 1024,
                density: 0.10,
                relu: false,
            }],
            act_bits: 16,
            weight_bits: 4,
            codebook_bits: 16,
            empty_every: 0,
            seed: 42,
        });
        let inputs = synthetic::inputs(&big, 16, 0.35, 7);
        measure("1024x1024 10%/35%", &big, "xcu250", 8, &inputs);
    }
    if selected("jet_70pruned") {
        let jet = bramble::benchmarks::jet("jet_70pruned").unwrap();
        let mut rng = synthetic::Rng::new(5);
        let inputs: Vec<Vec<i64>> = (0..1000)
            .map(|_| {
                let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
                golden::quantize_input(&jet, &x)
            })
            .collect();
        measure("jet_70pruned", &jet, "xc7z020", 8, &inputs);
    }
    if selected("digits") {
        let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/digits");
        let (m, _) = bramble::source::load(&ex.join("digits.yaml")).unwrap();
        let rows = bramble_abi::array::read_inputs(&ex.join("test_x.npy")).unwrap();
        let inputs: Vec<Vec<i64>> = rows
            .iter()
            .cycle()
            .take(1000)
            .map(|x| golden::quantize_input(&m, x))
            .collect();
        measure("digits", &m, "xc7z020", 8, &inputs);
    }
}
