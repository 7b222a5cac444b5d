//! The shared benchmark networks (`../shared/benchmarks/` beside the repository): the hls4ml
//! jet-tagging MLPs, used by tests and benchmarks; and EIE's headline layer with synthetic
//! weights.

use crate::compress::compress;
use crate::desc::Network;
use crate::error::Result;
use crate::model::Model;
use std::path::{Path, PathBuf};

/// The jet networks' files.
pub const JET: [&str; 3] = ["jet_dense", "jet_70pruned", "jet_95pruned"];

/// `../shared/benchmarks/jet` relative to the workspace root.
pub fn jet_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/jet")
}

/// The description of a jet network (Keras layout; the softmax output layer runs without an
/// activation, argmax/softmax belong to the host).
pub fn jet_description(name: &str, npz: &Path) -> String {
    format!(
        "name: {name}\nweights: {}\nlayout: in_out\ninput: {{size: 16, frac_bits: 10}}\nlayers:\n\
         \x20 - {{name: fc1, weight: fc1_relu/kernel, bias: fc1_relu/bias, activation: relu}}\n\
         \x20 - {{name: fc2, weight: fc2_relu/kernel, bias: fc2_relu/bias, activation: relu}}\n\
         \x20 - {{name: fc3, weight: fc3_relu/kernel, bias: fc3_relu/bias, activation: relu}}\n\
         \x20 - {{name: out, weight: output_softmax/kernel, bias: output_softmax/bias, activation: none}}\n",
        npz.display()
    )
}

/// Load and compress jet network `name` (e.g. `jet_70pruned`). Panics with a clear message when
/// the shared benchmarks are missing: a test or benchmark cannot run without them.
pub fn jet(name: &str) -> Result<Model> {
    let npz = jet_dir().join(format!("{name}.npz"));
    assert!(
        npz.exists(),
        "{} is missing: the shared benchmarks must sit beside the repository (../shared/benchmarks)",
        npz.display()
    );
    let yaml = jet_dir().join(format!("{name}.yaml"));
    let net = Network::parse(&jet_description(name, &npz), &yaml)?;
    Ok(compress(&net)?.0)
}

/// Seed of [`alex6`]'s synthetic weights (the engine bench's seed).
pub const ALEX6_SEED: u64 = 42;

/// EIE's Alex-6 (AlexNet fc6: 9216 inputs x 4096 outputs, 9% weight density, 4-bit codebook
/// indices, 16-bit activations and codebook; EIE Table III) with synthetic weights of a fixed
/// seed, both dimensions divided by `scale` (1 = full size, 8 = the 1152 x 512 stand-in that
/// simulates in seconds).
pub fn alex6(scale: usize) -> Model {
    assert!(
        scale >= 1 && 4096 % scale == 0,
        "internal error: scale {scale}"
    );
    let (cols, rows) = (9216 / scale, 4096 / scale);
    crate::synthetic::model(&crate::synthetic::Spec {
        name: if scale == 1 {
            "alex6".into()
        } else {
            format!("alex6_div{scale}")
        },
        input: cols,
        layers: vec![crate::synthetic::LayerSpec {
            rows,
            cols,
            density: 0.09,
            relu: false,
        }],
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed: ALEX6_SEED,
    })
}

/// Seed of [`square16k`]'s synthetic weights.
pub const SQUARE16K_SEED: u64 = 16384;

/// The URAM benchmark of issue 14: a 16384 x 16384 layer at 10% density with 4-bit codebook
/// indices (about 27 M non-zeros, some 250 Mbit of entries: more than xcu250's 97 Mbit of block
/// RAM), synthetic weights of a fixed seed; `scale` divides both dimensions (8: 2048 x 2048).
pub fn square16k(scale: usize) -> Model {
    assert!(
        scale >= 1 && 16384 % scale == 0,
        "internal error: scale {scale}"
    );
    let n = 16384 / scale;
    crate::synthetic::model(&crate::synthetic::Spec {
        name: if scale == 1 {
            "square16k".into()
        } else {
            format!("square16k_div{scale}")
        },
        input: n,
        layers: vec![crate::synthetic::LayerSpec {
            rows: n,
            cols: n,
            density: 0.10,
            relu: false,
        }],
        act_bits: 16,
        weight_bits: 4,
        codebook_bits: 16,
        empty_every: 0,
        seed: SQUARE16K_SEED,
    })
}
