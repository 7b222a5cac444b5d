//! Loading a bitstream through Linux's fpga_manager (Zynq / Zynq UltraScale+): set the flags,
//! place the image in the firmware directory, write its name, and read the state back until it
//! says `operating`, with a timeout. Roots are configurable so tests use a fake sysfs tree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::bitstream::Bitstream;
use crate::error::{Error, Result};

/// Where fpga_manager and the firmware directory are.
#[derive(Debug, Clone)]
pub struct FpgaManagerConfig {
    /// Normally `/sys`.
    pub sysfs_root: PathBuf,
    /// Normally `/lib/firmware` (where the kernel's firmware loader looks).
    pub firmware_dir: PathBuf,
    /// Normally `fpga0`.
    pub manager: String,
    /// fpga_manager flags: 0 = full bitstream (1 would be partial reconfiguration).
    pub flags: u32,
    /// How long to wait for `operating`.
    pub timeout: Duration,
}

impl Default for FpgaManagerConfig {
    fn default() -> Self {
        FpgaManagerConfig {
            sysfs_root: PathBuf::from("/sys"),
            firmware_dir: PathBuf::from("/lib/firmware"),
            manager: "fpga0".into(),
            flags: 0,
            timeout: Duration::from_secs(10),
        }
    }
}

impl FpgaManagerConfig {
    /// `<sysfs>/class/fpga_manager/<manager>`.
    pub fn manager_dir(&self) -> PathBuf {
        self.sysfs_root
            .join("class/fpga_manager")
            .join(&self.manager)
    }
}

fn write_attr(path: &Path, value: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    f.write_all(value.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}

/// Reads fpga_manager's `state` (trimmed).
pub fn state(cfg: &FpgaManagerConfig) -> Result<String> {
    let p = cfg.manager_dir().join("state");
    std::fs::read_to_string(&p)
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io("read", &p, e))
}

/// Writes `image` as `<firmware_dir>/<name>`, asks fpga_manager to load it and waits for
/// `operating`. A state containing `error` fails at once with [`Error::FpgaManagerFailed`];
/// anything else until the timeout is [`Error::FpgaManagerTimeout`] with the last state seen.
pub fn load_image(cfg: &FpgaManagerConfig, name: &str, image: &[u8]) -> Result<()> {
    if name.is_empty() || name.contains('/') {
        return Err(Error::Bitstream {
            path: PathBuf::from(name),
            reason: "firmware name must be a plain file name".into(),
        });
    }
    let dir = cfg.manager_dir();
    if !dir.is_dir() {
        return Err(Error::DeviceAbsent {
            what: format!(
                "fpga_manager `{}` (is the FPGA manager driver loaded?)",
                cfg.manager
            ),
            path: dir,
        });
    }
    let fw = cfg.firmware_dir.join(name);
    // Through a temporary sibling and a rename: the kernel never reads half an image.
    crate::fsutil::write_atomic(&fw, image)?;
    write_attr(&dir.join("flags"), &format!("{}\n", cfg.flags))?;
    // Writing the name starts the load; the kernel resolves it against its firmware path.
    write_attr(&dir.join("firmware"), &format!("{name}\n"))?;
    let began = Instant::now();
    let mut last;
    loop {
        last = state(cfg)?;
        if last == "operating" {
            return Ok(());
        }
        if last.contains("error") {
            return Err(Error::FpgaManagerFailed {
                path: dir,
                firmware: name.to_string(),
                state: last,
            });
        }
        let elapsed = began.elapsed();
        if elapsed >= cfg.timeout {
            return Err(Error::FpgaManagerTimeout {
                path: dir,
                state: last,
                elapsed,
                timeout: cfg.timeout,
            });
        }
        std::thread::sleep((cfg.timeout - elapsed).min(Duration::from_millis(10)));
    }
}

/// Parses `bit_path`, checks its part against `manifest_part`, converts it to the byte-swapped
/// `.bin` form and loads it as `<file stem>.bin`. Returns the parsed header.
pub fn load_bitstream(
    cfg: &FpgaManagerConfig,
    bit_path: &Path,
    manifest_part: &str,
) -> Result<Bitstream> {
    let bit = Bitstream::read(bit_path)?;
    bit.check_part(manifest_part, bit_path)?;
    let bin = bit.to_bin(bit_path)?;
    let stem = bit_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bramble".into());
    let name = format!("{stem}.bin");
    // A `.bit` that lives in the firmware directory under the `.bin` name would be replaced.
    crate::fsutil::check_output(&cfg.firmware_dir.join(&name), &[bit_path], true)?;
    load_image(cfg, &name, &bin)?;
    Ok(bit)
}
