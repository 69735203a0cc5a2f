//! What permessage-deflate keeps per connection between messages, counted by a global
//! allocator (one test in this binary, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use ws_extensions::{DeflateParams, Extensions, Negotiated, PerMessageDeflate};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 40;

/// Bytes still allocated by `CONNECTIONS` server connections negotiated with `params`,
/// after each compressed one message and inflated one.
fn held_by_connections(params: DeflateParams) -> isize {
    let config = Extensions::new().with(PerMessageDeflate::with_params(params).min_size(0));
    let message = b"a message to compress and to inflate, a message".repeat(20);
    let before = LIVE.load(Ordering::Relaxed);
    let mut connections: Vec<Negotiated> = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut server = config.server_accept(&config.client_offers());
        let answer: Vec<String> = server.agreed().map(str::to_owned).collect();
        let mut client = config.client_confirm(&answer).unwrap();
        let mut wire = Vec::new();
        let rsv = client.encode_message(&message, true, &mut wire).unwrap();
        let mut out = Vec::new();
        server
            .decode_message(rsv, &wire, &mut out, usize::MAX)
            .unwrap();
        wire.clear();
        server.encode_message(&message, true, &mut wire).unwrap();
        drop(client);
        connections.push(server);
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    drop(connections);
    held
}

#[test]
fn without_context_takeover_an_idle_connection_holds_no_deflate_state() {
    // Warm the shared pools, so that what they keep is not counted below.
    let no_takeover = DeflateParams {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    held_by_connections(no_takeover);
    let shared = held_by_connections(no_takeover);
    let own = held_by_connections(DeflateParams::default());
    // With context takeover each keeps a compressor (0.34 MiB or more) and a
    // decompressor (46 KiB).
    assert!(own > CONNECTIONS as isize * 300_000, "{own} bytes");
    // Without it, each keeps only its negotiated stack.
    assert!(shared < CONNECTIONS as isize * 2_000, "{shared} bytes");

    // Many messages compressed at once take as many compressors; the pool keeps 16 of
    // them once they are done, not all.
    let compressors_at_once = 24;
    let kept = kept_by_pool(no_takeover, compressors_at_once);
    let one = compressor_size();
    assert!(
        kept <= 16 * one + 4096,
        "{kept} bytes, {one} per compressor"
    );
    assert!(kept >= 8 * one, "{kept} bytes, {one} per compressor");
}

/// The bytes one compressor holds, made as the codec makes it (default level, 15 bits).
fn compressor_size() -> isize {
    let before = LIVE.load(Ordering::Relaxed);
    let compressor = flate2::Compress::new_with_window_bits(
        flate2::Compression::new(PerMessageDeflate::DEFAULT_LEVEL),
        false,
        15,
    );
    let size = LIVE.load(Ordering::Relaxed) - before;
    drop(compressor);
    size
}

/// Bytes the shared pool keeps after `count` connections compressed a streamed message at
/// the same time and finished it.
fn kept_by_pool(params: DeflateParams, count: usize) -> isize {
    let config = Extensions::new().with(PerMessageDeflate::with_params(params).min_size(0));
    let before = LIVE.load(Ordering::Relaxed);
    let mut connections: Vec<Negotiated> = (0..count)
        .map(|_| config.server_accept(&config.client_offers()))
        .collect();
    let mut wire = Vec::new();
    for server in &mut connections {
        let _ = server.begin_outgoing(None, true);
        server
            .encode(b"the first part, ", false, &mut wire)
            .unwrap();
    }
    for server in &mut connections {
        server.encode(b"and the last", true, &mut wire).unwrap();
    }
    drop(connections);
    drop(wire);
    LIVE.load(Ordering::Relaxed) - before
}
