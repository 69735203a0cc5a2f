// Node's `ws` package (the most used WebSocket library in JavaScript) as a peer for
// `ws serve` and `ws connect`, with the same interface as peer.py:
//
//     node peer.cjs server        echo server on 127.0.0.1, an ephemeral port printed on one
//                                 line; exits when stdin closes, so it cannot outlive the test
//     node peer.cjs client URL    sends text (short, long and compressible) and binary
//                                 messages, checks each echo and that permessage-deflate was
//                                 negotiated, prints "ok" and the negotiated extension
//
// `ws` is found through NODE_PATH (cargo xtask interop installs it). permessage-deflate is
// turned on for the server (its default is off) and left on for the client (on by
// default); `ws` compresses messages of 1 KiB and more.

"use strict";

const { WebSocket, WebSocketServer } = require("ws");

const MAX_SIZE = 16 * 1024 * 1024;
const TIMEOUT_MS = 20000;

function fail(why) {
  console.error(why);
  process.exit(1);
}

function server() {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: true,
    maxPayload: MAX_SIZE,
  });
  wss.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  wss.on("listening", () => console.log(wss.address().port));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

function client(url) {
  const timer = setTimeout(() => fail("timed out"), TIMEOUT_MS);
  const socket = new WebSocket(url, { maxPayload: MAX_SIZE });
  const messages = [
    "hello",
    "",
    '{"id":1,"user":"alpha","tags":["x","y"]},'.repeat(4000),
    Buffer.from(Array.from({ length: 256 * 512 }, (_, i) => i % 256)),
    "last",
  ];
  let next = 0;
  socket.on("open", () => {
    if (!socket.extensions.includes("permessage-deflate")) {
      fail(`permessage-deflate not negotiated: ${JSON.stringify(socket.extensions)}`);
    }
    socket.send(messages[next]);
  });
  socket.on("message", (data, isBinary) => {
    const sent = messages[next];
    const same =
      typeof sent === "string"
        ? !isBinary && data.toString("utf8") === sent
        : isBinary && Buffer.compare(data, sent) === 0;
    if (!same) {
      fail(`echo of a ${sent.length}-long message differs`);
    }
    next += 1;
    if (next < messages.length) {
      socket.send(messages[next]);
    } else {
      socket.close(1000, "done");
    }
  });
  socket.on("close", (code) => {
    clearTimeout(timer);
    if (next < messages.length || code !== 1000) {
      fail(`closed with ${code} after ${next} echoes`);
    }
    console.log("ok", socket.extensions);
  });
  socket.on("error", (error) => fail(`error: ${error.message}`));
}

const [mode, url] = process.argv.slice(2);
if (mode === "server") {
  server();
} else if (mode === "client" && url) {
  client(url);
} else {
  fail("usage: node peer.cjs server | node peer.cjs client URL");
}
