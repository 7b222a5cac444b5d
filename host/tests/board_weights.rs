//! Weight loading (issue 14) through the board backends' code paths on stand-ins built here: the
//! Zynq AXI DMA through a second UIO node with a u-dma-buf buffer, the XDMA h2c node, and
//! `/dev/mem` (no stream path), with a thread that plays the DMA and the engine's loader
//! (`bramble_host::fake::Loader`, the model the fake accelerator uses) behind regular files. Also
//! the `bramble-host` command line: `load-weights` and `run` refusing missing weights.

mod common;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bramble_abi::regs;
use bramble_host::dma;
use bramble_host::fake::Loader;
use bramble_host::uio::{UioBackend, UioConfig};
use bramble_host::xdma::{XdmaBackend, XdmaConfig, XdmaStream};
use bramble_host::{Bundle, Device, Error};
use common::*;

const PHYS: u64 = 0x3E00_0000;
const BUF: usize = 1 << 16;

fn rd(f: &File, off: u64) -> u32 {
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, off).unwrap();
    u32::from_le_bytes(b)
}

fn wr(f: &File, off: u64, v: u32) {
    f.write_all_at(&v.to_le_bytes(), off).unwrap();
}

fn open_rw(p: &Path) -> File {
    File::options().read(true).write(true).open(p).unwrap()
}

/// The register image of a run-time-weights stand-in: HASH the geometry hash, WSTATUS RUNTIME
/// with nothing loaded, the stream format of the bundle.
fn runtime_regs() -> Vec<u8> {
    let mut img = id_image();
    for (off, w) in [
        (0x08, GEOMETRY_HASH_U64 as u32),
        (0x0C, (GEOMETRY_HASH_U64 >> 32) as u32),
        (0x30, regs::stream_format(32, 16)),
        (0x64, regs::WSTATUS_RUNTIME),
        (0x6C, 0),
    ] {
        img[off..off + 4].copy_from_slice(&w.to_le_bytes());
    }
    img
}

/// A run-time-weights stand-in bundle (its image: `standin_image`).
fn runtime_bundle(dir: &Path) -> Bundle {
    write_bundle(dir, &standin_manifest("standin_top"));
    let m = runtime_manifest(standin_manifest("standin_top"), &standin_image());
    write_weights(dir, &m, &standin_image());
    Bundle::load_checked(dir).unwrap()
}

/// Feeds `bytes` to `loader` as the engine would (only while WCTRL.LOAD is set in `acc`) and
/// publishes WSTATUS, WWORDS and WHASH there.
fn feed(loader: &mut Loader, acc: &File, bytes: &[u8]) {
    sync_wctrl(loader, acc);
    for w in bytes.chunks(4) {
        loader.take(u32::from_le_bytes(w.try_into().unwrap()));
    }
    publish(loader, acc);
}

/// The host writes CLEAR then LOAD; a file keeps only the last value, so a LOAD seen after
/// WCTRL was 0 is a new load (CLEAR included).
fn sync_wctrl(loader: &mut Loader, acc: &File) {
    let wctrl = rd(acc, regs::WCTRL.offset);
    if wctrl & regs::WCTRL_LOAD != 0 && !loader.load {
        loader.write_wctrl(regs::WCTRL_CLEAR | regs::WCTRL_LOAD);
    } else if wctrl & regs::WCTRL_LOAD == 0 {
        loader.write_wctrl(0);
    }
}

fn publish(loader: &Loader, acc: &File) {
    wr(acc, regs::WSTATUS.offset, loader.wstatus());
    wr(acc, regs::WWORDS.offset, loader.words);
    wr(acc, regs::WHASH.offset, loader.whash);
}

struct Player {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u32>>,
}

