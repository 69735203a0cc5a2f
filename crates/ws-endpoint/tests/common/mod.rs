//! The test harness: a client and a server endpoint wired to each other in memory with a
//! fake clock (after quinn-proto's `Pair`), and helpers to play a misbehaving peer by hand.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use ws_endpoint::{CloseCode, CloseInfo, Config, ConnectionError, Endpoint, Event, ReadyState};
use ws_frame::{Decoder, Encoder, Frame, FrameHeader, OpCode, Role};
use ws_handshake::{ClientBuilder, Incoming, Limits};

/// One side of the pair: an endpoint, what it reported, and its transport's state.
pub struct Side {
    pub endpoint: Endpoint,
    pub events: Vec<Event>,
    /// This side closed its transport.
    pub closed_transport: bool,
    /// This side was told about end of stream.
    pub got_eof: bool,
    /// Bytes written to the transport since the last `take_written`.
    pub written: Vec<u8>,
    /// The number of writes (one per step with output).
    pub writes: usize,
}

impl Side {
    fn new(endpoint: Endpoint) -> Side {
        Side {
            endpoint,
            events: Vec::new(),
            closed_transport: false,
            got_eof: false,
            written: Vec::new(),
            writes: 0,
        }
    }

    /// Takes the events reported so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The `Closed` event, if reported.
    pub fn closed(&self) -> Option<&CloseInfo> {
        self.events.iter().find_map(|e| match e {
            Event::Closed(info) => Some(info),
            _ => None,
        })
    }

    /// The `Error` event, if reported.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.events.iter().find_map(|e| match e {
            Event::Error(error) => Some(error),
            _ => None,
        })
    }

    /// The text and binary messages reported, as (is_text, bytes).
    pub fn messages(&self) -> Vec<(bool, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) => Some((true, t.as_bytes().to_vec())),
                Event::Binary(b) => Some((false, b.to_vec())),
                _ => None,
            })
            .collect()
    }
}

pub struct Pair {
    pub client: Side,
    pub server: Side,
    pub time: Instant,
}

/// A server config that accepts every request.
pub fn server_config() -> Config {
    let mut config = Config::default();
    config.auto_accept = true;
    config
}

/// `config` without extensions: no compression, for tests that count or compare wire
/// bytes of plain messages.
pub fn plain(mut config: Config) -> Config {
    config.extensions = ws_extensions::Extensions::new();
    config
}

pub fn client_builder() -> ClientBuilder {
    ClientBuilder::new("ws://example.com/chat".parse().unwrap())
}

impl Pair {
    /// A client and a server that have not talked yet.
    pub fn new(client: Config, server: Config) -> Pair {
        Pair::with_builder(client, client_builder(), server)
    }

    pub fn with_builder(client: Config, builder: ClientBuilder, server: Config) -> Pair {
        let time = Instant::now();
        Pair {
            client: Side::new(Endpoint::client(client, builder, time).unwrap()),
            server: Side::new(Endpoint::server(server, time)),
            time,
        }
    }

    /// A pair with default configs (auto-accepting server), handshake done, events cleared.
    pub fn connected() -> Pair {
        Pair::connected_with(Config::default(), server_config())
    }

    pub fn connected_with(client: Config, server: Config) -> Pair {
        let mut pair = Pair::new(client, server);
        pair.drive();
        assert_eq!(pair.client.endpoint.ready_state(), ReadyState::Open);
        assert_eq!(pair.server.endpoint.ready_state(), ReadyState::Open);
        assert!(matches!(pair.client.events[..], [Event::Open(_)]));
        assert!(matches!(pair.server.events[..], [Event::Open(_)]));
        pair.client.events.clear();
        pair.server.events.clear();
        pair.client.written.clear();
        pair.server.written.clear();
        pair
    }

    /// Moves bytes one way: everything `from` has queued is written in one write and
    /// received by `to` in one read; end of stream follows once `from` closed. Returns
    /// whether anything happened.
    fn transfer(from: &mut Side, to: &mut Side, now: Instant) -> bool {
        let mut progress = false;
        if from.closed_transport {
            if !to.got_eof && !to.closed_transport {
                to.got_eof = true;
                to.endpoint.handle_eof(now);
                progress = true;
            }
            return progress;
        }
        let mut bytes = Vec::new();
        from.endpoint.poll_transmit(&mut bytes);
        if !bytes.is_empty() {
            progress = true;
            from.writes += 1;
            from.written.extend_from_slice(&bytes);
            if !to.closed_transport {
                to.endpoint.receive(&bytes, now);
            }
        }
        if from.endpoint.should_close_transport() {
            from.closed_transport = true;
            progress = true;
        }
        progress
    }

    fn drain_events(side: &mut Side) -> bool {
        let mut progress = false;
        while let Some(event) = side.endpoint.poll_event() {
            side.events.push(event);
            progress = true;
        }
        progress
    }

    /// One round: events drained, then bytes moved both ways. Returns whether anything
    /// happened.
    pub fn step(&mut self) -> bool {
        let now = self.time;
        let mut progress = Pair::drain_events(&mut self.client);
        progress |= Pair::drain_events(&mut self.server);
        progress |= Pair::transfer(&mut self.client, &mut self.server, now);
        progress |= Pair::transfer(&mut self.server, &mut self.client, now);
        progress |= Pair::drain_events(&mut self.client);
        progress |= Pair::drain_events(&mut self.server);
        progress
    }

