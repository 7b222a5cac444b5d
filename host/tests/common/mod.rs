//! Shared helpers for the host crate's integration tests: stand-in bundles around the fixture
//! Verilog, register images for file-backed stand-ins, and a thread that plays the hardware
//! behind a regular file mapped through the same mmap path a board uses.
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bramble_abi::manifest::{sha256_hex, FileEntry, WeightMemory, Weights};
use bramble_abi::weights::{Image, Mem, Record, Shape};
use bramble_host::manifest::{Layer, Manifest, Port, MAGIC};
use bramble_host::Bundle;

pub const HASH: &str = "9f86d081884c7d65";
pub const HASH_U64: u64 = 0x9f86_d081_884c_7d65;
pub const SPACE: u64 = 0x4000;
/// standin_bias.mem
pub const BIAS: [i64; 3] = [1, 0x10, -3];
/// Cycles from START to DONE in standin_top (Latency).
pub const LATENCY: u64 = 7;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

const FIXTURE_FILES: [&str; 5] = [
    "standin_top.v",
    "standin_stall_top.v",
    "standin_finish_top.v",
    "standin_t64_top.v",
    "standin_bias.mem",
];

/// The manifest of the stand-in device (`top` selects normal or stalling variant), listing the
/// fixture files with their hashes as `generate` would.
pub fn standin_manifest(top: &str) -> Manifest {
    Manifest {
        format: bramble_abi::manifest::FORMAT.into(),
        format_version: bramble_abi::manifest::FORMAT_VERSION,
        name: "standin".into(),
        top: top.into(),
        part: "xc7z020".into(),
        family: "7series".into(),
        pes: 2,
        network_hash: HASH.into(),
        regmap_version: bramble_abi::regs::REGMAP_VERSION,
        act_bits: 16,
        tdata_bits: if top == "standin_t64_top" { 64 } else { 32 },
        gap_bits: 4,
        input: Port {
            size: 4,
            bits: 16,
            frac_bits: 8,
        },
        output: Port {
            size: 3,
            bits: 16,
            frac_bits: 8,
        },
        layers: vec![Layer {
            name: "fc1".into(),
            inputs: 4,
            outputs: 3,
            relu: false,
            in_frac: 8,
            out_frac: 8,
            nonzeros: 3,
            gap_bits: 4,
            entries: 3,
        }],
        weights: Weights {
            mode: "bitstream".into(),
            image: WEIGHTS_FILE.into(),
            crc32: format!("{WEIGHTS_CRC:08x}"),
            geometry_hash: GEOMETRY_HASH.into(),
            weights_only: false,
            memories: standin_memories(),
        },
        rtl_files: match top {
            "standin_stall_top" => vec!["standin_stall_top.v".into(), "standin_top.v".into()],
            "standin_finish_top" => vec!["standin_finish_top.v".into(), "standin_top.v".into()],
            "standin_t64_top" => vec!["standin_t64_top.v".into(), "standin_top.v".into()],
            _ => vec!["standin_top.v".into()],
        },
        memory_images: vec!["standin_bias.mem".into()],
        files: FIXTURE_FILES
            .iter()
            .map(|f| FileEntry {
                path: format!("rtl/{f}"),
                sha256: sha256_hex(&std::fs::read(fixtures().join(f)).unwrap()),
            })
            .chain([FileEntry {
                path: WEIGHTS_FILE.into(),
                sha256: sha256_hex(&standin_image().to_bytes()),
            }])
            .collect(),
    }
}

/// The weight image of stand-in bundles (inside the bundle).
pub const WEIGHTS_FILE: &str = "weights/weights.bin";
/// CRC of [`standin_image`] (standin_top.v's WeightsCrc).
pub const WEIGHTS_CRC: u32 = 0xd2ba_232e;
/// The stand-in's geometry hash (HASH of a run-time-weights stand-in).
pub const GEOMETRY_HASH: &str = "0123456789abcdef";
pub const GEOMETRY_HASH_U64: u64 = 0x0123_4567_89ab_cdef;

/// The loadable memories of the stand-in's (pretend) geometry.
pub fn standin_memories() -> Vec<WeightMemory> {
    [
        ("entries", 8, 16),
        ("ptr_even", 5, 4),
        ("ptr_odd", 5, 4),
        ("bias", 32, 2),
        ("codebook", 16, 16),
        ("layers", 128, 1),
    ]
    .into_iter()
    .map(|(name, width, depth)| WeightMemory {
        name: name.into(),
        width,
        depth,
    })
    .collect()
}

/// The shape function of [`standin_memories`].
pub fn standin_shape(m: Mem) -> Option<Shape> {
    standin_memories()
        .into_iter()
        .find(|w| w.name == m.name())
        .map(|w| Shape {
            width: w.width,
            depth: w.depth,
        })
}

