//! Block-RAM fit of EIE's headline layer (not a timed test): AlexNet fc6 (9216 x 4096 at 9%
//! density, 4-bit codebook indices, synthetic weights of a fixed seed, `bramble::benchmarks::alex6`)
//! planned on xczu9eg (ZCU102, 912 RAMB36) with the planner's choice of PE count and entry format
//! (`--pes auto`), against EIE's fixed 4-bit row gap. With `-- --sim`, the 1/8-scale layer
//! (1152 x 512) is generated with the entry format the full-size plan chose and simulated
//! bit-exact under Verilator (the self-checking testbench against the golden model).
//!
//! Then the UltraRAM case: a 16384 x 16384 layer at 10% (`bramble::benchmarks::square16k`, about
//! 250 Mbit of entries against xcu250's 97 Mbit of block RAM) planned on xcu250 with run-time
//! weights, where the planner puts the entry memories in URAM288; with `-- --sim` its 1/8-scale
//! layer (2048 x 2048) is simulated bit-exact with the full-size plan's entry format and entries
//! in URAM (the testbench loads the weights first).
//!
//! Run: `cargo bench -p bramble --bench fit` (add `-- --sim` for the simulations; needs
//! verilator). Add `-- --uram-only` to skip fc6.

use bramble::generate::{self, Options};
use bramble::plan::{self, Plan, Request};
use bramble::verify::{self, BundleDir};
use bramble::{benchmarks, parts, synthetic};
use std::time::Instant;

fn summary(label: &str, p: &Plan) {
    println!(
        "{label}: {} PEs, {}-bit entries ({} gap bits): {} RAMB36 tiles of {} ({:.1}%), \
         block RAM bits {} Kbit of {} Kbit ({:.1}%), {}",
        p.pes,
        p.entry_bits,
        p.gap_bits,
        p.bram36_tiles,
        p.part_bram36,
        100.0 * p.bram36_tiles as f64 / p.part_bram36 as f64,
        p.block_bits.div_ceil(1024),
        p.part_block_bits / 1024,
        100.0 * p.block_bits as f64 / p.part_block_bits as f64,
        if p.fits { "fits" } else { "does NOT fit" }
    );
    let entries: usize = p.layers.iter().map(|l| l.entries).sum();
    let padding: usize = p.layers.iter().map(|l| l.padding_entries).sum();
    println!(
        "  entries {entries} ({padding} padding), {} Kbit of entries",
        (entries * p.entry_bits as usize).div_ceil(1024)
    );
}

fn main() {
    let sim = std::env::args().any(|a| a == "--sim");
    if !std::env::args().any(|a| a == "--uram-only") {
        alex6(sim);
    }
    uram(sim);
}

