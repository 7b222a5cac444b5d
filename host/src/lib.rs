//! Bramble host library.
