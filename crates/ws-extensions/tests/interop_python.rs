//! Interop with the Python `websockets` package as a real peer, permessage-deflate
//! negotiated. Ignored in normal runs; `cargo xtask interop` installs websockets in a venv
//! and runs it with `WS_INTEROP_PYTHON` pointing at that venv's interpreter.
//!
//! The client here is the smallest blocking glue over `std::net::TcpStream`: ws-handshake
//! for the upgrade, ws-frame for frames, ws-extensions for compression.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::BytesMut;
use ws_extensions::{Extensions, Negotiated, PerMessageDeflate};
use ws_frame::{CloseCode, Decoder, Encoder, Frame, FrameHeader, OpCode, Role, RsvBits};
use ws_handshake::{ClientBuilder, ClientOutcome};

/// Every wait is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The most socket reads one exchange may take before the test gives up.
const MAX_READS: usize = 10_000;
const LIMIT: usize = 16 << 20;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The Python server; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(python: &str) -> Result<(Server, u16)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/echo_server.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(TIMEOUT)?;
    let port = line
        .trim()
        .parse()
        .map_err(|_| format!("server printed {line:?}"))?;
    Ok((server, port))
}

/// One side of a connection: socket, frame codec, negotiated extensions.
struct Client {
    stream: TcpStream,
    buf: BytesMut,
    decoder: Decoder,
    encoder: Encoder,
    extensions: Negotiated,
}

impl Client {
    fn connect(port: u16) -> Result<Client> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;

        let config = Extensions::new().with(PerMessageDeflate::new());
        let mut builder = ClientBuilder::new(format!("ws://127.0.0.1:{port}/").parse()?);
        for offer in config.client_offers() {
            builder = builder.extension(offer);
        }
        let handshake = builder.build()?;
        let mut request = Vec::new();
        handshake.encode(&mut request);
        stream.write_all(&request)?;

        let mut buf = BytesMut::new();
        for _ in 0..MAX_READS {
            read_some(&mut stream, &mut buf)?;
            if let Some((outcome, used)) = handshake.parse_response(&buf)? {
                let ClientOutcome::Accepted(accepted) = outcome else {
                    return Err("server rejected the upgrade".into());
                };
                let _ = buf.split_to(used);
                eprintln!("server answered: {:?}", accepted.extensions);
                let extensions = config.client_confirm(&accepted.extensions)?;
                let decoder = Decoder::new(Role::Client)
                    .with_allowed_rsv(extensions.rsv_bits())
                    .with_max_payload_len(LIMIT as u64);
                let mut key = 0u32;
                let encoder = Encoder::client(move || {
                    key = key.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    key.to_le_bytes()
                });
                return Ok(Client {
                    stream,
                    buf,
                    decoder,
                    encoder,
                    extensions,
                });
            }
        }
        Err("no handshake response".into())
    }

    fn write_frame(&mut self, header: FrameHeader, payload: &[u8]) -> Result {
        let mut wire = BytesMut::new();
        self.encoder.encode(header, payload, &mut wire);
        self.stream.write_all(&wire)?;
        Ok(())
    }

    /// Sends a data message in `pieces` fragments, with a ping after the first; returns
    /// the RSV bits of its first frame.
    fn send(&mut self, opcode: OpCode, message: &[u8], pieces: usize) -> Result<RsvBits> {
        let size = message.len().div_ceil(pieces).max(1);
        let chunks: Vec<&[u8]> = if message.is_empty() {
            vec![&[]]
        } else {
            message.chunks(size).collect()
        };
        let known = (chunks.len() == 1).then_some(message.len());
        let rsv = self.extensions.begin_outgoing(known, true);
        for (i, chunk) in chunks.iter().enumerate() {
            let fin = i + 1 == chunks.len();
            let mut payload = Vec::new();
            self.extensions.encode(chunk, fin, &mut payload)?;
            let mut header = FrameHeader::new(
                if i == 0 { opcode } else { OpCode::CONTINUATION },
                payload.len() as u64,
            );
            header.fin = fin;
            header.rsv = if i == 0 { rsv } else { RsvBits::NONE };
            self.write_frame(header, &payload)?;
            if i == 0 && !fin {
                // A control frame in the middle of a compressed message.
                self.write_frame(FrameHeader::new(OpCode::PING, 4), b"ping")?;
            }
        }
        Ok(rsv)
    }

    /// Sends a whole message encoded on its own (as a broadcast is), and tells the stack
    /// it was sent; returns its RSV bits.
    fn send_standalone(&mut self, opcode: OpCode, message: &[u8]) -> Result<RsvBits> {
        let mut payload = Vec::new();
        let rsv = self
            .extensions
            .encode_standalone(message, true, &mut payload)?;
        self.extensions.sent_standalone(rsv);
        let header = FrameHeader {
            rsv,
            ..FrameHeader::new(opcode, payload.len() as u64)
        };
        self.write_frame(header, &payload)?;
        Ok(rsv)
    }

    fn next_frame(&mut self) -> Result<Frame> {
        for _ in 0..MAX_READS {
            if let Some(frame) = self.decoder.decode(&mut self.buf)? {
                return Ok(frame);
            }
            read_some(&mut self.stream, &mut self.buf)?;
        }
        Err("too many reads for one frame".into())
    }

    /// Receives the next data message; returns its opcode, first-frame RSV bits, payload
    /// and how many pongs came before it was complete.
    fn receive(&mut self) -> Result<(OpCode, RsvBits, Vec<u8>, usize)> {
        let mut message: Option<(OpCode, RsvBits)> = None;
        let mut out = Vec::new();
        let mut pongs = 0;
        for _ in 0..MAX_READS {
            let frame = self.next_frame()?;
            let header = frame.header;
            match header.opcode {
                OpCode::PONG => pongs += 1,
                OpCode::PING | OpCode::CLOSE => return Err(format!("{header:?}").into()),
                OpCode::CONTINUATION if message.is_some() => {}
                opcode if message.is_none() && opcode.is_data() => {
                    self.extensions.begin_incoming(header.rsv)?;
                    message = Some((opcode, header.rsv));
                }
                _ => return Err(format!("unexpected {header:?}").into()),
            }
            if header.opcode.is_data() {
                self.extensions
                    .decode(&frame.payload, header.fin, &mut out, LIMIT)?;
                if header.fin {
                    let (opcode, rsv) = message.ok_or("no message")?;
                    return Ok((opcode, rsv, out, pongs));
                }
            }
        }
        Err("too many frames for one message".into())
    }

    fn close(&mut self) -> Result {
        let code = CloseCode::NORMAL.as_u16().to_be_bytes();
        self.write_frame(FrameHeader::new(OpCode::CLOSE, 2), &code)?;
        for _ in 0..MAX_READS {
            let frame = self.next_frame()?;
            if frame.header.opcode == OpCode::CLOSE {
                assert_eq!(
                    &frame.payload[..2],
                    &code,
                    "the server echoes our close code"
                );
                // The server closes TCP first (RFC 6455 §7.1.1): expect end of stream.
                let mut rest = [0; 1];
                assert_eq!(self.stream.read(&mut rest)?, 0);
                return Ok(());
            }
        }
        Err("no close frame".into())
    }
}

