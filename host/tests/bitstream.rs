//! `.bit` parsing, the part check, the byte-swapped `.bin`, and loading through a fake
//! fpga_manager sysfs tree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bramble_host::bitstream::{self, Bitstream};
use bramble_host::fpga_manager::{self, FpgaManagerConfig};
use bramble_host::Error;

/// A header written out byte by byte (not with `bitstream::build`), as Vivado writes one.
fn vivado_bit(data: &[u8]) -> Vec<u8> {
    let mut b = vec![
        0x00, 0x09, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x00, 0x00, 0x01,
    ];
    let field = |b: &mut Vec<u8>, key: u8, s: &str| {
        b.push(key);
        b.extend_from_slice(&((s.len() + 1) as u16).to_be_bytes());
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    };
    field(
        &mut b,
        b'a',
        "standin_wrapper;UserID=0XFFFFFFFF;Version=2022.2",
    );
    field(&mut b, b'b', "7z020clg400");
    field(&mut b, b'c', "2026/11/27");
    field(&mut b, b'd', "16:20:00");
    b.push(b'e');
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    b.extend_from_slice(data);
    b
}

fn data() -> Vec<u8> {
    // Dummy words, then the sync word as it appears in a .bit (AA 99 55 66).
    let mut d = vec![0xFF; 16];
    d.extend_from_slice(&[0x00, 0x00, 0x00, 0xBB, 0x11, 0x22, 0x00, 0x44]);
    d.extend_from_slice(&[0xAA, 0x99, 0x55, 0x66]);
    d.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
    d
}

#[test]
fn parses_a_vivado_header() {
    let p = Path::new("x.bit");
    let bit = Bitstream::parse(&vivado_bit(&data()), p).unwrap();
    assert_eq!(bit.design, "standin_wrapper");
    assert_eq!(bit.design_attributes, "UserID=0XFFFFFFFF;Version=2022.2");
    assert_eq!(bit.part, "7z020clg400");
    assert_eq!(bit.date, "2026/11/27");
    assert_eq!(bit.time, "16:20:00");
    assert_eq!(bit.data, data());
    // The crate's own writer produces the same bytes.
    assert_eq!(
        bitstream::build(
            "standin_wrapper;UserID=0XFFFFFFFF;Version=2022.2",
            "7z020clg400",
            "2026/11/27",
            "16:20:00",
            &data()
        ),
        vivado_bit(&data())
    );
}

#[test]
fn every_truncation_is_refused() {
    let full = vivado_bit(&data());
    for len in 0..full.len() {
        let e = Bitstream::parse(&full[..len], Path::new("cut.bit")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("truncated") && msg.contains("cut.bit"),
            "at {len}: {msg}"
        );
    }
}

