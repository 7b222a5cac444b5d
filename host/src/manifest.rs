//! A bundle directory as the host uses it: the validated manifest of `bramble_abi` (the one
//! manifest type, docs/bundle.md) plus the directory it came from.

use std::path::{Path, PathBuf};

pub use bramble_abi::manifest::{Layer, Manifest, Port};
pub use bramble_abi::regs::{
    CONTROL_IRQ_ENABLE, CONTROL_START, MAGIC, REGMAP_VERSION, STATUS_BUSY, STATUS_DONE,
    STATUS_IRQ_PENDING,
};

use crate::error::Result;

/// A bundle directory with a validated manifest.
///
/// [`Bundle::load`] checks the manifest only (a board needs nothing else of the bundle);
/// [`Bundle::load_checked`] also checks every file against its listed SHA-256, and is what
/// anything that builds or simulates the bundle's RTL uses.
#[derive(Debug, Clone)]
pub struct Bundle {
    dir: PathBuf,
    manifest: Manifest,
}

impl Bundle {
    /// Loads and validates `DIR/manifest.json`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Bundle> {
        let dir = dir.as_ref().to_path_buf();
        let manifest = Manifest::load(&dir)?;
        Ok(Bundle { dir, manifest })
    }

    /// [`Bundle::load`], then refuses a bundle with a missing, modified or extra file or a
    /// symlink (docs/bundle.md, "Integrity").
    pub fn load_checked(dir: impl AsRef<Path>) -> Result<Bundle> {
        let b = Bundle::load(dir)?;
        b.check_files()?;
        Ok(b)
    }

    /// Checks every file of the bundle against the manifest.
    pub fn check_files(&self) -> Result<()> {
        Ok(self.manifest.check_files(&self.dir)?)
    }

    /// Validates an in-memory manifest for the bundle at `dir` (for tests and tools).
    pub fn from_manifest(dir: impl Into<PathBuf>, manifest: Manifest) -> Result<Bundle> {
        let dir = dir.into();
        manifest.validate(&dir.join(bramble_abi::manifest::MANIFEST_FILE))?;
        Ok(Bundle { dir, manifest })
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bundle's `rtl/` directory.
    pub fn rtl_dir(&self) -> PathBuf {
        self.dir.join("rtl")
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// `network_hash` as the 64-bit number HASH_HI:HASH_LO holds.
    pub fn network_hash(&self) -> u64 {
        self.manifest.network_hash_u64()
    }

    /// Size in bytes of the accelerator's address space (four windows).
    pub fn address_space(&self) -> u64 {
        self.manifest.address_space()
    }
}
