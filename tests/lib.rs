//! End-to-end tests that cross Bramble's crates live in this package's test targets (`sim.rs`:
//! description or synthetic model -> bundle -> Verilator simulation -> host API, bit-exact
//! against the golden model). The library is empty; run `cargo test --release -p bramble-e2e`.
