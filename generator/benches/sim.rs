//! Verilator throughput through the host API (the same path as `bramble sim`): simulated clock
//! cycles per second and inferences per second, for the jet-tagging design and an 8-PE
//! 1024x1024 layer (10% weights, 35% non-zero inputs). Wall-clock numbers of this machine; the
//! build of the simulation library is excluded (it is cached by content hash).
//!
//! Run: `cargo bench -p bramble --bench sim`. Needs verilator.

use bramble::generate::{self, Options};
use bramble::model::Model;
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble::{golden, parts, plan};
use std::time::{Duration, Instant};

fn measure(name: &str, m: &Model, pes: usize, inputs: &[Vec<i64>]) {
    let part = parts::find("xcu250").unwrap();
    let (g, p) = plan::choose(m, part, Some(pes)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let opts = Options {
        tb_inputs: None,
        tb_count: 1,
    };
    let bundle = generate::generate(m, part, &g, &p, &opts).unwrap();
    bundle.write(&dir, false).unwrap();
    let bundle = bramble_host::Bundle::load(&dir).unwrap();
    let t0 = Instant::now();
    let mut dev = bramble_host::sim::open(bundle, &bramble_host::sim::SimOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let build = t0.elapsed();
    let c0 = dev.sim_cycles().unwrap();
    let t1 = Instant::now();
    let batch = dev.run_batch_raw(inputs, Duration::from_secs(600)).unwrap();
    let wall = t1.elapsed().as_secs_f64();
    let cycles = dev.sim_cycles().unwrap() - c0;
    for (x, r) in inputs.iter().zip(&batch.raw) {
        assert_eq!(
            r,
            &golden::run(m, x),
            "simulation disagrees with the golden model"
        );
    }
    let busy: u64 = batch.cycles.iter().sum();
    println!(
        "{name:<18} {pes:>2} PEs {:>5} inputs {:>11.0} cycles/s {:>8.1} inferences/s {:>7.0} cycles/inference (START->DONE {:.0}; the rest is AXI transfers) build+load {:.1}s",
        inputs.len(),
        cycles as f64 / wall,
        inputs.len() as f64 / wall,
        cycles as f64 / inputs.len() as f64,
        busy as f64 / inputs.len() as f64,
        build.as_secs_f64()
    );
}

fn main() {
    let jet = bramble::benchmarks::jet("jet_70pruned").unwrap();
    let mut rng = synthetic::Rng::new(5);
    let jet_inputs: Vec<Vec<i64>> = (0..2000)
        .map(|_| {
            let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
            golden::quantize_input(&jet, &x)
        })
        .collect();
    measure("jet_70pruned", &jet, 4, &jet_inputs);
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
    let big_inputs = synthetic::inputs(&big, 50, 0.35, 7);
    measure("1024x1024 10%/35%", &big, 8, &big_inputs);
}
