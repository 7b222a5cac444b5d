//! Bramble's generator: network description -> compressed model -> EIE encoding -> memory plan ->
//! Verilog (and optionally HLS C++), memory images and manifest. Each stage is a module with typed input and output; the
//! `bramble` binary is thin glue over these.

pub mod benchmarks;
pub mod boards;
pub mod bram;
pub mod calibrated;
pub mod compress;
pub mod csim;
pub mod desc;
pub mod encode;
pub mod error;
pub mod evaluate;
pub use bramble_host::fsutil;
pub mod generate;
pub mod geometry_of;
pub mod golden;
pub mod hls;
pub use bramble_abi::ident;
pub mod model;
pub mod parts;
pub mod plan;
pub mod source;
pub mod stats;
pub mod sweep;
pub mod synthetic;
pub mod timing;
pub mod verify;
pub mod vivado;
pub mod weight_image;
pub mod weights;

pub use error::{Error, Result};
