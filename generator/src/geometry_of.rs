//! `bramble generate NET --geometry-of BUNDLE`: a new network on an existing run-time-weights
//! bundle's engine. The new network's geometry is computed with the bundle's PE count, part and
//! TDATA width, its capacities (entry memory depth, accumulator width) raised to the bundle's when
//! it needs no more, and it must then hash to the bundle's `weights.geometry_hash`
//! ([`crate::weight_image::geometry_hash`], the one definition). What is written is a
//! weights-only bundle: the manifest, the weight image and the model, no `rtl/`.

use std::path::{Path, PathBuf};

use bramble_abi::manifest::{FileEntry, Manifest, MANIFEST_FILE};

use crate::error::{Error, Result};
use crate::generate::Bundle;
use crate::model::Model;
use crate::plan::Geometry;
use crate::weight_image;

/// The bundle whose geometry a new network must fit, read and checked.
pub struct OldGeometry {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// Its geometry, rebuilt from its `model.json` (and checked against its geometry hash).
    pub geometry: Geometry,
}

impl OldGeometry {
    fn err(&self, message: String) -> Error {
        err(&self.dir, message)
    }
}

fn err(dir: &Path, message: String) -> Error {
    Error::GeometryOf {
        bundle: dir.to_path_buf(),
        message,
    }
}

/// Reads the bundle at `dir`: its manifest and files checked, run-time weights required, its
/// geometry rebuilt from `model.json` and checked against `weights.geometry_hash`.
pub fn read_old(dir: &Path) -> Result<OldGeometry> {
    let manifest = Manifest::load(dir).map_err(|e| err(dir, e.to_string()))?;
    manifest
        .check_files(dir)
        .map_err(|e| err(dir, e.to_string()))?;
    if manifest.weights.weights_only {
        return Err(err(
            dir,
            "it is a weights-only bundle (made by `--geometry-of`, no rtl/); pass the bundle \
             with the engine it was made for"
                .into(),
        ));
    }
    if !manifest.runtime_weights() {
        return Err(err(
            dir,
            format!(
                "the bundle has its weights in the bitstream (weights.mode \"{}\"); only a \
                 bundle generated with `--weights runtime` can load other weights",
                manifest.weights.mode
            ),
        ));
    }
    let model_path = dir.join("model.json");
    if !manifest.files.iter().any(|f| f.path == "model.json") {
        return Err(err(
            dir,
            "the bundle lists no model.json, which its geometry is rebuilt from".into(),
        ));
    }
    let model = Model::load(&model_path)?;
    let pes = manifest.pes as usize;
    let geometry = Geometry::new(&model, pes, manifest.gap_bits);
    let hash = weight_image::geometry_hash(&geometry, &manifest.part, manifest.tdata_bits);
    if hash != manifest.weights.geometry_hash {
        return Err(err(
            dir,
            format!(
                "its model.json gives geometry hash {hash}, but the manifest records {} (a \
                 bundle from another version of bramble?)",
                manifest.weights.geometry_hash
            ),
        ));
    }
    Ok(OldGeometry {
        dir: dir.to_path_buf(),
        manifest,
        geometry,
    })
}

