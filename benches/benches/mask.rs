//! Masking throughput: each `ws-frame` backend, a byte loop, `copy_from_slice` and
//! `fastwebsockets::unmask`, on the same buffer sizes.

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_frame::{MaskBackend, apply_mask};

const SIZES: [usize; 8] = [16, 125, 256, 512, 1024, 16 * 1024, 64 * 1024, 1024 * 1024];
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What a straightforward implementation writes.
fn byte_loop(buf: &mut [u8], key: [u8; 4]) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0x5Au8; size];
        let src = vec![0xA5u8; size];

        group.bench_function(BenchmarkId::new("apply_mask", size), |b| {
            b.iter(|| apply_mask(black_box(&mut buf), black_box(KEY)))
        });
        for backend in MaskBackend::ALL.into_iter().filter(|b| b.is_available()) {
            let name = format!("{backend:?}").to_lowercase();
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| backend.apply(black_box(&mut buf), black_box(KEY)))
            });
        }
        group.bench_function(BenchmarkId::new("byte_loop", size), |b| {
            b.iter(|| byte_loop(black_box(&mut buf), black_box(KEY)))
        });
        group.bench_function(BenchmarkId::new("fastwebsockets", size), |b| {
            b.iter(|| fastwebsockets::unmask(black_box(&mut buf), black_box(KEY)))
        });
        group.bench_function(BenchmarkId::new("copy_from_slice", size), |b| {
            b.iter(|| black_box(&mut buf[..]).copy_from_slice(black_box(&src)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config(std::time::Duration::from_secs(2));
    targets = mask
}
criterion_main!(benches);