fn read_some(stream: &mut TcpStream, buf: &mut BytesMut) -> Result {
    let mut chunk = [0; 16 * 1024];
    let n = stream.read(&mut chunk)?;
    if n == 0 {
        return Err("connection closed".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

#[test]
#[ignore = "needs Python with websockets: run `cargo xtask interop`"]
fn echo_through_python_websockets_with_permessage_deflate() -> Result {
    let python = std::env::var("WS_INTEROP_PYTHON")
        .map_err(|_| "set WS_INTEROP_PYTHON to a Python interpreter with websockets installed")?;
    let (_server, port) = start_server(&python)?;
    let mut client = Client::connect(port)?;
    assert_eq!(
        client.extensions.rsv_bits(),
        RsvBits::RSV1,
        "deflate negotiated"
    );

    let big: Vec<u8> = (0..1_000_000u32)
        .flat_map(|i| format!("line {} of a large compressible message\n", i % 977).into_bytes())
        .take(3 << 20)
        .collect();
    let noise: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let messages: Vec<(OpCode, Vec<u8>, usize)> = vec![
        (OpCode::TEXT, b"Hello".to_vec(), 1),
        (OpCode::TEXT, "héllo wörld, ".repeat(40).into_bytes(), 1),
        (OpCode::BINARY, noise.clone(), 1),
        (OpCode::TEXT, Vec::new(), 1),
        (OpCode::BINARY, big.clone(), 1),
        (
            OpCode::TEXT,
            "fragmented text, ".repeat(500).into_bytes(),
            5,
        ),
        (OpCode::BINARY, big, 13),
        (OpCode::BINARY, noise, 3),
        (
            OpCode::TEXT,
            "again, again, again".repeat(10).into_bytes(),
            1,
        ),
    ];
    let (mut sent_rsv1, mut received_rsv1, mut pongs) = (0, 0, 0);
    for (opcode, message, pieces) in &messages {
        let rsv = client.send(*opcode, message, *pieces)?;
        sent_rsv1 += usize::from(rsv == RsvBits::RSV1);
        let (echo_opcode, echo_rsv, echo, seen_pongs) = client.receive()?;
        assert_eq!(echo_opcode, *opcode);
        assert_eq!(echo.len(), message.len());
        assert!(
            echo == *message,
            "echo differs for a {}-byte message",
            message.len()
        );
        received_rsv1 += usize::from(echo_rsv == RsvBits::RSV1);
        pongs += seen_pongs;
    }
    eprintln!(
        "{} messages: {sent_rsv1} sent compressed, {received_rsv1} echoed compressed, {pongs} pongs",
        messages.len()
    );
    // Everything of 32 bytes or more went out compressed (not "Hello" or the empty
    // message); websockets compresses every message.
    assert_eq!(sent_rsv1, messages.len() - 2);
    assert_eq!(received_rsv1, messages.len());
    assert_eq!(pongs, 3, "one pong per fragmented message");

    // A message compressed on its own (a prepared broadcast) amid context takeover, then
    // one that context takeover would have squeezed against an earlier message.
    let repeated = "again, again, again".repeat(10).into_bytes();
    let broadcast = "to everyone, to everyone at once".repeat(30).into_bytes();
    for (standalone, message) in [(true, &broadcast), (false, &repeated)] {
        let rsv = if standalone {
            client.send_standalone(OpCode::TEXT, message)?
        } else {
            client.send(OpCode::TEXT, message, 1)?
        };
        assert_eq!(rsv, RsvBits::RSV1);
        let (_, _, echo, _) = client.receive()?;
        assert!(&echo == message, "echo differs after a standalone message");
    }
    client.close()
}
