//! Criterion benchmarks for the workspace, run with `cargo xtask bench`.
//!
//! - `mask`: the masking loop per backend against a byte loop, `copy_from_slice` (the
//!   memory-bandwidth reference) and `fastwebsockets::unmask`, at 16 B to 1 MiB.
//! - `decode`: decoding a buffer of 10,000 small masked frames with `ws-frame`,
//!   `tungstenite` and `fastwebsockets`.
//!
//! Benchmark ids are `<group>/<function>/<parameter>`; `cargo xtask bench` reads criterion's
//! estimates under `target/criterion/` by those ids to print its table.
