//! The board backends (uio, devmem, xdma) on stand-ins built here: regular files mapped through
//! the same mmap path a board uses, a fake sysfs tree, fake XDMA nodes. A thread plays the
//! hardware behind the file so the driver sequence runs through each backend's own code.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bramble_host::devmem::{DevMemBackend, DevMemConfig};
use bramble_host::uio::{self, UioBackend, UioConfig};
use bramble_host::xdma::{XdmaBackend, XdmaConfig};
use bramble_host::{Backend, Device, Error, Event};
use common::*;

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bundle: bramble_host::Bundle,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let bundle = write_bundle(&root.join("bundle"), &standin_manifest("standin_top"));
    Tree {
        _dir: dir,
        root,
        bundle,
    }
}

/// A fake sysfs + /dev for UIO: uio0 is something else, uio1 is ours with `map_size`.
fn fake_uio(root: &Path, map_size: &str) -> (PathBuf, PathBuf) {
    let sys = root.join("sys");
    let dev = root.join("dev");
    for (n, name, size) in [
        ("uio0", "axi_dma", "0x1000"),
        ("uio1", "standin_top", map_size),
    ] {
        let d = sys.join("class/uio").join(n);
        std::fs::create_dir_all(d.join("maps/map0")).unwrap();
        std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(d.join("maps/map0/size"), format!("{size}\n")).unwrap();
    }
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("uio0"), vec![0u8; 0x1000]).unwrap();
    std::fs::write(dev.join("uio1"), id_image()).unwrap();
    (sys, dev)
}

fn uio_cfg(sys: &Path, dev: &Path, interrupt: bool) -> UioConfig {
    UioConfig {
        name: "standin_top".into(),
        sysfs_root: sys.into(),
        dev_root: dev.into(),
        interrupt,
    }
}

#[test]
fn uio_found_by_name_and_runs_the_driver_sequence() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x00004000");
    assert_eq!(uio::find(&sys, "standin_top").unwrap(), "uio1");
    assert_eq!(uio::find(&sys, "uio0").unwrap(), "uio0");

    let be = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap();
    assert_eq!(be.node(), dev.join("uio1"));
    let hw = FileDevice::spawn(&dev.join("uio1"), 0);
    let mut d = Device::open(t.bundle.clone(), Box::new(be)).unwrap();
    let out = d.run_raw(&[5, -7, 100, 1], Duration::from_secs(5)).unwrap();
    assert_eq!(out.raw, standin_expected(&[5, -7, 100, 1]));
    assert_eq!(out.cycles, 42);
    assert_eq!(hw.finish(), 1);
    drop(d);
    // What the driver wrote is in the file, where the hardware would see it.
    let img = std::fs::read(dev.join("uio1")).unwrap();
    assert_eq!(word(&img, 0x1000), 5);
    assert_eq!(word(&img, 0x1004), (-7i32) as u32);
}

#[test]
fn uio_interrupt_wait_rearms_polls_and_reads_the_count() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x4000");
    let node = dev.join("uio1");
    let mut img = id_image();
    img[4..8].copy_from_slice(&7u32.to_ne_bytes()); // what the read returns: the event count
    std::fs::write(&node, &img).unwrap();
    let mut be = UioBackend::open(&uio_cfg(&sys, &dev, true), SPACE).unwrap();
    assert!(be.has_interrupt());
    assert_eq!(
        be.wait_event(Duration::from_millis(10)).unwrap(),
        Event::Fired
    );
    // The re-enable write (1u32) went through the fd: at offset 0 of the stand-in file.
    let after = std::fs::read(&node).unwrap();
    assert_eq!(u32::from_ne_bytes(after[0..4].try_into().unwrap()), 1);

    let mut no_irq = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap();
    assert_eq!(
        no_irq.wait_event(Duration::from_millis(1)).unwrap(),
        Event::Unsupported
    );
}

#[test]
fn uio_error_paths() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x2000");
    // Name not present: lists what is.
    let e = UioBackend::open(
        &UioConfig {
            name: "nope".into(),
            ..uio_cfg(&sys, &dev, false)
        },
        SPACE,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{msg}");
    assert!(
        msg.contains("`nope`") && msg.contains("uio1=standin_top"),
        "{msg}"
    );
    // No UIO class at all.
    let e = UioBackend::open(&uio_cfg(&t.root.join("empty"), &dev, false), SPACE).unwrap_err();
    assert!(e.to_string().contains("is the uio driver loaded"), "{e}");
    // map0 smaller than 4 * window_bytes.
    let e = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MapTooSmall {
                size: 0x2000,
                needed: 0x4000,
                ..
            }
        ),
        "{e}"
    );
    // Node missing in /dev.
    std::fs::write(sys.join("class/uio/uio1/maps/map0/size"), "0x4000").unwrap();
    std::fs::remove_file(dev.join("uio1")).unwrap();
    let e = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap_err();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{e}");
    // A node shorter than the mapping is refused (not a SIGBUS later).
    std::fs::write(dev.join("uio1"), vec![0u8; 0x100]).unwrap();
    let e = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap_err();
    assert!(matches!(e, Error::MapTooSmall { .. }), "{e}");
    // Garbage in the size file.
    std::fs::write(sys.join("class/uio/uio1/maps/map0/size"), "lots").unwrap();
    let e = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap_err();
    assert!(e.to_string().contains("expected a number"), "{e}");
}