impl Player {
    fn spawn(f: impl FnMut() -> bool + Send + 'static) -> Player {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let mut f = f;
        let handle = std::thread::spawn(move || {
            let began = Instant::now();
            let mut served = 0;
            while !stop2.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(20) {
                if f() {
                    served += 1;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            served
        });
        Player {
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct Zynq {
    _dir: tempfile::TempDir,
    sys: PathBuf,
    dev: PathBuf,
    bundle: Bundle,
}

/// A fake sysfs and /dev: uio0 the accelerator, uio1 the AXI DMA, udmabuf0 the buffer.
fn zynq() -> Zynq {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = runtime_bundle(&root.join("bundle"));
    let sys = root.join("sys");
    let dev = root.join("dev");
    for (n, name, size) in [
        ("uio0", "standin_top", "0x4000"),
        ("uio1", "axi_dma", "0x10000"),
    ] {
        let d = sys.join("class/uio").join(n);
        std::fs::create_dir_all(d.join("maps/map0")).unwrap();
        std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(d.join("maps/map0/size"), format!("{size}\n")).unwrap();
    }
    let u = sys.join("class/u-dma-buf/udmabuf0");
    std::fs::create_dir_all(&u).unwrap();
    std::fs::write(u.join("phys_addr"), format!("{PHYS:#x}\n")).unwrap();
    std::fs::write(u.join("size"), format!("{BUF}\n")).unwrap();
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("uio0"), runtime_regs()).unwrap();
    std::fs::write(dev.join("uio1"), vec![0u8; 0x1000]).unwrap();
    std::fs::write(dev.join("udmabuf0"), vec![0u8; BUF]).unwrap();
    Zynq {
        _dir: dir,
        sys,
        dev,
        bundle,
    }
}

fn zynq_device(z: &Zynq) -> Device {
    let cfg = UioConfig {
        name: "standin_top".into(),
        sysfs_root: z.sys.clone(),
        dev_root: z.dev.clone(),
        interrupt: false,
    };
    let be = UioBackend::open(&cfg, SPACE).unwrap();
    let dma =
        bramble_host::udmabuf::open_zynq_dma(&z.sys, &z.dev, "axi_dma", "udmabuf0", false).unwrap();
    let mut d = Device::open(z.bundle.clone(), Box::new(be)).unwrap();
    d.attach_stream(Box::new(dma)).unwrap();
    d
}

/// Plays the AXI DMA's MM2S channel into the loader; with `deaf` the engine takes nothing.
fn play_mm2s(z: &Zynq, bundle: &Bundle, deaf: bool) -> Player {
    let regs_f = open_rw(&z.dev.join("uio1"));
    let acc = open_rw(&z.dev.join("uio0"));
    let buf = open_rw(&z.dev.join("udmabuf0"));
    let mut loader = Loader::for_bundle(bundle);
    let mut busy = false;
    Player::spawn(move || {
        let r = |o: u32| rd(&regs_f, o as u64);
        let w = |o: u32, v: u32| wr(&regs_f, o as u64, v);
        sync_wctrl(&mut loader, &acc);
        if r(dma::MM2S_DMACR) & dma::CR_RESET != 0 {
            for o in [dma::MM2S_DMASR, dma::S2MM_DMASR, dma::MM2S_LENGTH] {
                w(o, 0);
            }
            w(dma::MM2S_DMACR, 0);
            busy = false;
        }
        let ml = r(dma::MM2S_LENGTH);
        if r(dma::MM2S_DMACR) & dma::CR_RS != 0 && ml != 0 && !busy {
            busy = true;
            let sa = r(dma::MM2S_SA) as u64 - PHYS;
            let mut input = vec![0u8; ml as usize];
            buf.read_exact_at(&mut input, sa).unwrap();
            if !deaf {
                feed(&mut loader, &acc, &input);
            }
            w(dma::MM2S_DMASR, dma::SR_IDLE | dma::SR_IOC_IRQ);
            return true;
        }
        false
    })
}

#[test]
fn zynq_loads_weights_through_the_axi_dma() {
    let z = zynq();
    let mut d = zynq_device(&z);
    // Before loading: refused, nothing started.
    let e = d
        .run_raw(&[1, 2, 3, 4], Duration::from_secs(1))
        .unwrap_err();
    assert!(
        matches!(e, Error::StaleWeights { loaded: false, .. }),
        "{e}"
    );
    let hw = play_mm2s(&z, &z.bundle, false);
    let l = d.load_bundle_weights(Duration::from_secs(5)).unwrap();
    assert_eq!(l.crc32, WEIGHTS_CRC);
    assert_eq!(hw.finish(), 1, "one MM2S transfer carried the image");
    let acc = std::fs::read(z.dev.join("uio0")).unwrap();
    assert_eq!(word(&acc, 0x6C), WEIGHTS_CRC);
    assert_eq!(word(&acc, 0x68) as usize, standin_image().words.len());
    assert_eq!(word(&acc, 0x60), 0, "LOAD cleared after the load");
    d.check_weights().unwrap();
    // The DMA read the image from the start of the buffer.
    let regs_img = std::fs::read(z.dev.join("uio1")).unwrap();
    assert_eq!(word(&regs_img, dma::MM2S_SA as usize) as u64, PHYS);
    assert_eq!(
        word(&regs_img, dma::MM2S_LENGTH as usize) as usize,
        standin_image().to_bytes().len()
    );
}

#[test]
fn zynq_engine_that_takes_nothing_times_out_with_counts() {
    let z = zynq();
    let mut d = zynq_device(&z);
    let _hw = play_mm2s(&z, &z.bundle, true);
    let began = Instant::now();
    let e = d
        .load_bundle_weights(Duration::from_millis(300))
        .unwrap_err();
    assert!(began.elapsed() < Duration::from_secs(3), "bounded");
    let msg = e.to_string();
    let n = standin_image().words.len();
    assert!(
        matches!(e, Error::WeightsTimeout { taken: 0, sent, .. } if sent == n as u64),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("took 0 of the {n} image words")),
        "{msg}"
    );
    assert_eq!(bramble_host::cli::exit_code(&e), 4);
}

#[test]
fn xdma_loads_weights_through_h2c() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = runtime_bundle(&root.join("bundle"));
    let dev = root.join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("xdma0_user"), runtime_regs()).unwrap();
    std::fs::write(dev.join("xdma0_h2c_0"), b"").unwrap();
    std::fs::write(dev.join("xdma0_c2h_0"), b"").unwrap();
    let cfg = XdmaConfig {
        dev_root: dev.clone(),
        stream: true,
        ..XdmaConfig::new(0)
    };
    let be = XdmaBackend::open(&cfg, SPACE).unwrap();
    let s = XdmaStream::open(&cfg).unwrap();
    let mut d = Device::open(bundle.clone(), Box::new(be)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    // The card: whatever arrives on h2c goes to the loader.
    let acc = open_rw(&dev.join("xdma0_user"));
    let h2c = dev.join("xdma0_h2c_0");
    let mut loader = Loader::for_bundle(&bundle);
    let mut seen = 0usize;
    let card = Player::spawn(move || {
        let data = std::fs::read(&h2c).unwrap();
        let whole = data.len() / 4 * 4;
        if whole > seen {
            feed(&mut loader, &acc, &data[seen..whole]);
            seen = whole;
            return true;
        }
        sync_wctrl(&mut loader, &acc);
        false
    });
    d.load_bundle_weights(Duration::from_secs(5)).unwrap();
    assert!(card.finish() >= 1);
    assert_eq!(
        std::fs::read(dev.join("xdma0_h2c_0")).unwrap(),
        standin_image().to_bytes(),
        "h2c carried exactly the image"
    );
    d.check_weights().unwrap();
}

#[test]
fn devmem_has_no_stream_path_to_load_weights() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = runtime_bundle(&dir.path().join("bundle"));
    let mem = dir.path().join("mem");
    std::fs::write(&mem, runtime_regs()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bramble-host"))
        .args([
            "load-weights",
            "--backend",
            "devmem",
            "--base",
            "0",
            "--mem",
        ])
        .arg(&mem)
        .arg(bundle.dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/mem has no stream path"), "{err}");
    // A run on the same device is refused: no weights loaded (exit 3, the command to run).
    let x = dir.path().join("x.npy");
    std::fs::write(
        &x,
        bramble_abi::array::write::npy_bytes(
            "<f8",
            false,
            &bramble_abi::array::write::shape_text(&[4]),
            &[0u8; 32],
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bramble-host"))
        .args(["run", "--backend", "devmem", "--base", "0", "--mem"])
        .arg(&mem)
        .arg("--bundle")
        .arg(bundle.dir())
        .arg("--input")
        .arg(&x)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("WSTATUS.LOADED is 0") && err.contains("bramble-host load-weights"),
        "{err}"
    );
    // An edited image is refused before the device is touched (exit 7, the file named).
    std::fs::write(bundle.dir().join(WEIGHTS_FILE), b"\x01\x02\x03").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bramble-host"))
        .args([
            "load-weights",
            "--backend",
            "devmem",
            "--base",
            "0",
            "--mem",
        ])
        .arg(&mem)
        .arg(bundle.dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(7), "{err}");
    assert!(err.contains("weights.bin"), "{err}");
}
