//! The board stream paths on stand-ins built here (issue 10): the Zynq AXI DMA through a second
//! UIO node with a u-dma-buf buffer (a fake sysfs tree, regular files for the register windows and
//! the buffer, a thread playing the DMA and the accelerator), and the XDMA AXI4-Stream nodes (a
//! regular file for h2c, a FIFO for c2h): a whole batch, a stalled stream, a timeout, a short
//! read.

mod common;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bramble_abi::regs;
use bramble_abi::stream::Packing;
use bramble_host::dma;
use bramble_host::uio::{UioBackend, UioConfig};
use bramble_host::xdma::{XdmaBackend, XdmaConfig, XdmaStream};
use bramble_host::{Device, Error};
use common::*;

const PHYS: u64 = 0x3E00_0000;
const BUF: usize = 1 << 16;

/// The stand-in's register image with the stream format the bundle expects.
fn stream_image() -> Vec<u8> {
    let mut img = id_image();
    let fmt = regs::stream_format(32, 16);
    img[0x30..0x34].copy_from_slice(&fmt.to_le_bytes());
    img
}

fn rd(f: &File, off: u64) -> u32 {
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, off).unwrap();
    u32::from_le_bytes(b)
}

fn wr(f: &File, off: u64, v: u32) {
    f.write_all_at(&v.to_le_bytes(), off).unwrap();
}

/// The stand-in's output beats (2 data beats + the cycles beat, 42) for packed input beats.
fn outputs_for(input: &[u8]) -> (Vec<u8>, usize) {
    let p = Packing::new(32, 16).unwrap();
    let mut out = Vec::new();
    let mut n = 0;
    for v in input.chunks(8) {
        let beats: Vec<u64> = v
            .chunks(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as u64)
            .collect();
        let raw = p.unpack(&beats, 4).unwrap();
        for b in p.pack(&standin_expected(&raw)).unwrap() {
            out.extend_from_slice(&(b as u32).to_le_bytes());
        }
        out.extend_from_slice(&42u32.to_le_bytes());
        n += 1;
    }
    (out, n)
}

/// Sets the accelerator's stream counters as after `n` vectors (of which `done` were sent).
fn set_counters(acc: &File, n: usize, done: usize) {
    wr(acc, regs::VECTORS.offset, done as u32);
    wr(acc, regs::IN_BEATS.offset, 2 * n as u32);
    wr(acc, regs::OUT_BEATS.offset, 3 * done as u32);
    wr(acc, regs::TOTAL_LO.offset, 50 * done as u32);
}

struct Player {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u32>>,
}