#[test]
fn uio_permission_denied() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x4000");
    let node = dev.join("uio1");
    std::fs::remove_file(&node).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&node, id_image()).unwrap();
        std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    if std::fs::File::options()
        .read(true)
        .write(true)
        .open(&node)
        .is_ok()
    {
        // Privileged (root ignores file modes): a read-only sysfs attribute refuses O_RDWR even
        // to root.
        let ro = Path::new("/sys/class/net/lo/address");
        if !ro.exists() {
            eprintln!("skipped: no read-only sysfs attribute to provoke EACCES as root");
            return;
        }
        std::fs::remove_file(&node).unwrap();
        std::os::unix::fs::symlink(ro, &node).unwrap();
    }
    let e = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap_err();
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e}");
    assert!(e.to_string().contains("permission denied"), "{e}");
}

#[test]
fn mapping_checks_alignment_and_bounds_before_touching_memory() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x4000");
    let mut be = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap();
    assert_eq!(be.read32(0).unwrap(), 0x424D_5242);
    let e = be.read32(3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "register access at offset 0x3: offset must be a multiple of 4"
    );
    assert!(matches!(
        be.write32(0x4000, 1),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        be.read_words(0x3FFC, &mut [0; 2]),
        Err(Error::OutOfRange { .. })
    ));
    be.write_words(0x1000, &[1, 2, 3]).unwrap();
    let mut back = [0u32; 3];
    be.read_words(0x1000, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3]);
}

