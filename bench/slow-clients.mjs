// Slow clients against a running Spaces server: SLOW connections that each send the start of
// a request and then one header line a second, never finishing (reconnecting when the server
// closes them), while a normal client sends `{ __typename }` on a new connection every 200 ms
// and times each answer. No dependencies beyond Node.
//
//   node slow-clients.mjs [http://127.0.0.1:8080/graphql]
//   BENCH_SLOW=600 BENCH_SECS=30 BENCH_BASELINE_SECS=5 node slow-clients.mjs
//
// Prints the normal client's latency without and with the slow clients, how many slow
// connections were opened and how many the server closed, and any failed normal request.
import http from "node:http";
import net from "node:net";

const url = new URL(process.argv[2] ?? process.env.SPACES_GRAPHQL_URL ?? "http://127.0.0.1:8080/graphql");
const SLOW = Number(process.env.BENCH_SLOW ?? 600);
const SECS = Number(process.env.BENCH_SECS ?? 30);
const BASELINE_SECS = Number(process.env.BENCH_BASELINE_SECS ?? 5);
const port = Number(url.port || 80);
const body = JSON.stringify({ query: "{ __typename }" });

function normalRequest() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: url.hostname,
        port,
        path: url.pathname,
        method: "POST",
        agent: false, // a new connection each time, as a new visitor would open
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 60_000,
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolve({ ok: res.statusCode === 200 && text.includes("__typename"), ms, status: res.statusCode });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ ok: false, ms: Number(process.hrtime.bigint() - started) / 1e6, error: e.message }));
    req.end(body);
  });
}

async function normalLoad(secs) {
  const results = [];
  const until = Date.now() + secs * 1000;
  while (Date.now() < until) {
    results.push(await normalRequest());
    await new Promise((r) => setTimeout(r, 200));
  }
  return results;
}

function summary(name, results) {
  const ok = results.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor((p / 100) * ok.length))].toFixed(1) : "-");
  const failed = results.filter((r) => !r.ok);
  console.log(
    `${name}: ${results.length} requests, ${failed.length} failed; latency ms p50 ${pct(50)}, p90 ${pct(90)}, p99 ${pct(99)}, max ${ok.length ? ok[ok.length - 1].toFixed(1) : "-"}`,
  );
  for (const f of failed.slice(0, 5)) console.log(`  failed: ${JSON.stringify(f)}`);
  return { requests: results.length, failed: failed.length, p50: pct(50), p99: pct(99) };
}

const slow = { opened: 0, closedByServer: 0, open: 0, stopping: false };
const sockets = new Set();
function slowClient() {
  if (slow.stopping) return;
  const s = net.connect(port, url.hostname);
  slow.opened += 1;
  let timer;
  s.on("connect", () => {
    slow.open += 1;
    s.write(`POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n`);
    timer = setInterval(() => s.write("X-Slow: a\r\n"), 1000);
  });
  s.on("error", () => {});
  s.on("close", () => {
    clearInterval(timer);
    sockets.delete(s);
    if (slow.stopping) return;
    slow.open -= 1;
    slow.closedByServer += 1;
    setTimeout(slowClient, 100); // come back, as an attacker would
  });
  sockets.add(s);
}

console.log(`server ${url.href}; ${SLOW} slow clients; ${SECS} s with them, ${BASELINE_SECS} s without`);
const baseline = summary("without slow clients", await normalLoad(BASELINE_SECS));
for (let i = 0; i < SLOW; i++) {
  slowClient();
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 1000));
console.log(`slow connections open after 1 s: ${slow.open}`);
const under = summary(`with ${SLOW} slow clients`, await normalLoad(SECS));
slow.stopping = true;
console.log(`slow connections opened ${slow.opened}, closed by the server ${slow.closedByServer}, still open ${slow.open}`);
for (const s of sockets) s.destroy();
console.log(JSON.stringify({ slow: SLOW, secs: SECS, baseline, under, slowOpened: slow.opened, slowClosedByServer: slow.closedByServer }));
process.exit(under.failed === 0 ? 0 : 1);
