//! Planning against a part: `--pes auto` picks the largest count that fits, each with the entry
//! format (row-gap width) that needs the fewest RAMB36 tiles, and a network that fits nowhere gets
//! an error saying what is over, by how much, and what would help.

use bramble::synthetic::{self, LayerSpec, Spec};
use bramble::{parts, plan};

fn net(rows: usize, cols: usize, density: f64) -> bramble::model::Model {
    synthetic::model(&Spec {
        name: "big".into(),
        input: cols,
        layers: vec![LayerSpec {
            rows,
            cols,
            density,
            relu: false,
        }],
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed: 3,
    })
}

#[test]
fn too_big_for_the_part_says_by_how_much_and_what_helps() {
    let m = net(2048, 2048, 0.5);
    let part = parts::find("xc7z020").unwrap();
    let err = plan::choose(&m, part, None).unwrap_err();
    assert!(err.contains("does not fit xc7z020"), "{err}");
    assert!(err.contains("over by"), "{err}");
    assert!(
        err.contains("more pruning") && err.contains("bigger part"),
        "{err}"
    );
    // The same network fits a bigger part, with the largest PE count auto allows.
    let big = parts::find("xcu250").unwrap();
    let (_, p) = plan::choose(&m, big, None).unwrap();
    assert!(p.fits);
    assert_eq!(p.pes, plan::AUTO_MAX_PES);
}

#[test]
fn auto_picks_the_largest_pe_count_that_fits() {
    let m = net(512, 1024, 0.3);
    let part = parts::find("xc7z020").unwrap();
    let (_, p) = plan::choose(&m, part, None).unwrap();
    assert!(p.fits);
    if p.pes < plan::AUTO_MAX_PES {
        // Not with any entry format.
        for gap_bits in 3..=8 {
            let more = plan::Geometry::new(&m, p.pes + 1, gap_bits);
            assert!(
                !plan::plan(part, &more).fits,
                "{} PEs fit too ({gap_bits} gap bits)",
                p.pes + 1
            );
        }
    }
    assert!(plan::choose(&m, part, Some(0))
        .unwrap_err()
        .contains("out of range"));
}

/// The planner keeps the design-wide gap width whose whole plan needs the fewest RAMB36 tiles
/// (ties: fewer entries, then the narrower gap), every layer takes it, and the plan lists every
/// width it costed with the numbers of an encoded design.
#[test]
fn chooses_the_tile_minimising_gap_width() {
    // EIE's Alex-6 scaled by 1/8 in each dimension (9% density): long gaps are common.
    let m = net(512, 1152, 0.09);
    let part = parts::find("xc7z020").unwrap();
    let mut not_eie = false;
    for pes in [1, 2, 4, 8] {
        let (g, p) = plan::choose(&m, part, Some(pes)).unwrap();
        let costed: Vec<(usize, usize, u32)> = (3..=8)
            .map(|b| {
                let g = plan::Geometry::new(&m, pes, b);
                let q = plan::plan(part, &g);
                let entries: usize = g.formats.iter().map(|l| l.entries).sum();
                (q.bram36_tiles, entries, b)
            })
            .collect();
        let best = *costed.iter().min().unwrap();
        assert_eq!(p.gap_bits, best.2, "{pes} PEs: {costed:?}");
        assert_eq!(g.gap_bits, best.2);
        assert_eq!(p.bram36_tiles, best.0);
        assert_eq!(p.entry_bits, best.2 + 4);
        assert!(p.layers.iter().all(|l| l.gap_bits == best.2));
        assert_eq!(p.formats.len(), 6);
        for (c, &(tiles, entries, b)) in p.formats.iter().zip(&costed) {
            assert_eq!((c.gap_bits, c.bram36_tiles, c.entries), (b, tiles, entries));
        }
        assert!(p.why.contains("fewest"), "{}", p.why);
        not_eie |= best.2 != 4;
    }
    assert!(
        not_eie,
        "the case should make a width other than EIE's 4 bits win"
    );
}

#[test]
fn gap_bits_can_be_pinned_and_are_checked() {
    let m = net(64, 96, 0.2);
    let part = parts::find("xc7z020").unwrap();
    for b in 3..=8 {
        let req = plan::Request {
            pes: Some(2),
            gap_bits: Some(b),
            ..Default::default()
        };
        let (g, p) = plan::choose_with(&m, part, req).unwrap();
        assert_eq!((g.gap_bits, p.gap_bits, p.formats.len()), (b, b, 1));
        assert!(p.why.contains("--gap-bits"), "{}", p.why);
    }
    for b in [0, 2, 9, 64] {
        let req = plan::Request {
            pes: None,
            gap_bits: Some(b),
            ..Default::default()
        };
        let e = plan::choose_with(&m, part, req).unwrap_err();
        assert!(e.contains("--gap-bits") && e.contains("3..=8"), "{e}");
    }
}