#[test]
fn devmem_maps_at_the_physical_base() {
    let t = tree();
    let mem = t.root.join("mem");
    let base = 0x3000u64 + 0x800; // not page aligned: memmap2 aligns the offset itself
    let mut img = vec![0xEEu8; base as usize];
    img.extend(id_image());
    std::fs::write(&mem, img).unwrap();
    let cfg = DevMemConfig {
        path: mem.clone(),
        base,
        size: None,
    };
    let be = DevMemBackend::open(&cfg, SPACE).unwrap();
    assert!(be.describe().contains("0x3800"));
    let hw = FileDevice::spawn(&mem, base);
    let mut d = Device::open(t.bundle.clone(), Box::new(be)).unwrap();
    let out = d
        .run(&[0.5, 0.25, -1.0, 2.0], Duration::from_secs(5))
        .unwrap();
    assert_eq!(out.raw, standin_expected(&[128, 64, -256, 512]));
    assert_eq!(hw.finish(), 1);

    // Errors: window smaller than the register map, unaligned base, missing node, short file.
    let e = DevMemBackend::open(
        &DevMemConfig {
            size: Some(0x1000),
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::MapTooSmall {
                size: 0x1000,
                needed: 0x4000,
                ..
            }
        ),
        "{e}"
    );
    let e = DevMemBackend::open(
        &DevMemConfig {
            base: 0x3802,
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Unaligned { .. }), "{e}");
    let e = DevMemBackend::open(
        &DevMemConfig {
            path: t.root.join("nomem"),
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{e}");
    let e = DevMemBackend::open(
        &DevMemConfig {
            base: 0x10000,
            ..cfg
        },
        SPACE,
    )
    .unwrap_err();
    assert!(matches!(e, Error::MapTooSmall { .. }), "{e}");
}

/// Fake XDMA nodes: user, h2c_0 and c2h_0 are hard links to one file, so DMA transfers at AXI
/// address `offset` land in the same "device" the register mapping sees (axi_base = 0).
fn fake_xdma(root: &Path) -> PathBuf {
    let dev = root.join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    let user = dev.join("xdma0_user");
    std::fs::write(&user, id_image()).unwrap();
    std::fs::hard_link(&user, dev.join("xdma0_h2c_0")).unwrap();
    std::fs::hard_link(&user, dev.join("xdma0_c2h_0")).unwrap();
    std::fs::write(dev.join("xdma0_events_1"), 3u32.to_ne_bytes()).unwrap();
    dev
}

#[test]
fn xdma_registers_through_user_and_bulk_through_dma() {
    let t = tree();
    let dev = fake_xdma(&t.root);
    let cfg = XdmaConfig {
        dev_root: dev.clone(),
        ..XdmaConfig::new(0)
    };
    let be = XdmaBackend::open(&cfg, SPACE).unwrap();
    assert!(!be.has_interrupt());
    let hw = FileDevice::spawn(&dev.join("xdma0_user"), 0);
    let mut d = Device::open(t.bundle.clone(), Box::new(be)).unwrap();
    let out = d.run_raw(&[1, 2, 3, -4], Duration::from_secs(5)).unwrap();
    assert_eq!(out.raw, standin_expected(&[1, 2, 3, -4]));
    assert_eq!(hw.finish(), 1);
}

#[test]
fn xdma_dma_lands_at_the_axi_address() {
    let t = tree();
    let dev = t.root.join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("xdma2_user"), id_image()).unwrap();
    // Separate h2c / c2h files: check the AXI addresses pwrite/pread use.
    let axi = 0x1_0000u64;
    std::fs::write(dev.join("xdma2_h2c_1"), vec![0u8; (axi + SPACE) as usize]).unwrap();
    let mut c2h = vec![0u8; (axi + SPACE) as usize];
    let at = (axi + 0x2000) as usize;
    c2h[at..at + 8].copy_from_slice(&[9, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    std::fs::write(dev.join("xdma2_c2h_1"), c2h).unwrap();
    let cfg = XdmaConfig {
        dev_root: dev.clone(),
        index: 2,
        channel: 1,
        bar_offset: 0,
        axi_base: axi,
        event: None,
        stream: false,
    };
    let mut be = XdmaBackend::open(&cfg, SPACE).unwrap();
    be.write_words(0x1000, &[0x11, 0x22]).unwrap();
    let h2c = std::fs::read(dev.join("xdma2_h2c_1")).unwrap();
    assert_eq!(word(&h2c, (axi + 0x1000) as usize), 0x11);
    assert_eq!(word(&h2c, (axi + 0x1004) as usize), 0x22);
    let mut out = [0u32; 2];
    be.read_words(0x2000, &mut out).unwrap();
    assert_eq!(out, [9, 0xFFFF_FFFF]);
    // Short DMA transfer (c2h shorter than the request) is an error, not zeros.
    std::fs::write(dev.join("xdma2_c2h_1"), vec![0u8; (axi + 0x2004) as usize]).unwrap();
    let mut be = XdmaBackend::open(&cfg, SPACE).unwrap();
    let e = be.read_words(0x2000, &mut out).unwrap_err();
    assert!(e.to_string().contains("short c2h transfer"), "{e}");
    // Bulk access is bounds-checked too.
    assert!(matches!(
        be.write_words(0x3FFC, &[1, 2]),
        Err(Error::OutOfRange { .. })
    ));
}

#[test]
fn xdma_events_and_error_paths() {
    let t = tree();
    let dev = fake_xdma(&t.root);
    let cfg = XdmaConfig {
        dev_root: dev.clone(),
        event: Some(1),
        ..XdmaConfig::new(0)
    };
    let mut be = XdmaBackend::open(&cfg, SPACE).unwrap();
    assert!(be.has_interrupt());
    assert_eq!(
        be.wait_event(Duration::from_millis(10)).unwrap(),
        Event::Fired
    );

    let e = XdmaBackend::open(
        &XdmaConfig {
            event: Some(5),
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    assert!(e.to_string().contains("xdma0_events_5"), "{e}");
    let e = XdmaBackend::open(
        &XdmaConfig {
            index: 3,
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{msg}");
    assert!(
        msg.contains("xdma3_user") && msg.contains("xdma driver"),
        "{msg}"
    );
    let e = XdmaBackend::open(
        &XdmaConfig {
            bar_offset: 2,
            ..cfg.clone()
        },
        SPACE,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Unaligned { .. }), "{e}");
    // The BAR (here: the file) is smaller than the register map at that offset.
    let e = XdmaBackend::open(
        &XdmaConfig {
            bar_offset: 0x1000,
            ..cfg
        },
        SPACE,
    )
    .unwrap_err();
    assert!(matches!(e, Error::MapTooSmall { .. }), "{e}");
}

#[test]
fn wrong_device_behind_a_board_backend_is_refused() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x4000");
    let mut img = id_image();
    img[0x14..0x18].copy_from_slice(&(4u32 | (5 << 16)).to_le_bytes());
    std::fs::write(dev.join("uio1"), img).unwrap();
    let be = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap();
    let e = Device::open(t.bundle.clone(), Box::new(be)).unwrap_err();
    assert!(
        e.to_string().contains("SIZES output: expected 3, found 5"),
        "{e}"
    );
    // Nothing there at all (zeros): MAGIC is the first mismatch.
    std::fs::write(dev.join("uio1"), vec![0u8; SPACE as usize]).unwrap();
    let be = UioBackend::open(&uio_cfg(&sys, &dev, false), SPACE).unwrap();
    let e = Device::open(t.bundle.clone(), Box::new(be)).unwrap_err();
    assert!(
        e.to_string()
            .contains("MAGIC: expected 0x424d5242, found 0x0"),
        "{e}"
    );
}

/// Regression (issue: `--axi-base + offset` wrapped): with `axi_base` near `u64::MAX` the DMA
/// address wrapped to a small one (release builds) and transfers went to address 0. Now the open
/// refuses it, naming both numbers; so does a base past the largest file position (`off_t`).
#[test]
fn xdma_axi_base_overflow_is_an_error_naming_both_numbers() {
    let t = tree();
    let dev = fake_xdma(&t.root);
    let cfg = |axi_base| XdmaConfig {
        dev_root: dev.clone(),
        axi_base,
        ..XdmaConfig::new(0)
    };
    for axi_base in [u64::MAX - 0xFFF, u64::MAX, i64::MAX as u64 - 0xFFF] {
        let e = XdmaBackend::open(&cfg(axi_base), SPACE).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, Error::AddressOverflow { base, offset: 0x3FFF, .. } if base == axi_base),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("{axi_base:#x}")) && msg.contains("0x3fff"),
            "{msg}"
        );
    }
    // The highest base whose last byte is still a file position is accepted.
    XdmaBackend::open(&cfg(i64::MAX as u64 - (SPACE - 1)), SPACE).unwrap();
    // Nothing was written at the low addresses a wrapped address would have hit.
    assert_eq!(
        std::fs::read(dev.join("xdma0_h2c_0")).unwrap(),
        id_image(),
        "the device image is untouched"
    );
}

/// Runs `f` (an open) on a thread and returns its result; fails the test only if it never returns
/// (a blocking open of a node with no partner waits forever). No time bound is asserted: the grace
/// period is only how long to wait before calling it a hang. On a hang `unblock` releases the
/// thread so the test binary can still exit.
fn returns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static, unblock: impl FnOnce()) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(_) => {
            unblock();
            panic!("opening the device never returned: a blocking open of the node");
        }
    }
}