impl Player {
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

/// Plays the AXI DMA (PG021 registers in `regs_path`) and the accelerator's stream side
/// (counters in `acc_path`) over the u-dma-buf file `buf_path`. With `stall`, MM2S completes but
/// S2MM never does (a consumer that never takes the output).
fn play_dma(regs_path: &Path, acc_path: &Path, buf_path: &Path, stall: bool) -> Player {
    let regs_f = File::options()
        .read(true)
        .write(true)
        .open(regs_path)
        .unwrap();
    let acc = File::options()
        .read(true)
        .write(true)
        .open(acc_path)
        .unwrap();
    let buf = File::options()
        .read(true)
        .write(true)
        .open(buf_path)
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let handle = std::thread::spawn(move || {
        let r = |o: u32| rd(&regs_f, o as u64);
        let w = |o: u32, v: u32| wr(&regs_f, o as u64, v);
        let began = Instant::now();
        let mut served = 0;
        // The transfer programmed since the last reset was served (the driver resets the core
        // before every transfer here: a regular file keeps the acknowledged IOC bit it was
        // written, so the core never looks clean).
        let mut busy = false;
        while !stop2.load(Ordering::Relaxed) && began.elapsed() < Duration::from_secs(20) {
            if r(dma::MM2S_DMACR) & dma::CR_RESET != 0 {
                // A reset: both channels clean and stopped (the stand-in reports no Halted, so
                // the driver never waits on it), then the self-clearing bit drops.
                for o in [
                    dma::MM2S_DMASR,
                    dma::S2MM_DMASR,
                    dma::MM2S_LENGTH,
                    dma::S2MM_LENGTH,
                    dma::S2MM_DMACR,
                ] {
                    w(o, 0);
                }
                w(dma::MM2S_DMACR, 0);
                busy = false;
            }
            let (ml, sl) = (r(dma::MM2S_LENGTH), r(dma::S2MM_LENGTH));
            let running = r(dma::MM2S_DMACR) & dma::CR_RS != 0;
            if running && ml != 0 && sl != 0 && !busy {
                busy = true;
                let sa = r(dma::MM2S_SA) as u64 - PHYS;
                let da = r(dma::S2MM_DA) as u64 - PHYS;
                let mut input = vec![0u8; ml as usize];
                buf.read_exact_at(&mut input, sa).unwrap();
                let (out, n) = outputs_for(&input);
                w(dma::MM2S_DMASR, dma::SR_IDLE | dma::SR_IOC_IRQ);
                if stall {
                    set_counters(&acc, 2, 0);
                } else {
                    let got = out.len().min(sl as usize);
                    buf.write_all_at(&out[..got], da).unwrap();
                    set_counters(&acc, n, n);
                    w(dma::S2MM_LENGTH, got as u32);
                    w(dma::S2MM_DMASR, dma::SR_IDLE | dma::SR_IOC_IRQ);
                }
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

struct Zynq {
    _dir: tempfile::TempDir,
    sys: PathBuf,
    dev: PathBuf,
    bundle: bramble_host::Bundle,
}

/// A fake sysfs and /dev: uio0 the accelerator, uio1 the AXI DMA, udmabuf0 the buffer.
fn zynq() -> Zynq {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = write_bundle(&root.join("bundle"), &standin_manifest("standin_top"));
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
    std::fs::write(dev.join("uio0"), stream_image()).unwrap();
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

fn batch(n: usize) -> Vec<Vec<i64>> {
    (0..n as i64)
        .map(|i| vec![i - 3, 100 * i, -32768 + i, 32767 - i])
        .collect()
}

#[test]
fn zynq_dma_streams_a_batch_through_uio_and_udmabuf() {
    let z = zynq();
    let mut d = zynq_device(&z);
    assert!(d.stream_describe().unwrap().contains("udmabuf0"));
    let hw = play_dma(
        &z.dev.join("uio1"),
        &z.dev.join("uio0"),
        &z.dev.join("udmabuf0"),
        false,
    );
    for n in [1, 17] {
        let xs = batch(n);
        let b = d.run_batch_raw(&xs, Duration::from_secs(5)).unwrap();
        for (x, raw) in xs.iter().zip(&b.raw) {
            assert_eq!(raw, &standin_expected(x));
        }
        assert_eq!(b.cycles, vec![42; n]);
        assert_eq!(b.total_cycles, Some(50 * n as u64));
    }
    assert_eq!(hw.finish(), 2);
    // The driver programmed the buffer's physical addresses and synchronised the cache through
    // the u-dma-buf sysfs attributes (last: the output region, for the CPU).
    let regs_img = std::fs::read(z.dev.join("uio1")).unwrap();
    assert_eq!(word(&regs_img, dma::MM2S_SA as usize) as u64, PHYS);
    assert_eq!(
        word(&regs_img, dma::S2MM_DA as usize) as u64,
        PHYS + 17 * 8 + 56
    );
    let u = z.sys.join("class/u-dma-buf/udmabuf0");
    let attr = |a: &str| std::fs::read_to_string(u.join(a)).unwrap();
    assert_eq!(attr("sync_for_cpu"), "1");
    assert_eq!(attr("sync_for_device"), "1");
    assert_eq!(attr("sync_direction"), "2");
    assert_eq!(attr("sync_offset"), (17 * 8 + 56).to_string());
    assert_eq!(attr("sync_size"), (17 * 12).to_string());
}

#[test]
fn zynq_stalled_stream_times_out_with_counts() {
    let z = zynq();
    let mut d = zynq_device(&z);
    let _hw = play_dma(
        &z.dev.join("uio1"),
        &z.dev.join("uio0"),
        &z.dev.join("udmabuf0"),
        true,
    );
    let began = Instant::now();
    let e = d
        .run_batch_raw(&batch(5), Duration::from_millis(200))
        .unwrap_err();
    assert!(began.elapsed() < Duration::from_secs(3), "bounded");
    match &e {
        Error::StreamTimeout {
            vectors,
            streamed,
            in_beats,
            out_beats,
            ..
        } => assert_eq!((*vectors, *streamed, *in_beats, *out_beats), (5, 0, 4, 0)),
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("sent all 40 bytes") && msg.contains("axi-dma"),
        "{msg}"
    );
    assert_eq!(bramble_host::cli::exit_code(&e), 4);
}

#[test]
fn zynq_missing_udmabuf_is_named() {
    let z = zynq();
    std::fs::remove_dir_all(z.sys.join("class/u-dma-buf/udmabuf0")).unwrap();
    let e = bramble_host::udmabuf::open_zynq_dma(&z.sys, &z.dev, "axi_dma", "udmabuf0", false)
        .unwrap_err();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{e}");
    assert!(e.to_string().contains("u-dma-buf"), "{e}");
    let e = bramble_host::udmabuf::open_zynq_dma(&z.sys, &z.dev, "no_such_dma", "udmabuf0", false)
        .unwrap_err();
    assert!(e.to_string().contains("no_such_dma"), "{e}");
}

// ---- XDMA, AXI4-Stream mode ----

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

struct Xdma {
    _dir: tempfile::TempDir,
    dev: PathBuf,
    bundle: bramble_host::Bundle,
}

fn xdma() -> Xdma {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bundle = write_bundle(&root.join("bundle"), &standin_manifest("standin_top"));
    let dev = root.join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("xdma0_user"), stream_image()).unwrap();
    std::fs::write(dev.join("xdma0_h2c_0"), b"").unwrap();
    mkfifo(&dev.join("xdma0_c2h_0"));
    Xdma {
        _dir: dir,
        dev,
        bundle,
    }
}

/// Opens the XDMA device in stream mode, then the write end of the c2h FIFO (the reader exists
/// now, so the non-blocking open succeeds and reads never see a premature end of file).
fn xdma_device(x: &Xdma) -> (Device, File) {
    let cfg = XdmaConfig {
        dev_root: x.dev.clone(),
        stream: true,
        ..XdmaConfig::new(0)
    };
    let be = XdmaBackend::open(&cfg, SPACE).unwrap();
    let s = XdmaStream::open(&cfg).unwrap();
    let mut d = Device::open(x.bundle.clone(), Box::new(be)).unwrap();
    d.attach_stream(Box::new(s)).unwrap();
    let c2h = File::options()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(x.dev.join("xdma0_c2h_0"))
        .unwrap();
    (d, c2h)
}

/// Plays the card: waits for `n` vectors on h2c, then writes `keep` of the output bytes to c2h
/// (all when `None`) and closes it (end of file) unless `hold`.
fn play_xdma(x: &Xdma, c2h: File, n: usize, keep: Option<usize>, hold: bool) -> JoinHandle<()> {
    let h2c = x.dev.join("xdma0_h2c_0");
    let user = x.dev.join("xdma0_user");
    std::thread::spawn(move || {
        let began = Instant::now();
        let input = loop {
            let data = std::fs::read(&h2c).unwrap();
            if data.len() >= n * 8 || began.elapsed() > Duration::from_secs(10) {
                break data;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let (out, _) = outputs_for(&input[..n * 8]);
        let acc = File::options().read(true).write(true).open(&user).unwrap();
        let keep = keep.unwrap_or(out.len());
        set_counters(&acc, n, if keep == out.len() { n } else { 0 });
        let mut c2h = c2h;
        let mut sent = 0;
        while sent < keep {
            match c2h.write(&out[sent..keep]) {
                Ok(k) => sent += k,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_micros(100))
                }
                Err(e) => panic!("{e}"),
            }
        }
        if hold {
            std::thread::sleep(Duration::from_millis(800));
        }
    })
}

#[test]
fn xdma_streams_a_batch_through_h2c_and_c2h_concurrently() {
    let x = xdma();
    let (mut d, c2h) = xdma_device(&x);
    let xs = batch(100);
    let card = play_xdma(&x, c2h, 100, None, true);
    let b = d.run_batch_raw(&xs, Duration::from_secs(5)).unwrap();
    card.join().unwrap();
    for (x, raw) in xs.iter().zip(&b.raw) {
        assert_eq!(raw, &standin_expected(x));
    }
    assert_eq!(b.total_cycles, Some(5000));
    // The windows go through the BAR in stream mode: a single run still works.
    let img = std::fs::read(x.dev.join("xdma0_h2c_0")).unwrap();
    assert_eq!(img.len(), 800, "h2c carried exactly the packed batch");
}

#[test]
fn xdma_short_read_is_an_error_naming_the_bytes() {
    let x = xdma();
    let (mut d, c2h) = xdma_device(&x);
    let card = play_xdma(&x, c2h, 3, Some(20), false);
    let e = d
        .run_batch_raw(&batch(3), Duration::from_secs(5))
        .unwrap_err();
    card.join().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, Error::Stream { .. }), "{msg}");
    assert!(
        msg.contains("short transfer: 20 of 36 output bytes"),
        "{msg}"
    );
}

#[test]
fn xdma_timeout_is_bounded_and_reports_bytes_received() {
    let x = xdma();
    let (mut d, c2h) = xdma_device(&x);
    let card = play_xdma(&x, c2h, 2, Some(12), true);
    let began = Instant::now();
    let e = d
        .run_batch_raw(&batch(2), Duration::from_millis(150))
        .unwrap_err();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "bounded by the timeout"
    );
    match &e {
        Error::StreamTimeout { vectors, .. } => assert_eq!(*vectors, 2),
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("received 12") && msg.contains("sent 16"),
        "{msg}"
    );
    card.join().unwrap();
}