/// The geometry of `model` on `old`'s engine, or the first parameter that differs.
pub fn fit(model: &Model, old: &OldGeometry) -> Result<Geometry> {
    // What every engine needs of a network (one activation width, sizes the registers hold),
    // named per layer, before the comparison with this engine's geometry.
    let part = crate::parts::find(&old.manifest.part).map_err(|e| old.err(e))?;
    crate::plan::check_target(model, part).map_err(|e| old.err(e))?;
    let o = &old.geometry;
    let mut g = Geometry::new(model, o.pes, o.gap_bits);
    if g.layers.len() != o.layers.len() {
        return Err(old.err(format!(
            "{} has {} layers, the bundle's geometry has {}",
            model.name,
            g.layers.len(),
            o.layers.len()
        )));
    }
    for (l, (a, b)) in g.layers.iter().zip(&o.layers).enumerate() {
        let name = &model.layers[l].name;
        for (what, x, y) in [
            ("inputs", a.in_size, b.in_size),
            ("outputs", a.out_size, b.out_size),
        ] {
            if x != y {
                return Err(old.err(format!(
                    "layer {name}: {x} {what}, the bundle's geometry has {y}"
                )));
            }
        }
    }
    for (what, x, y) in [
        ("activations are", g.act_bits, o.act_bits),
        ("codebook indices (weight_bits) are", g.idx_bits, o.idx_bits),
        ("codebook values are", g.cb_bits, o.cb_bits),
    ] {
        if x != y {
            return Err(old.err(format!(
                "{what} {x} bits wide, the bundle's geometry has {y}"
            )));
        }
    }
    if g.acc_bits > o.acc_bits {
        return Err(old.err(format!(
            "the accumulators need {} bits, the bundle's geometry has {}",
            g.acc_bits, o.acc_bits
        )));
    }
    for (k, pe) in g.slices.iter().enumerate() {
        let need: usize = pe.iter().map(|s| s.entries.len()).sum();
        if need > o.entry_depth {
            return Err(old.err(format!(
                "PE {k} needs {need} entries, the entry memory holds {}",
                o.entry_depth
            )));
        }
    }
    // Capacities: the bundle's, which this network does not exceed.
    g.acc_bits = o.acc_bits;
    g.entry_depth = o.entry_depth;
    g.ptr_bits = o.ptr_bits;
    let (part, tdata) = (&old.manifest.part, old.manifest.tdata_bits);
    let (new_text, old_text) = (
        weight_image::geometry_text(&g, part, tdata),
        weight_image::geometry_text(o, part, tdata),
    );
    if let Some((a, b)) = new_text.lines().zip(old_text.lines()).find(|(a, b)| a != b) {
        return Err(old.err(format!("geometry `{a}` differs from the bundle's `{b}`")));
    }
    debug_assert_eq!(
        weight_image::geometry_hash(&g, part, tdata),
        old.manifest.weights.geometry_hash
    );
    Ok(g)
}

