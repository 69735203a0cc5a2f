"""Drives headless Chromium over the DevTools protocol: the browser's own WebSocket
client talks to the echo server at argv[2]; the checks run in the page and the results
are checked here. Usage: echo_test.py CHROMIUM WS_URL [PAGE_URL]

With PAGE_URL (an https:// page of the same server) the browser loads that page first,
over HTTP/2, and opens the WebSocket from it: Chromium then runs the WebSocket on a stream
of that HTTP/2 connection (RFC 8441), which the handshake's status shows (200, not 101).
The certificate is not checked (--ignore-certificate-errors): the test's is self-signed."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

# Runs in the page: returns a JSON summary of what the browser saw.
PAGE_SCRIPT = r"""
(async (url) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const inbox = [];
  let wake = null;
  ws.onmessage = (e) => { inbox.push(e.data); if (wake) { wake(); wake = null; } };
  const closed = new Promise((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, clean: e.wasClean });
  });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("the connection failed"));
  });
  const next = async () => {
    while (inbox.length === 0) { await new Promise((r) => (wake = r)); }
    return inbox.shift();
  };
  const bytes = (n, seed) => {
    const b = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
    return b;
  };
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  const checks = {};

  ws.send("hello");
  checks.text = (await next()) === "hello";

  const unicode = "κόσμε · 世界 · 🎉".repeat(100);
  ws.send(unicode);
  checks.unicode = (await next()) === unicode;

  const random = bytes(100 * 1024, 7);
  ws.send(random);
  checks.binary_100k = same(new Uint8Array(await next()), random);

  const json = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ id: i, name: "item" })));
  ws.send(json);
  checks.compressible_text = (await next()) === json;

  for (let i = 0; i < 200; i++) ws.send("message " + i);
  let ordered = true;
  for (let i = 0; i < 200; i++) ordered = ordered && (await next()) === "message " + i;
  checks.pipelined_in_order = ordered;

  ws.send(new Uint8Array(0));
  checks.empty_binary = new Uint8Array(await next()).length === 0;

  ws.close(1000, "done");
  const close = await closed;
  return JSON.stringify({ extensions: ws.extensions, checks, close });
})
"""


def start_browser(chromium, profile):
    args = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--ignore-certificate-errors", f"--user-data-dir={profile}",
        "--remote-debugging-port=0", "about:blank",
    ]
    browser = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                lines = f.read().split()
            if lines:
                return browser, int(lines[0])
        if browser.poll() is not None:
            raise SystemExit(f"chromium exited with {browser.returncode}")
        time.sleep(0.1)
    browser.kill()
    raise SystemExit("chromium did not open its DevTools port within 30 s")


def page_target(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        targets = json.load(r)
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        raise SystemExit(f"no page target among {targets}")
    return pages[0]["webSocketDebuggerUrl"]


async def evaluate(debugger_url, expression, page_url):
    """Runs `expression` in the page (after loading `page_url`, if given); returns its
    reply and the status codes of the WebSocket handshakes the page made."""
    async with websockets.connect(debugger_url, max_size=None) as cdp:
        handshakes = []
        calls = 0

        async def call(method, params):
            nonlocal calls
            calls += 1
            await cdp.send(json.dumps({"id": calls, "method": method, "params": params}))
            while True:
                message = json.loads(await asyncio.wait_for(cdp.recv(), timeout=60))
                if message.get("method") == "Network.webSocketHandshakeResponseReceived":
                    handshakes.append(message["params"]["response"]["status"])
                if message.get("id") == calls:
                    return message

        await call("Network.enable", {})
        if page_url:
            await call("Page.enable", {})
            await call("Page.navigate", {"url": page_url})
            # Loaded once its text is there.
            for _ in range(100):
                reply = await call("Runtime.evaluate", {
                    "expression": "document.body ? document.body.innerText : ''",
                    "returnByValue": True,
                })
                if "WebSocket" in reply.get("result", {}).get("result", {}).get("value", ""):
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"the page {page_url} did not load")
        reply = await call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
        })
        return reply, handshakes


def main():
    chromium, url = sys.argv[1], sys.argv[2]
    page_url = sys.argv[3] if len(sys.argv) > 3 else None
    profile = tempfile.mkdtemp(prefix="ws-browser-")
    browser = None
    try:
        browser, port = start_browser(chromium, profile)
        version = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=10))
        print(f"browser: {version.get('Browser')}")
        expression = f"({PAGE_SCRIPT})({json.dumps(url)})"
        reply, handshakes = asyncio.run(evaluate(page_target(port), expression, page_url))
        result = reply.get("result", {})
        if "exceptionDetails" in result:
            raise SystemExit(f"the page script failed: {result['exceptionDetails']}")
        summary = json.loads(result["result"]["value"])
        print(json.dumps(summary, indent=2))
        failures = [name for name, ok in summary["checks"].items() if not ok]
        if "permessage-deflate" not in summary["extensions"]:
            failures.append(f"permessage-deflate not negotiated ({summary['extensions']!r})")
        close = summary["close"]
        if close["code"] != 1000 or not close["clean"]:
            failures.append(f"close: {close}")
        # 101: an HTTP/1.1 upgrade; 200: an extended CONNECT on an HTTP/2 stream.
        expected = 200 if page_url else 101
        print(f"handshake status: {handshakes}")
        if handshakes != [expected]:
            failures.append(f"handshake status {handshakes}, expected [{expected}]")
        if failures:
            raise SystemExit("browser interop failed: " + ", ".join(failures))
        print("browser interop: ok")
    finally:
        if browser is not None:
            browser.kill()
            browser.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
