//! Bramble generator library.
