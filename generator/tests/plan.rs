//! Planning against a part: `--pes auto` picks the largest count that fits, and a network that
//! fits nowhere gets an error saying what is over, by how much, and what would help.

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
        let more = plan::Geometry::new(&m, p.pes + 1);
        assert!(!plan::plan(part, &more).fits, "{} PEs fit too", p.pes + 1);
    }
    assert!(plan::choose(&m, part, Some(0))
        .unwrap_err()
        .contains("out of range"));
}