fn uram(sim: bool) {
    let part = parts::find("xcu250").unwrap();
    let t = Instant::now();
    let m = benchmarks::square16k(1);
    let w = &m.layers[0].weights;
    println!(
        "square16k (seed {}): {} in x {} out, {} non-zeros ({:.3}%), built in {:.1} s",
        benchmarks::SQUARE16K_SEED,
        w.cols,
        w.rows,
        w.nnz(),
        100.0 * w.nnz() as f64 / (w.rows * w.cols) as f64,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    match plan::choose(&m, part, None) {
        Ok((_, p)) => summary("  weights in the bitstream (block RAM only)", &p),
        Err(e) => println!("  weights in the bitstream (block RAM only): {e}"),
    }
    let req = Request {
        weights: plan::WeightsMode::Runtime,
        ..Default::default()
    };
    let (_, p) = plan::choose_with(&m, part, req)
        .expect("square16k fits xcu250 with run-time weights in URAM");
    println!(
        "bramble plan --part xcu250 --pes auto --weights runtime (planned in {:.1} s):",
        t.elapsed().as_secs_f64()
    );
    summary("  chosen", &p);
    let e = p.memories.iter().find(|m| m.name == "entries").unwrap();
    println!(
        "  entries: {} x {}x{} ({} style), {} of {} URAM288 ({:.1}%), {} Kbit of entry words of {} Kbit of URAM ({:.1}%)",
        e.instances,
        e.depth,
        e.width,
        e.style,
        p.uram,
        p.part_uram,
        100.0 * p.uram as f64 / p.part_uram as f64,
        (e.instances * e.depth * e.width).div_ceil(1024),
        p.part_uram as usize * 288,
        100.0 * (e.instances * e.depth * e.width) as f64 / (p.part_uram as usize * 288 * 1024) as f64,
    );
    println!("  entry memories: {}", p.entry_ram_why);
    if sim {
        let small = benchmarks::square16k(8);
        let req = Request {
            pes: Some(8),
            gap_bits: Some(p.gap_bits),
            weights: plan::WeightsMode::Runtime,
            entry_ram: plan::EntryRam::Ultra,
        };
        let (g, q) = plan::choose_with(&small, part, req).unwrap();
        let inputs = synthetic::inputs(&small, 3, 0.35, 7);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("b");
        let opts = Options {
            tb_inputs: Some(inputs.clone()),
            tb_count: 0,
            weights: plan::WeightsMode::Runtime,
            ..Default::default()
        };
        generate::generate(&small, part, &g, &q, &opts)
            .unwrap()
            .write(&dir, false)
            .unwrap();
        let b = BundleDir::scratch(&dir).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let r = verify::verilator(&b).unwrap_or_else(|e| panic!("{e}"));
        summary("square16k / 8 on 8 PEs, entries in URAM", &q);
        println!(
            "  {} URAM288; Verilator testbench (weights loaded, then) bit-exact on {} inputs ({:?} cycles) in {:.1} s",
            q.uram,
            inputs.len(),
            r.cycles,
            t.elapsed().as_secs_f64()
        );
    }
}

fn alex6(sim: bool) {
    let part = parts::find("xczu9eg").unwrap();
    let t = Instant::now();
    let m = benchmarks::alex6(1);
    let w = &m.layers[0].weights;
    println!(
        "alex6 (seed {}): {} in x {} out, {} non-zeros ({:.3}%), built in {:.1} s",
        benchmarks::ALEX6_SEED,
        w.cols,
        w.rows,
        w.nnz(),
        100.0 * w.nnz() as f64 / (w.rows * w.cols) as f64,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (_, p) = plan::choose(&m, part, None).expect("fc6 fits xczu9eg with the planner's choice");
    println!(
        "bramble plan --part xczu9eg --pes auto (planned in {:.1} s):",
        t.elapsed().as_secs_f64()
    );
    summary("  chosen", &p);
    println!("  gap bits  entry    entries    padding    tiles  fits");
    for c in &p.formats {
        println!(
            "  {:>8} {:>6} {:>10} {:>10} {:>8} {:>5}",
            c.gap_bits,
            c.entry_bits,
            c.entries,
            c.padding_entries,
            c.bram36_tiles,
            if c.fits { "yes" } else { "no" }
        );
    }
    println!("  why: {}", p.why);

    // EIE's fixed format, at the same PE count and searched over PE counts.
    let eie = |pes| {
        plan::choose_with(
            &m,
            part,
            Request {
                pes,
                gap_bits: Some(4),
                ..Default::default()
            },
        )
    };
    match eie(Some(p.pes)) {
        Ok((_, q)) => summary("  EIE's 4-bit gap, same PEs", &q),
        Err(e) => println!("  EIE's 4-bit gap, same PEs: {e}"),
    }
    match eie(None) {
        Ok((_, q)) => summary("  EIE's 4-bit gap, --pes auto", &q),
        Err(e) => println!("  EIE's 4-bit gap, --pes auto: {e}"),
    }

    if sim {
        let small = benchmarks::alex6(8);
        let pes = 8;
        let req = Request {
            pes: Some(pes),
            gap_bits: Some(p.gap_bits),
            ..Default::default()
        };
        let (g, q) = plan::choose_with(&small, part, req).unwrap();
        let inputs = synthetic::inputs(&small, 4, 0.351, 7);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("b");
        let opts = Options {
            tb_inputs: Some(inputs.clone()),
            tb_count: 0,
            ..Default::default()
        };
        generate::generate(&small, part, &g, &q, &opts)
            .unwrap()
            .write(&dir, false)
            .unwrap();
        let b = BundleDir::scratch(&dir).unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let r = verify::verilator(&b).unwrap_or_else(|e| panic!("{e}"));
        summary("alex6 / 8 on 8 PEs", &q);
        println!(
            "  Verilator testbench bit-exact on {} inputs ({:?} cycles) in {:.1} s",
            inputs.len(),
            r.cycles,
            t.elapsed().as_secs_f64()
        );
    }
}