/// Replaces `path` with a FIFO that nobody writes to: a stand-in for a device node whose
/// blocking read-only open would never return.
fn fifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

/// Opens the write end of each FIFO without blocking, which lets a blocked reader's open return.
fn release(fifos: &[PathBuf]) {
    use std::os::unix::fs::OpenOptionsExt;
    for f in fifos {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(f);
    }
}

/// Regression (issue: opening a device node was outside every timeout): the XDMA c2h and events
/// nodes are opened read-only, and a blocking open of a node with no partner (here a FIFO with no
/// writer) never returned. Opened non-blocking, the open proceeds, the interrupt wait returns
/// after its timeout, and the DMA read is a clear error naming the node.
#[test]
fn xdma_open_of_a_node_that_would_block_returns() {
    let t = tree();
    let dev = fake_xdma(&t.root);
    let fifos = vec![dev.join("xdma0_c2h_0"), dev.join("xdma0_events_1")];
    for f in &fifos {
        fifo(f);
    }
    let cfg = XdmaConfig {
        dev_root: dev.clone(),
        event: Some(1),
        ..XdmaConfig::new(0)
    };
    let (event, read) = returns(
        move || {
            let mut be = XdmaBackend::open(&cfg, SPACE).expect("opening proceeds");
            let event = be.wait_event(Duration::from_millis(20));
            let read = be.read_words(0x2000, &mut [0u32; 3]);
            (event, read)
        },
        || release(&fifos),
    );
    match event {
        Ok(Event::Quiet) => {}
        Err(e) => assert!(e.to_string().contains("xdma0_events_1"), "{e}"),
        Ok(other) => panic!("nothing was written to the events node, got {other:?}"),
    }
    let e = read.unwrap_err();
    assert!(e.to_string().contains("xdma0_c2h_0"), "{e}");
}

/// The UIO node opened the same way: a FIFO in its place opens without blocking and is refused
/// when mapped (a clear error naming the node), never a hang.
#[test]
fn uio_open_of_a_node_that_would_block_returns() {
    let t = tree();
    let (sys, dev) = fake_uio(&t.root, "0x4000");
    let node = dev.join("uio1");
    fifo(&node);
    let cfg = uio_cfg(&sys, &dev, true);
    let fifos = vec![node];
    let r = returns(
        move || UioBackend::open(&cfg, SPACE).map(|_| ()),
        || release(&fifos),
    );
    let e = r.unwrap_err();
    assert!(e.to_string().contains("uio1"), "{e}");
}
