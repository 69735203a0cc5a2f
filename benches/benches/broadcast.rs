//! One message to many connections (a chat room, a market feed): each connection encoding
//! it (`send_text`) against one encoding shared by all (`send_prepared`), with
//! permessage-deflate negotiated (the default) and without. Sans-IO server endpoints; the
//! queued output is dropped after each broadcast, as if written.

mod common;

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_endpoint::{Config, Endpoint, PreparedMessage};
use ws_extensions::Extensions;
use ws_handshake::ClientBuilder;

const CONNECTIONS: usize = 100;

/// Distinct messages, sent in turn: a compressor with context takeover would squeeze the
/// same message sent again to almost nothing, which no real broadcast does.
const MESSAGES: usize = 64;

/// Servers, open, each after the handshake of a client with `config`.
fn servers(config: &Config) -> Vec<Endpoint> {
    let now = Instant::now();
    (0..CONNECTIONS)
        .map(|_| {
            let url = "ws://localhost/feed".parse().expect("a valid URL");
            let mut client = Endpoint::client(config.clone(), ClientBuilder::new(url), now)
                .expect("a valid client");
            let mut server_config = config.clone();
            server_config.auto_accept = true;
            let mut server = Endpoint::server(server_config, now);
            let mut wire = Vec::new();
            client.poll_transmit(&mut wire);
            server.receive(&wire, now);
            wire.clear();
            server.poll_transmit(&mut wire);
            while server.poll_event().is_some() {}
            server
        })
        .collect()
}

/// About 1 KiB of JSON records, different for each `seed`.
fn update(seed: usize) -> String {
    let mut text = String::from("[");
    let mut i = seed * 31;
    while text.len() < 1000 {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345) % 1_000_003;
        text.push_str(&format!(
            r#"{{"symbol":"S{:03}","bid":{}.{:02},"ask":{}.{:02},"size":{}}},"#,
            i % 500,
            i % 977,
            i % 100,
            i % 977 + 1,
            i % 97,
            i % 10_000
        ));
    }
    text.pop();
    text.push(']');
    text
}

fn drain(servers: &mut [Endpoint]) {
    for server in servers {
        let queued = server.transmit_len();
        server.advance_transmit(queued);
    }
}

fn broadcast(c: &mut Criterion) {
    let updates: Vec<String> = (0..MESSAGES).map(update).collect();
    let mut group = c.benchmark_group("broadcast");
    group.throughput(Throughput::Elements(CONNECTIONS as u64));
    let mut plain = Config::default();
    plain.extensions = Extensions::new();
    for (name, config) in [("deflate", Config::default()), ("plain", plain)] {
        let mut endpoints = servers(&config);
        let mut next = 0;
        group.bench_function(BenchmarkId::new("per_connection", name), |b| {
            b.iter(|| {
                let text = &updates[next % MESSAGES];
                next += 1;
                for server in &mut endpoints {
                    server.send_text(text.clone()).expect("open");
                }
                drain(black_box(&mut endpoints));
            })
        });
        group.bench_function(BenchmarkId::new("prepared", name), |b| {
            b.iter(|| {
                let message = PreparedMessage::text(updates[next % MESSAGES].clone());
                next += 1;
                for server in &mut endpoints {
                    server.send_prepared(&message).expect("open");
                }
                drain(black_box(&mut endpoints));
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config(std::time::Duration::from_secs(3));
    targets = broadcast
}
criterion_main!(benches);
