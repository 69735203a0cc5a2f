//! Decoding a buffer of many small masked frames (what a server reads from a busy client):
//! header parse, in-place unmask, payload handed out. `ws-frame` against `tungstenite` and
//! `fastwebsockets`, each reading from memory in the server role.

mod common;

use std::{
    hint::black_box,
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::BytesMut;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_frame::{Decoder, Encoder, FrameHeader, OpCode, Role};

const FRAMES: usize = 10_000;
const PAYLOAD_LEN: usize = 16;

/// `FRAMES` masked binary frames of `PAYLOAD_LEN` bytes, as a client sends them.
fn client_stream() -> Vec<u8> {
    let mut key = 0x1234_5678u32;
    let mut encoder = Encoder::client(move || {
        key = key.rotate_left(5) ^ 0x9e37_79b9;
        key.to_le_bytes()
    });
    let mut wire = BytesMut::new();
    for i in 0..FRAMES {
        let payload = [i as u8; PAYLOAD_LEN];
        encoder.encode(
            FrameHeader::new(OpCode::BINARY, PAYLOAD_LEN as u64),
            &payload,
            &mut wire,
        );
    }
    wire.to_vec()
}

/// An in-memory socket: reads replay a recording, writes are discarded.
struct Replay {
    data: Vec<u8>,
    pos: usize,
}

impl Replay {
    fn new(data: &[u8]) -> Replay {
        Replay {
            data: data.to_vec(),
            pos: 0,
        }
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl io::Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl io::Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.read_into(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn decode(c: &mut Criterion) {
    let wire = client_stream();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(FRAMES as u64));

    group.bench_function(BenchmarkId::new("ws_frame", FRAMES), |b| {
        let decoder = Decoder::new(Role::Server);
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let mut count = 0;
                while let Some(frame) = decoder.decode(&mut buf).expect("valid frames") {
                    black_box(frame);
                    count += 1;
                }
                assert_eq!(count, FRAMES);
                // Dropped outside the timing: a server reuses its read buffer.
                buf
            },
            BatchSize::LargeInput,
        )
    });

    // The floor for any decoder that hands out each payload as `Bytes`: only the buffer
    // bookkeeping, no header parsing or unmasking.
    group.bench_function(BenchmarkId::new("bytes_split_floor", FRAMES), |b| {
        let frame_len = wire.len() / FRAMES;
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut buf| {
                for _ in 0..FRAMES {
                    let mut payload = buf.split_to(frame_len).freeze();
                    bytes::Buf::advance(&mut payload, frame_len - PAYLOAD_LEN);
                    black_box(payload);
                }
                buf
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function(BenchmarkId::new("tungstenite", FRAMES), |b| {
        b.iter_batched(
            || {
                tungstenite::WebSocket::from_raw_socket(
                    Replay::new(&wire),
                    tungstenite::protocol::Role::Server,
                    None,
                )
            },
            |mut socket| {
                for _ in 0..FRAMES {
                    black_box(socket.read().expect("valid frames"));
                }
            },
            BatchSize::LargeInput,
        )
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    group.bench_function(BenchmarkId::new("fastwebsockets", FRAMES), |b| {
        b.iter_batched(
            || {
                fastwebsockets::WebSocket::after_handshake(
                    Replay::new(&wire),
                    fastwebsockets::Role::Server,
                )
            },
            |mut socket| {
                runtime.block_on(async {
                    for _ in 0..FRAMES {
                        black_box(socket.read_frame().await.expect("valid frames"));
                    }
                })
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config(std::time::Duration::from_secs(3));
    targets = decode
}
criterion_main!(benches);
