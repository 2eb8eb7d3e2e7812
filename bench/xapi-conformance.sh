#!/usr/bin/env bash
# ADL's LRS conformance suite for xAPI 1.0.3 against a fresh Spaces server on the embedded
# database. Not part of CI: a clean machine cannot fetch the suite.
#
#   bench/xapi-conformance.sh SUITE_DIR
#
# SUITE_DIR is a copy of https://github.com/adlnet/lrs-conformance-test-suite with its npm
# dependencies installed (Node 18 or later). The script builds and starts `spaces serve --demo`
# in a temporary data directory, takes the LRS credential the demo prints (it reads only what it
# stored, so the demo's own statements do not enter the suite's reads), and runs
#
#   node bin/console_runner.js -e http://ocapiat.<domain>:<port>/xapi -a -u KEY -p SECRET -x 1.0.3
#
# Spaces finds a space by its host, and `<slug>.localhost` does not resolve through glibc, so
# Node is started with a small resolver (`--require`) that answers 127.0.0.1 for the
# script's own domain: no hosts entry, no root needed. Prints the suite's summary and exits 0
# only when nothing failed.
set -euo pipefail

SUITE_DIR=${1:?usage: bench/xapi-conformance.sh SUITE_DIR}
SUITE_DIR=$(cd "$SUITE_DIR" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18473}
DOMAIN=spaces-conformance.test

command -v node >/dev/null || { echo "node is needed (Debian: apt-get install nodejs npm)" >&2; exit 2; }
[ -f "$SUITE_DIR/bin/console_runner.js" ] || { echo "$SUITE_DIR is not the lrs-conformance-test-suite" >&2; exit 2; }
[ -d "$SUITE_DIR/node_modules" ] || { echo "$SUITE_DIR has no node_modules: install its npm dependencies first" >&2; exit 2; }

(cd "$ROOT" && cargo build --quiet -p spaces-gateway --bin spaces)
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/spaces

WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

SPACES_DATA_DIR="$WORK/data" SPACES_ADDR="127.0.0.1:$PORT" SPACES_BASE_DOMAIN="$DOMAIN" \
  "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 60); do
  grep -q '"listening"' "$WORK/server.log" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 1
done
LINE=$(grep -m1 'an LRS credential' "$WORK/server.log") || { echo "the demo printed no LRS credential" >&2; exit 1; }
KEY=$(sed -E 's/.* key (lrs-[0-9a-f]+) secret ([A-Za-z0-9_-]+).*/\1/' <<<"$LINE")
SECRET=$(sed -E 's/.* key (lrs-[0-9a-f]+) secret ([A-Za-z0-9_-]+).*/\2/' <<<"$LINE")

cat >"$WORK/resolve.js" <<JS
// Answers 127.0.0.1 for *.$DOMAIN; every other name resolves as usual.
const dns = require('dns');
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof host === 'string' && host.endsWith('.$DOMAIN')) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return lookup.call(dns, host, options, callback);
};
JS

echo "running ADL's suite against http://ocapiat.$DOMAIN:$PORT/xapi" >&2
set +e
(cd "$SUITE_DIR" && NODE_OPTIONS="--require $WORK/resolve.js" \
  node bin/console_runner.js -e "http://ocapiat.$DOMAIN:$PORT/xapi" -a -u "$KEY" -p "$SECRET" -x 1.0.3 -z) \
  >"$WORK/suite.out" 2>&1
set -e
SUMMARY=$(grep '"total"' "$WORK/suite.out" | tail -1)
[ -n "$SUMMARY" ] || { tail -40 "$WORK/suite.out" >&2; exit 1; }
echo "$SUMMARY"
grep -q '"failed":0,' <<<"$SUMMARY"
