//! The one contract between Bramble's generator, the RTL it emits and the host that drives it.
//!
//! Everything here is written once and used by both sides: the bundle manifest and its integrity
//! rules ([`manifest`]), the register map, the window rule and every bit layout ([`regs`]), the
//! Verilog include generated from them ([`verilog`]), fixed-point conversion at the boundary
//! ([`numeric`]), the AXI4-Stream packing of activation vectors ([`stream`]), the `.npy`/`.npz`
//! array reader ([`array`]), the one pseudo-random generator ([`rng`]) and the names and
//! buffer sizes a Zynq board design shares with the host ([`board`]) and the run-time weight image
//! ([`weights`]). This crate depends on no
//! other Bramble crate.

#![forbid(unsafe_code)]

pub mod array;
pub mod board;
pub mod error;
pub mod ident;
pub mod manifest;
pub mod numeric;
pub mod regs;
pub mod rng;
pub mod stream;
pub mod verilog;
pub mod weights;
