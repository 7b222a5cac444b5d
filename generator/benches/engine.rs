//! Engine efficiency from simulation (not a timed test): cycles per inference of the generated
//! RTL under Verilator against the ideal (active non-zero weights / PEs), for a 1024x1024 layer at
//! 10% weight density with 35% non-zero inputs on 8 PEs and for EIE's layer shapes scaled down,
//! plus the cycles of a dense engine with the same multipliers. With `-- --yosys`, also Yosys
//! utilisation, logic depth in LUT levels (worst path and estimated clock, docs/timing.md) of the
//! jet-tagging design.
//!
//! Run: `cargo bench -p bramble --bench engine` (add `-- --quick` for the 1024x1024 case on 8
//! and 64 PEs only, `-- --yosys` to add synthesis, `-- --yosys-only` for synthesis alone,
//! `-- --yosys-64` to add the 64-PE design to synthesis, `-- --runtime` to synthesise the designs
//! with `--weights runtime`: weight loader and write ports, entries as pair words). Needs
//! verilator (and yosys).

use bramble::encode::encode;
use bramble::generate::{self, Options};
use bramble::model::Model;
use bramble::parts;
use bramble::plan;
use bramble::synthetic::{self, LayerSpec, Spec};
use bramble::verify::{self, BundleDir};

struct Case {
    name: &'static str,
    cols: usize,
    rows: usize,
    weight_density: f64,
    act_density: f64,
    pes: usize,
}

fn model(c: &Case, seed: u64) -> Model {
    synthetic::model(&Spec {
        name: format!("bench_{}", c.name.replace('-', "_").to_lowercase()),
        input: c.cols,
        layers: vec![LayerSpec {
            rows: c.rows,
            cols: c.cols,
            density: c.weight_density,
            relu: false,
        }],
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed,
    })
}

struct Row {
    simulated: f64,
    ideal: f64,
    busiest_pe: f64,
    padding: f64,
    dense: f64,
}

fn run_case(c: &Case, part: &str) -> Row {
    let m = model(c, 42);
    let inputs = synthetic::inputs(&m, 4, c.act_density, 7);
    let part = parts::find(part).unwrap();
    let (g, p) = plan::choose(&m, part, Some(c.pes)).expect("fits");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let opts = Options {
        tb_inputs: Some(inputs.clone()),
        tb_count: 0,
        ..Default::default()
    };
    let bundle = generate::generate(&m, part, &g, &p, &opts).unwrap();
    bundle.write(&dir, false).unwrap();
    let b = BundleDir::scratch(&dir).unwrap_or_else(|e| panic!("{e}"));
    let r = verify::verilator(&b).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.cycles.len(),
        inputs.len(),
        "cycles per input in the testbench output"
    );
    let w = &m.layers[0].weights;
    let slices = encode(w, c.pes, g.gap_bits);
    let (mut ideal, mut busiest, mut padding) = (0.0, 0.0, 0.0);
    for x in &inputs {
        let active: Vec<usize> = (0..c.cols).filter(|&j| x[j] != 0).collect();
        let nnz: usize = active
            .iter()
            .map(|&j| (w.col_ptr[j + 1] - w.col_ptr[j]) as usize)
            .sum();
        ideal += nnz as f64 / c.pes as f64;
        let per_pe: Vec<usize> = slices
            .iter()
            .map(|s| {
                active
                    .iter()
                    .map(|&j| (s.ptr[j + 1] - s.ptr[j]) as usize)
                    .sum()
            })
            .collect();
        let stored: usize = per_pe.iter().sum();
        padding += (stored - nnz) as f64 / c.pes as f64;
        busiest += *per_pe.iter().max().unwrap() as f64;
    }
    let n = inputs.len() as f64;
    Row {
        simulated: r.cycles.iter().sum::<u64>() as f64 / n,
        ideal: ideal / n,
        busiest_pe: busiest / n,
        padding: padding / n,
        dense: (c.rows * c.cols) as f64 / c.pes as f64,
    }
}