/// The weights-only bundle of `model` with geometry `g` (from [`fit`]) for `old`'s engine: its
/// manifest (the new network's ports and layers, the engine's top, part, PEs and TDATA width,
/// `weights_only`), the weight image and `model.json`.
pub fn weights_only(model: &Model, old: &OldGeometry, g: &Geometry) -> Result<Bundle> {
    let om = &old.manifest;
    let words = crate::generate::memory_words(model, g);
    let image = weight_image::image(g, &words, om.tdata_bits);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (weight_image::IMAGE_FILE.into(), image.to_bytes()),
        ("model.json".into(), model.canonical_bytes()),
    ];
    let (input, output, layers) = crate::generate::manifest_network(model, g);
    let manifest = Manifest {
        format: bramble_abi::manifest::FORMAT.into(),
        format_version: bramble_abi::manifest::FORMAT_VERSION,
        name: model.name.to_string(),
        // The engine's: a board finds the device by it (the UIO name).
        top: om.top.clone(),
        part: om.part.clone(),
        family: om.family.clone(),
        pes: om.pes,
        network_hash: model.hash_hex(),
        regmap_version: om.regmap_version,
        act_bits: g.act_bits,
        tdata_bits: om.tdata_bits,
        gap_bits: g.gap_bits,
        input,
        output,
        layers,
        weights: bramble_abi::manifest::Weights {
            mode: "runtime".into(),
            image: weight_image::IMAGE_FILE.into(),
            crc32: format!("{:08x}", image.crc),
            geometry_hash: om.weights.geometry_hash.clone(),
            weights_only: true,
            memories: weight_image::manifest_memories(g),
        },
        rtl_files: vec![],
        memory_images: vec![],
        files: files
            .iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                sha256: bramble_abi::manifest::sha256_hex(bytes),
            })
            .collect(),
    };
    manifest.validate(Path::new(MANIFEST_FILE)).map_err(|e| {
        Error::Plan(format!(
            "internal error: weights-only manifest invalid: {e}"
        ))
    })?;
    if manifest.weights.memories != om.weights.memories {
        return Err(old.err(format!(
            "internal error: the weight memories {:?} differ from the bundle's {:?}",
            manifest.weights.memories, om.weights.memories
        )));
    }
    files.push((MANIFEST_FILE.into(), manifest.to_json().into_bytes()));
    Ok(Bundle { manifest, files })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate, Options};

    /// A run-time-weights bundle of `model` on xc7z020 with `pes` PEs, written to `dir` (the
    /// manifest's mode set to runtime: what matters here is the geometry).
    fn old_bundle(model: &Model, pes: usize, dir: &Path) {
        let part = crate::parts::find("xc7z020").unwrap();
        let (g, p) = crate::plan::choose(model, part, Some(pes)).unwrap();
        let mut b = generate(model, part, &g, &p, &Options::default()).unwrap();
        b.manifest.weights.mode = "runtime".into();
        let last = b.files.len() - 1;
        b.files[last].1 = b.manifest.to_json().into_bytes();
        b.write(dir, false).unwrap();
    }

    fn net(seed: u64, sizes: &[usize], density: f64) -> Model {
        use crate::synthetic::{model, LayerSpec, Spec};
        model(&Spec {
            name: format!("net{seed}"),
            input: sizes[0],
            layers: sizes
                .windows(2)
                .map(|w| LayerSpec {
                    rows: w[1],
                    cols: w[0],
                    density,
                    relu: true,
                })
                .collect(),
            act_bits: 16,
            weight_bits: 4,
            codebook_bits: 8,
            empty_every: 0,
            seed,
        })
    }

    #[test]
    fn a_network_of_the_same_shapes_fits_and_writes_weights_only() {
        let tmp = tempfile::tempdir().unwrap();
        let old_dir = tmp.path().join("old");
        old_bundle(&net(1, &[16, 32, 8], 0.5), 2, &old_dir);
        let old = read_old(&old_dir).unwrap();
        let new = net(2, &[16, 32, 8], 0.3);
        let g = fit(&new, &old).unwrap();
        let b = weights_only(&new, &old, &g).unwrap();
        assert!(b.manifest.weights.weights_only);
        assert_eq!(
            b.manifest.weights.geometry_hash,
            old.manifest.weights.geometry_hash
        );
        assert_ne!(b.manifest.weights.crc32, old.manifest.weights.crc32);
        assert_eq!(b.manifest.top, old.manifest.top);
        let out = tmp.path().join("new");
        b.write(&out, false).unwrap();
        let m = Manifest::load(&out).unwrap();
        m.check_files(&out).unwrap();
        assert!(!out.join("rtl").exists());
        // A weights-only bundle is not an engine to fit another network to.
        let e = read_old(&out).err().unwrap().to_string();
        assert!(e.contains("weights-only bundle"), "{e}");
    }

    #[test]
    fn differences_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let old_dir = tmp.path().join("old");
        old_bundle(&net(1, &[16, 32, 8], 0.3), 2, &old_dir);
        let mut old = read_old(&old_dir).unwrap();
        let msg = |m: Model, old: &OldGeometry| fit(&m, old).expect_err("no fit").to_string();
        let e = msg(net(2, &[16, 64, 8], 0.3), &old);
        assert!(e.contains("layer "), "{e}");
        assert!(
            e.contains("64 outputs, the bundle's geometry has 32"),
            "{e}"
        );
        let e = msg(net(2, &[16, 32], 0.3), &old);
        assert!(
            e.contains("has 1 layers, the bundle's geometry has 2"),
            "{e}"
        );
        let e = msg(net(2, &[16, 32, 8], 1.0), &old);
        assert!(e.contains("accumulators need"), "{e}");
        // One hidden layer narrower than the others: refused with the layer and the field named
        // (the engine computes at one activation width), not compared at the widest only.
        let mut narrow = net(2, &[16, 32, 8], 0.3);
        narrow.layers[0].out.bits = 8;
        let e = msg(narrow, &old);
        assert!(
            e.contains("layer `") && e.contains("act_bits 8 differs"),
            "{e}"
        );
        // An entry memory too shallow for the new network (its accumulators raised to fit).
        let new = net(1, &[16, 32, 8], 0.3);
        old.geometry.entry_depth = 10;
        let e = msg(new, &old);
        assert!(
            e.contains("PE 0 needs") && e.contains("entries, the entry memory holds 10"),
            "{e}"
        );
    }

    #[test]
    fn a_bitstream_bundle_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let model = net(1, &[8, 4], 0.5);
        let part = crate::parts::find("xc7z020").unwrap();
        let (g, p) = crate::plan::choose(&model, part, Some(1)).unwrap();
        let b = generate(&model, part, &g, &p, &Options::default()).unwrap();
        b.write(&tmp.path().join("b"), false).unwrap();
        let e = read_old(&tmp.path().join("b")).err().unwrap().to_string();
        assert!(e.contains("--weights runtime"), "{e}");
        let e = read_old(&tmp.path().join("none"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("none"), "{e}");
    }
}
