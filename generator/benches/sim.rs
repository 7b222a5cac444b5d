//! Verilator throughput through the host API (the same path as `bramble sim`): simulated clock
//! cycles per second and inferences per second, for the jet-tagging design (jet_70pruned with 8
//! PEs on xc7z020, the design issue 9 sets the 1 M cycles/s target on, and with 4 PEs on xcu250)
//! and an 8-PE 1024x1024 layer (10% weights, 35% non-zero inputs). Wall-clock numbers of this
//! machine; the build of the simulation library is timed apart and excluded (it is cached by
//! content hash; point `BRAMBLE_SIM_CACHE` at an empty directory to time a cold build).
//!
//! Run: `cargo bench -p bramble --bench sim [-- FILTER...]` (only the designs whose
//! "name part PEs", e.g. `jet_70pruned xc7z020 8`, contains one of the FILTERs). Needs verilator.

use bramble::generate::{self, Options};
use bramble::model::Model;
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble::{golden, parts, plan};
use std::time::{Duration, Instant};

fn measure(filters: &[String], name: &str, m: &Model, part: &str, pes: usize, inputs: &[Vec<i64>]) {
    if !selected(filters, name, part, pes) {
        return;
    }
    let part = parts::find(part).unwrap();
    let (g, p) = plan::choose(m, part, Some(pes)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let opts = Options {
        tb_inputs: None,
        tb_count: 1,
        ..Default::default()
    };
    let bundle = generate::generate(m, part, &g, &p, &opts).unwrap();
    bundle.write(&dir, false).unwrap();
    let bundle = bramble_host::Bundle::load(&dir).unwrap();
    let sim_opts = bramble_host::sim::SimOptions::default();
    let t0 = Instant::now();
    let lib = bramble_host::sim::build(&bundle, &sim_opts).unwrap_or_else(|e| panic!("{e}"));
    let build = t0.elapsed();
    let mut dev = bramble_host::sim::open(bundle, &sim_opts).unwrap_or_else(|e| panic!("{e}"));
    let c0 = dev.sim_cycles().unwrap();
    let t1 = Instant::now();
    let cpu1 = cpu_seconds();
    let batch = dev.run_batch_raw(inputs, Duration::from_secs(600)).unwrap();
    let wall = t1.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu1;
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
        "{name:<18} {:<8} {pes:>2} PEs {:>5} inputs {:>9.0} cycles/s ({:>9.0} per CPU-second) {:>7.1} inferences/s {:>7.0} cycles/inference (compute {:.0}; the rest is I/O not hidden by it) library {}",
        part.name,
        inputs.len(),
        cycles as f64 / wall,
        cycles as f64 / cpu,
        inputs.len() as f64 / wall,
        cycles as f64 / inputs.len() as f64,
        busy as f64 / inputs.len() as f64,
        if lib.cached {
            "cached".to_string()
        } else {
            format!("built in {:.1}s", build.as_secs_f64())
        }
    );
}

/// True when no filter was given or one is part of "name part PEs".
fn selected(filters: &[String], name: &str, part: &str, pes: usize) -> bool {
    let label = format!("{name} {part} {pes}");
    filters.is_empty() || filters.iter().any(|f| label.contains(f.as_str()))
}

/// CPU time of this thread (user + system, from /proc; 10 ms resolution): with other jobs on the
/// machine it moves less than wall-clock time, so it is printed beside it.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11)
        .copied()
        .unwrap_or(0)
        .saturating_add(f.get(12).copied().unwrap_or(0)) as f64
        / 100.0
}

fn main() {
    // `cargo bench` passes `--bench`; every other argument selects designs by name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();

    let jet = bramble::benchmarks::jet("jet_70pruned").unwrap();
    let mut rng = synthetic::Rng::new(5);
    let jet_inputs: Vec<Vec<i64>> = (0..2000)
        .map(|_| {
            let x: Vec<f64> = (0..16).map(|_| (rng.unit() - 0.5) * 8.0).collect();
            golden::quantize_input(&jet, &x)
        })
        .collect();
    measure(&filters, "jet_70pruned", &jet, "xc7z020", 8, &jet_inputs);
    measure(&filters, "jet_70pruned", &jet, "xcu250", 4, &jet_inputs);
    if selected(&filters, "1024x1024 10%/35%", "xcu250", 8) {
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
        measure(
            &filters,
            "1024x1024 10%/35%",
            &big,
            "xcu250",
            8,
            &big_inputs,
        );
    }
}