    /// Steps until nothing more happens.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    /// The next deadline of either endpoint.
    pub fn next_timeout(&self) -> Option<Instant> {
        let c = (!self.client.closed_transport)
            .then(|| self.client.endpoint.poll_timeout())
            .flatten();
        let s = (!self.server.closed_transport)
            .then(|| self.server.endpoint.poll_timeout())
            .flatten();
        c.into_iter().chain(s).min()
    }

    /// Advances the clock to the next deadline, handles it, and drives. Returns false when
    /// there was no deadline.
    pub fn advance_to_next_timeout(&mut self) -> bool {
        let Some(at) = self.next_timeout() else {
            return false;
        };
        self.time = self.time.max(at);
        let now = self.time;
        self.client.endpoint.handle_timeout(now);
        self.server.endpoint.handle_timeout(now);
        self.drive();
        true
    }

    /// Advances the clock by `d`, handling every deadline on the way.
    pub fn advance_by(&mut self, d: Duration) {
        let end = self.time + d;
        while let Some(at) = self.next_timeout().filter(|&at| at <= end) {
            self.time = self.time.max(at);
            let now = self.time;
            self.client.endpoint.handle_timeout(now);
            self.server.endpoint.handle_timeout(now);
            self.drive();
        }
        self.time = end;
        self.drive();
    }
}

/// A frame as a client sends it: masked with a fixed key.
pub fn masked(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut encoder = Encoder::client(|| [0x11, 0x22, 0x33, 0x44]);
    let mut out = BytesMut::new();
    let header = FrameHeader {
        fin,
        ..FrameHeader::new(opcode, payload.len() as u64)
    };
    encoder.encode(header, payload, &mut out);
    out.to_vec()
}

/// A frame as a server sends it: unmasked.
pub fn unmasked(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let header = FrameHeader {
        fin,
        ..FrameHeader::new(opcode, payload.len() as u64)
    };
    Encoder::server().encode(header, payload, &mut out);
    out.to_vec()
}

/// A close frame payload.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// A valid upgrade request.
pub fn request_bytes() -> Vec<u8> {
    let mut request = Vec::new();
    client_builder().build().unwrap().encode(&mut request);
    request
}

/// A server endpoint, open after a valid request from a hand-played client. Its 101
/// response has been taken from its output.
pub fn open_server(config: Config) -> (Endpoint, Instant) {
    let now = Instant::now();
    let mut server = Endpoint::server(config, now);
    server.receive(&request_bytes(), now);
    if server.ready_state() == ReadyState::Connecting {
        server.accept(now).unwrap();
    }
    assert_eq!(server.ready_state(), ReadyState::Open);
    let mut response = Vec::new();
    server.poll_transmit(&mut response);
    assert!(response.starts_with(b"HTTP/1.1 101"));
    while let Some(event) = server.poll_event() {
        assert!(matches!(event, Event::Open(_) | Event::UpgradeRequest(_)));
    }
    (server, now)
}

/// A client endpoint, open after a valid response from a hand-played server. Its request
/// has been taken from its output.
pub fn open_client(config: Config) -> (Endpoint, Instant) {
    let now = Instant::now();
    let mut client = Endpoint::client(config, client_builder(), now).unwrap();
    let mut request = Vec::new();
    client.poll_transmit(&mut request);
    let (incoming, _) = Incoming::parse(&request, &Limits::default())
        .unwrap()
        .unwrap();
    let Incoming::Upgrade(upgrade) = incoming else {
        panic!("not an upgrade")
    };
    let mut response = Vec::new();
    upgrade.accept().encode(&mut response).unwrap();
    client.receive(&response, now);
    assert_eq!(client.ready_state(), ReadyState::Open);
    assert!(matches!(client.poll_event(), Some(Event::Open(_))));
    (client, now)
}

/// Drains an endpoint's events.
pub fn events(endpoint: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| endpoint.poll_event()).collect()
}

/// Drains an endpoint's output.
pub fn output(endpoint: &mut Endpoint) -> Vec<u8> {
    let mut out = Vec::new();
    endpoint.poll_transmit(&mut out);
    out
}

/// Asserts that `endpoint` failed with `code`: an `Error` event, a close frame with that
/// code in its output, a `Closed` event with it, and the transport to be closed.
pub fn assert_failed_with(endpoint: &mut Endpoint, code: u16) -> ConnectionError {
    let events = events(endpoint);
    let error = events
        .iter()
        .find_map(|e| match e {
            Event::Error(error) => Some(error.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no error event in {events:?}"));
    assert_eq!(error.close_code(), Some(CloseCode::from(code)), "{error}");
    let closed = events
        .iter()
        .find_map(|e| match e {
            Event::Closed(info) => Some(info.clone()),
            _ => None,
        })
        .expect("closed event");
    assert_eq!(closed.code, CloseCode::from(code));
    assert!(!closed.clean);
    let out = output(endpoint);
    let last = frames(endpoint.role().peer(), &out)
        .pop()
        .expect("a close frame");
    assert_eq!(last.header.opcode, OpCode::CLOSE);
    assert_eq!(u16::from_be_bytes([last.payload[0], last.payload[1]]), code);
    assert_eq!(endpoint.ready_state(), ReadyState::Closed);
    assert!(endpoint.should_close_transport());
    error
}

/// Decodes every frame in `bytes`, as the endpoint of `role` receives them.
pub fn frames(role: Role, bytes: &[u8]) -> Vec<Frame> {
    let decoder = Decoder::new(role).with_max_payload_len(u64::MAX >> 1);
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(&mut buf).unwrap() {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "trailing bytes {buf:x?}");
    frames
}