/// Yosys utilisation of one design, printed as a table row; returns (LUT, SRL + LUT RAM cells, FF).
fn yosys_row(
    label: &str,
    m: &Model,
    part: &str,
    pes: usize,
    weights: plan::WeightsMode,
) -> (usize, usize, usize) {
    let tmp = tempfile::tempdir().unwrap();
    let part = parts::find(part).unwrap();
    let req = plan::Request {
        pes: Some(pes),
        weights,
        ..Default::default()
    };
    let (g, p) = plan::choose_with(m, part, req).unwrap();
    let dir = tmp.path().join("b");
    let opts = Options {
        tb_inputs: None,
        tb_count: 1,
        weights,
        ..Default::default()
    };
    let bundle = generate::generate(m, part, &g, &p, &opts).unwrap();
    bundle.write(&dir, false).unwrap();
    let b = BundleDir::scratch(&dir).unwrap_or_else(|e| panic!("{e}"));
    let u = verify::yosys(&b, part.family, true).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "| {label}, {} (`-family {}`), {pes} PEs{} | {} | {} | {} | {} | {} | {} (plan {}) | {} (plan {}) | {} | {} |",
        part.name,
        part.family.yosys_family(),
        if weights == plan::WeightsMode::Runtime {
            ", run-time weights"
        } else {
            ""
        },
        u.lut,
        u.srl,
        u.lutram_cells,
        u.ff,
        u.carry,
        u.ramb18,
        p.bram18,
        u.ramb36,
        p.bram36,
        u.dsp,
        u.lut_levels.map_or("-".to_string(), |l| l.to_string()),
    );
    if let Some(depth) = u.depth_text(part.family) {
        println!("  {depth}");
    }
    (u.lut, u.srl + u.lutram_cells, u.ff)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let yosys_only = args.iter().any(|a| a == "--yosys-only");
    let yosys = yosys_only || args.iter().any(|a| a == "--yosys");
    let yosys64 = args.iter().any(|a| a == "--yosys-64");
    let weights = if args.iter().any(|a| a == "--runtime") {
        plan::WeightsMode::Runtime
    } else {
        plan::WeightsMode::Bitstream
    };
    let big = |pes| Case {
        name: "1024x1024",
        cols: 1024,
        rows: 1024,
        weight_density: 0.10,
        act_density: 0.35,
        pes,
    };
    // The 1024x1024 layer at 10% weights and 35% inputs on 8 to 64 PEs.
    let mut cases: Vec<Case> = if quick {
        vec![big(8), big(64)]
    } else {
        vec![big(8), big(16), big(32), big(64)]
    };
    if !quick {
        // EIE Table III shapes (in x out), both dimensions divided by 8, on 8 PEs.
        for (name, cols, rows, wd, ad) in [
            ("Alex-6", 9216, 4096, 0.09, 0.351),
            ("Alex-7", 4096, 4096, 0.09, 0.353),
            ("Alex-8", 4096, 1000, 0.25, 0.375),
            ("VGG-6", 25088, 4096, 0.04, 0.183),
            ("VGG-7", 4096, 4096, 0.04, 0.375),
            ("VGG-8", 4096, 1000, 0.23, 0.411),
            ("NT-We", 4096, 600, 0.10, 1.0),
            ("NT-Wd", 600, 8791, 0.11, 1.0),
        ] {
            cases.push(Case {
                name,
                cols: cols / 8,
                rows: rows / 8,
                weight_density: wd,
                act_density: ad,
                pes: 8,
            });
        }
    }
    if !yosys_only {
        println!("| layer | in x out | PEs | simulated | ideal | busiest PE | padding / PE | efficiency | dense / sparse |");
        println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    }
    for c in cases.iter().filter(|_| !yosys_only) {
        let r = run_case(c, "xcu250");
        println!(
            "| {} | {}x{} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.3} | {:.1} |",
            c.name,
            c.cols,
            c.rows,
            c.pes,
            r.simulated,
            r.ideal,
            r.busiest_pe,
            r.padding,
            r.ideal / r.simulated,
            r.dense / r.simulated
        );
    }
    if !yosys_only {
        println!(
            "simulated: cycle counter START->DONE (mean of 4 inputs); ideal: active non-zeros / PEs;"
        );
        println!(
            "busiest PE: stored entries (incl. padding) of the most loaded PE; dense: rows*cols / PEs."
        );
    }
    if yosys {
        println!("| design | LUT | SRL | LUT RAM cells | FF | CARRY | RAMB18 | RAMB36 | DSP | LUT levels |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        let jet = bramble::benchmarks::jet("jet_70pruned").unwrap();
        let (l4, m4, f4) = yosys_row("jet_70pruned", &jet, "xc7z020", 4, weights);
        let (l8, m8, f8) = yosys_row("jet_70pruned", &jet, "xc7z020", 8, weights);
        println!(
            "per PE (8 PEs - 4 PEs) / 4 on xc7z020: LUT {:.0}, SRL + LUT RAM cells {:.0}, FF {:.0}",
            (l8 as f64 - l4 as f64) / 4.0,
            (m8 as f64 - m4 as f64) / 4.0,
            (f8 as f64 - f4 as f64) / 4.0
        );
        let m = model(&big(8), 42);
        yosys_row("1024x1024", &m, "xczu9eg", 8, weights);
        if yosys64 {
            yosys_row("1024x1024", &m, "xczu9eg", 64, weights);
        }
    }
}