/// Issue 14's benchmark: EIE's Alex-6 (AlexNet fc6, 9216 x 4096 at 9%, 4-bit weights, synthetic
/// with a fixed seed) fits xczu9eg's 912 RAMB36 in block RAM with the planner's choice, which EIE's
/// fixed 4-bit gap does not (docs/benchmarks.md has the numbers: `cargo bench --bench fit`).
#[test]
fn alex6_fits_xczu9eg_with_the_planners_format() {
    let m = bramble::benchmarks::alex6(1);
    let part = parts::find("xczu9eg").unwrap();
    let (_, p) = plan::choose(&m, part, None).unwrap();
    assert!(p.fits && p.bram36_tiles <= 912, "{} tiles", p.bram36_tiles);
    assert_ne!(p.gap_bits, 4, "{}", p.why);
    let eie = plan::Request {
        pes: Some(p.pes),
        gap_bits: Some(4),
        ..Default::default()
    };
    let e = plan::choose_with(&m, part, eie).unwrap_err();
    assert!(e.contains("does not fit xczu9eg"), "{e}");
}

/// Entry memories and UltraRAM (`--entry-ram`): `ultra` puts them in URAM288 and counts them,
/// `auto` picks the placement with the lower pressure on the part's memories (a tiny network's
/// LUT-RAM entries stay put), and `ultra` without run-time weights or on a part without UltraRAM
/// is refused with the reason.
#[test]
fn entry_ram_placement_and_refusals() {
    let u250 = parts::find("xcu250").unwrap();
    let runtime = |entry_ram| plan::Request {
        pes: Some(4),
        weights: plan::WeightsMode::Runtime,
        entry_ram,
        ..Default::default()
    };
    let plan_of = |m: &bramble::model::Model, req| match plan::choose_with(m, u250, req) {
        Ok((g, p)) => (g, p),
        Err(e) => panic!("{e}"),
    };
    let tiny = net(64, 64, 0.2);
    let (_, t) = plan_of(&tiny, runtime(plan::EntryRam::Auto));
    assert_eq!((t.entry_ram, t.uram), (plan::EntryRam::Block, 0));

    let m = net(512, 512, 0.2);
    let (_, auto) = plan_of(&m, runtime(plan::EntryRam::Auto));
    let (_, block) = plan_of(&m, runtime(plan::EntryRam::Block));
    let (g, ultra) = plan_of(&m, runtime(plan::EntryRam::Ultra));
    let e = ultra.memories.iter().find(|x| x.name == "entries").unwrap();
    assert_eq!((e.style, ultra.entry_ram), ("ultra", plan::EntryRam::Ultra));
    assert_eq!(ultra.uram, 4 * bramble::bram::uram(e.depth, e.width));
    assert_eq!(e.width, 2 * g.entry_bits as usize);
    assert!(ultra.bram36_tiles < block.bram36_tiles);
    let want = if plan::pressure(&ultra) < plan::pressure(&block) {
        plan::EntryRam::Ultra
    } else {
        plan::EntryRam::Block
    };
    assert_eq!(auto.entry_ram, want, "{}", auto.entry_ram_why);

    let bitstream = plan::Request {
        pes: Some(4),
        entry_ram: plan::EntryRam::Ultra,
        ..Default::default()
    };
    let err = plan::choose_with(&m, u250, bitstream)
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("--weights runtime"), "{err}");
    let zu9 = parts::find("xczu9eg").unwrap();
    let err = plan::choose_with(&m, zu9, runtime(plan::EntryRam::Ultra))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("no UltraRAM"), "{err}");
    // In the bitstream, auto says why the URAM stays unused.
    let (_, b) = plan_of(
        &m,
        plan::Request {
            pes: Some(4),
            ..Default::default()
        },
    );
    assert!(
        b.entry_ram_why.contains("--weights runtime"),
        "{}",
        b.entry_ram_why
    );
}

/// A network whose entries overflow the block RAM fits once they may go to URAM288: the planner
/// chooses URAM by itself (`auto`) when the weights load at run time, and the plan's URAM count is
/// checked against the part.
#[test]
fn entries_overflowing_block_ram_go_to_uram() {
    let m = net(8192, 8192, 0.25);
    let u55 = parts::find("xcu55c").unwrap();
    let pinned = |weights| plan::Request {
        pes: Some(16),
        weights,
        ..Default::default()
    };
    let err = plan::choose_with(&m, u55, pinned(plan::WeightsMode::Bitstream))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("URAM288 for the entries"), "{err}");
    let p = match plan::choose_with(&m, u55, pinned(plan::WeightsMode::Runtime)) {
        Ok((_, p)) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(
        p.fits && p.entry_ram == plan::EntryRam::Ultra,
        "{}",
        p.entry_ram_why
    );
    assert!(p.uram > 0 && p.uram <= p.part_uram as usize);
    assert!(
        p.entry_ram_why.contains("does not fit"),
        "{}",
        p.entry_ram_why
    );
    // The format's reason names the URAM it weighed and never claims fewer entries than a
    // candidate that stores fewer.
    assert!(p.why.contains("URAM288"), "{}", p.why);
    let chosen = p.formats.iter().find(|c| c.gap_bits == p.gap_bits).unwrap();
    if p.why.contains("store the fewest entries") {
        let tied_min = p
            .formats
            .iter()
            .filter(|c| c.fits && c.bram36_tiles == chosen.bram36_tiles && c.uram == chosen.uram)
            .map(|c| c.entries)
            .min()
            .unwrap();
        assert_eq!(chosen.entries, tied_min, "{}", p.why);
    }
}