#[test]
fn bad_magic_and_keys_are_refused() {
    let mut b = vivado_bit(&data());
    b[3] = 0x00;
    let msg = Bitstream::parse(&b, Path::new("x.bit"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not a Xilinx .bit file"), "{msg}");
    let mut b = vivado_bit(&data());
    b[13] = b'z';
    let msg = Bitstream::parse(&b, Path::new("x.bit"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expected field 'a'"), "{msg}");
    let msg = Bitstream::parse(b"PK\x03\x04 not a bitstream", Path::new("x.bit"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("x.bit"), "{msg}");
}

#[test]
fn part_is_checked_against_the_bundle() {
    let p = Path::new("x.bit");
    let bit = Bitstream::parse(&vivado_bit(&data()), p).unwrap();
    bit.check_part("xc7z020", p).unwrap();
    bit.check_part("xc7z020clg400-1", p).unwrap();
    let e = bit.check_part("xc7z010", p).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::PartMismatch { .. }), "{msg}");
    assert!(
        msg.contains("7z020clg400") && msg.contains("xc7z010"),
        "{msg}"
    );
    assert!(msg.contains("prefix"), "the rule is quoted: {msg}");
}

#[test]
fn bin_is_the_word_swapped_data() {
    let p = Path::new("x.bit");
    let bit = Bitstream::parse(&vivado_bit(&data()), p).unwrap();
    let bin = bit.to_bin(p).unwrap();
    assert_eq!(bin.len(), data().len());
    assert_eq!(
        &bin[16..24],
        &[0xBB, 0x00, 0x00, 0x00, 0x44, 0x00, 0x22, 0x11]
    );
    assert_eq!(&bin[24..28], &[0x66, 0x55, 0x99, 0xAA]); // sync word as Zynq's loader wants it
    let odd = Bitstream::parse(&vivado_bit(&[1, 2, 3]), p).unwrap();
    assert!(odd
        .to_bin(p)
        .unwrap_err()
        .to_string()
        .contains("32-bit words"));
}

struct Fm {
    _dir: tempfile::TempDir,
    cfg: FpgaManagerConfig,
    bit: PathBuf,
}

fn fake_fpga_manager(state: &str) -> Fm {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("sys");
    let fw = dir.path().join("firmware");
    let mgr = sys.join("class/fpga_manager/fpga0");
    std::fs::create_dir_all(&mgr).unwrap();
    std::fs::create_dir_all(&fw).unwrap();
    for (f, v) in [("flags", "0\n"), ("firmware", "\n"), ("state", state)] {
        std::fs::write(mgr.join(f), v).unwrap();
    }
    let bit = dir.path().join("standin.bit");
    std::fs::write(&bit, vivado_bit(&data())).unwrap();
    Fm {
        cfg: FpgaManagerConfig {
            sysfs_root: sys,
            firmware_dir: fw,
            manager: "fpga0".into(),
            flags: 0,
            timeout: Duration::from_millis(200),
        },
        bit,
        _dir: dir,
    }
}

#[test]
fn loads_through_fpga_manager() {
    let fm = fake_fpga_manager("operating\n");
    let bit = fpga_manager::load_bitstream(&fm.cfg, &fm.bit, "xc7z020").unwrap();
    assert_eq!(bit.part, "7z020clg400");
    let mgr = fm.cfg.manager_dir();
    assert_eq!(std::fs::read_to_string(mgr.join("flags")).unwrap(), "0\n");
    assert_eq!(
        std::fs::read_to_string(mgr.join("firmware")).unwrap(),
        "standin.bin\n"
    );
    let placed = std::fs::read(fm.cfg.firmware_dir.join("standin.bin")).unwrap();
    assert_eq!(placed, bit.to_bin(&fm.bit).unwrap());
}

#[test]
fn part_mismatch_writes_nothing() {
    let fm = fake_fpga_manager("operating\n");
    let e = fpga_manager::load_bitstream(&fm.cfg, &fm.bit, "xczu3eg").unwrap_err();
    assert!(matches!(e, Error::PartMismatch { .. }), "{e}");
    assert!(!fm.cfg.firmware_dir.join("standin.bin").exists());
    let mgr = fm.cfg.manager_dir();
    assert_eq!(std::fs::read_to_string(mgr.join("firmware")).unwrap(), "\n");
}

#[test]
fn state_that_never_becomes_operating_times_out() {
    let fm = fake_fpga_manager("write init\n");
    let e = fpga_manager::load_bitstream(&fm.cfg, &fm.bit, "xc7z020").unwrap_err();
    let msg = e.to_string();
    match &e {
        Error::FpgaManagerTimeout {
            state,
            elapsed,
            timeout,
            ..
        } => {
            // The last state seen, and a wait that used its whole timeout (as reported).
            assert_eq!(state, "write init");
            assert_eq!(*timeout, Duration::from_millis(200));
            assert!(elapsed >= timeout, "{msg}");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(
        msg.contains("`write init`") && msg.contains("operating"),
        "{msg}"
    );
}

#[test]
fn state_that_becomes_operating_later_is_waited_for() {
    let fm = fake_fpga_manager("write\n");
    let state = fm.cfg.manager_dir().join("state");
    let flip = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(state, "operating\n").unwrap();
    });
    let cfg = FpgaManagerConfig {
        timeout: Duration::from_secs(5),
        ..fm.cfg.clone()
    };
    fpga_manager::load_bitstream(&cfg, &fm.bit, "xc7z020").unwrap();
    flip.join().unwrap();
}

/// An `error` state is its own failure, not a timeout: the state never changes here, so a wait
/// for `operating` would have ended in `FpgaManagerTimeout`. Regression: it was a generic backend
/// error, so `bramble-host load` exited 1 instead of the documented 6.
#[test]
fn error_state_fails_at_once_and_absent_manager_is_named() {
    let fm = fake_fpga_manager("write error\n");
    let cfg = FpgaManagerConfig {
        timeout: Duration::from_secs(30),
        ..fm.cfg.clone()
    };
    let e = fpga_manager::load_bitstream(&cfg, &fm.bit, "xc7z020").unwrap_err();
    match &e {
        Error::FpgaManagerFailed {
            firmware, state, ..
        } => assert_eq!(
            (firmware.as_str(), state.as_str()),
            ("standin.bin", "write error")
        ),
        other => panic!("expected FpgaManagerFailed, got {other}"),
    }
    assert!(e.to_string().contains("write error"), "{e}");
    assert_eq!(bramble_host::cli::exit_code(&e), 6);

    let cfg = FpgaManagerConfig {
        manager: "fpga7".into(),
        ..fm.cfg.clone()
    };
    let e = fpga_manager::load_bitstream(&cfg, &fm.bit, "xc7z020").unwrap_err();
    assert!(matches!(e, Error::DeviceAbsent { .. }), "{e}");
    assert!(e.to_string().contains("fpga7"), "{e}");

    let e = fpga_manager::load_bitstream(&fm.cfg, Path::new("/nonexistent.bit"), "xc7z020")
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent.bit"), "{e}");
    assert_eq!(
        bramble_host::cli::exit_code(&e),
        6,
        "an unreadable .bit: {e}"
    );
}

/// A `.bit` that sits in the firmware directory under the name the `.bin` would get is refused,
/// not overwritten by its own conversion.
#[test]
fn bit_named_like_its_bin_in_the_firmware_dir_is_not_overwritten() {
    let fm = fake_fpga_manager("operating\n");
    let bit = fm.cfg.firmware_dir.join("standin.bin");
    std::fs::copy(&fm.bit, &bit).unwrap();
    let before = std::fs::read(&bit).unwrap();
    let e = fpga_manager::load_bitstream(&fm.cfg, &bit, "xc7z020").unwrap_err();
    assert!(matches!(e, Error::Output(_)), "{e}");
    assert!(e.to_string().contains("same file"), "{e}");
    assert_eq!(std::fs::read(&bit).unwrap(), before);
}