/// A weight image for the stand-in geometry: two bias records with `a` and `b`, 32-bit beats.
pub fn image_with(a: u128, b: u128) -> Image {
    let rec = |pe, words| Record {
        mem: Mem::Bias,
        pe,
        addr: 0,
        words,
    };
    Image::build(
        &[rec(0, vec![a, 0x10]), rec(1, vec![b, 0])],
        2,
        32,
        &standin_shape,
    )
    .unwrap()
}

/// The stand-in bundle's weight image (CRC [`WEIGHTS_CRC`]; the same words for 32- and 64-bit
/// beats).
pub fn standin_image() -> Image {
    image_with(1, 0xFFFF_FFFD)
}

/// `manifest` turned into a run-time-weights bundle's with the weight image `image`.
pub fn runtime_manifest(mut manifest: Manifest, image: &Image) -> Manifest {
    manifest.weights.mode = "runtime".into();
    manifest.weights.crc32 = format!("{:08x}", image.crc);
    for f in &mut manifest.files {
        if f.path == WEIGHTS_FILE {
            f.sha256 = sha256_hex(&image.to_bytes());
        }
    }
    manifest
}

/// Writes a bundle directory (manifest.json + rtl/ with the fixtures) and loads it.
pub fn write_bundle(dir: &Path, manifest: &Manifest) -> Bundle {
    let rtl = dir.join("rtl");
    std::fs::create_dir_all(&rtl).unwrap();
    for f in FIXTURE_FILES {
        std::fs::copy(fixtures().join(f), rtl.join(f)).unwrap();
    }
    write_weights(dir, manifest, &standin_image());
    Bundle::load_checked(dir).unwrap()
}

/// Writes `image` as the bundle's weight image and `manifest` (whose hashes must match).
pub fn write_weights(dir: &Path, manifest: &Manifest, image: &Image) {
    std::fs::create_dir_all(dir.join("weights")).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), image.to_bytes()).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
}

/// The stand-in's function on raw inputs.
pub fn standin_expected(raw: &[i64]) -> Vec<i64> {
    (0..3)
        .map(|i| {
            let s = (raw[i % 4] + BIAS[i]) as i16; // wraps to act_bits like the RTL
            s as i64
        })
        .collect()
}

/// A register image (`SPACE` bytes) with the stand-in's identification block (and WSTATUS,
/// WHASH of a design with the stand-in's weights in the bitstream).
pub fn id_image() -> Vec<u8> {
    let mut img = vec![0u8; SPACE as usize];
    let words: [(usize, u32); 10] = [
        (0x00, MAGIC),
        (0x04, bramble_abi::regs::REGMAP_VERSION),
        (0x08, HASH_U64 as u32),
        (0x0C, (HASH_U64 >> 32) as u32),
        (0x10, 2 | (1 << 8) | (16 << 16)),
        (0x14, 4 | (3 << 16)),
        (0x18, 0x1000),
        (0x1C, 0x2000),
        (0x64, bramble_abi::regs::WSTATUS_LOADED),
        (0x6C, WEIGHTS_CRC),
    ];
    for (off, w) in words {
        img[off..off + 4].copy_from_slice(&w.to_le_bytes());
    }
    img
}

pub fn word(img: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(img[off..off + 4].try_into().unwrap())
}

/// Plays the accelerator behind a file: watches CONTROL.START at `base`, computes the stand-in
/// function from the input window, writes outputs, CYCLES = 42 and STATUS = DONE|IRQ_PENDING.
/// Stops when dropped (or after 20 s).
pub struct FileDevice {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u32>>,
}

impl FileDevice {
    pub fn spawn(path: &Path, base: u64) -> FileDevice {
        let file = File::options().read(true).write(true).open(path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let rd = |off: u64| {
                let mut b = [0u8; 4];
                file.read_exact_at(&mut b, base + off).unwrap();
                u32::from_le_bytes(b)
            };
            let wr = |off: u64, v: u32| file.write_all_at(&v.to_le_bytes(), base + off).unwrap();
            let began = Instant::now();
            let mut runs = 0;
            while !stop2.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(20) {
                if rd(0x20) & 1 != 0 {
                    wr(0x20, rd(0x20) & !1);
                    wr(0x24, 2); // BUSY
                    let raw: Vec<i64> = (0..4).map(|i| rd(0x1000 + 4 * i) as i32 as i64).collect();
                    for (i, o) in standin_expected(&raw).into_iter().enumerate() {
                        wr(0x2000 + 4 * i as u64, o as u32);
                    }
                    wr(0x28, 42);
                    wr(0x2C, 0);
                    wr(0x24, 1 | 4);
                    runs += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            runs
        });
        FileDevice {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the thread and returns how many runs it served.
    pub fn finish(mut self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for FileDevice {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The simulation cache shared by the test binaries (kept between runs of the suite).
pub fn sim_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bramble-sim-cache")
}
