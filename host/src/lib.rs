//! Bramble host library: drive a generated accelerator through one API, whatever is behind it.
//!
//! ```no_run
//! use std::time::Duration;
//! use bramble_host::{Bundle, Device, uio::{UioBackend, UioConfig}};
//! # fn main() -> bramble_host::Result<()> {
//! let bundle = Bundle::load("jet70_bundle")?;
//! let backend = UioBackend::open(&UioConfig::named("jet70_top"), bundle.address_space())?;
//! let mut dev = Device::open(bundle, Box::new(backend))?;
//! let out = dev.run(&[0.5; 16], Duration::from_millis(100))?;
//! println!("{:?} in {} cycles", out.values, out.cycles);
//! # Ok(()) }
//! ```
//!
//! Backends: [`uio`], [`devmem`], [`xdma`] (boards), [`sim`] (Verilator, feature `sim`) and
//! [`fake`] (in-process model for tests). See docs/host.md.

#![deny(unsafe_code)]

pub mod backend;
pub mod bitstream;
pub mod cleanup;
pub mod cli;
pub mod device;
pub mod devmem;
pub mod dma;
pub mod error;
pub mod fake;
pub mod fpga_manager;
pub mod fsutil;
pub mod manifest;
#[allow(unsafe_code)]
pub mod mmio;
pub mod report;
pub mod stream;

#[cfg(feature = "sim")]
pub mod sim;
pub mod udmabuf;
pub mod uio;
pub mod xdma;

pub use backend::{Backend, Event};
pub use device::{Batch, Completion, Device, Identity, Output, Run, WeightsLoaded};
pub use error::{Error, Result};
pub use stream::{Stream, StreamFault};

pub use manifest::{Bundle, Manifest};
