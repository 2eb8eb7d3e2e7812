// Runs the GraphQL-over-HTTP server audit of the npm package graphql-http against a running
// Spaces server and prints every audit with its result. Exits non-zero on any MUST failure.
//
//   cd bench && npm install && node graphql-http-audit.mjs [http://127.0.0.1:8080/graphql]
//
// The audit's requests carry no X-Tenant and a bare-address Host, so they address the platform:
// `{ __typename }` and the like need no space.
import { auditServer } from "graphql-http";

const url = process.argv[2] ?? process.env.SPACES_GRAPHQL_URL ?? "http://127.0.0.1:8080/graphql";
const results = await auditServer({ url });
// graphql-http grades a failed MUST "error", a failed SHOULD "warn", a failed MAY "notice".
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  counts[r.status] += 1;
  const mark = { ok: "ok    ", notice: "notice", warn: "WARN  ", error: "ERROR " }[r.status];
  console.log(`${mark} ${r.name}${r.status === "ok" ? "" : `\n      ${r.reason}`}`);
}
const mustFailures = results.filter((r) => r.status === "error");
console.log(
  `\n${results.length} audits: ${counts.ok} ok, ${counts.notice} MAY not done, ${counts.warn} SHOULD not done, ${counts.error} MUST failed`,
);
process.exit(mustFailures.length === 0 ? 0 : 1);
