#!/bin/sh
# compare-tshark.sh: compare certsleuth with tshark on capture files, per
# TLS flow: SNI, the TLS version the server chose, the server's leaf
# certificate (by its SHA-256) and whether it is visible. Prints every
# disagreement, a per-file line and the total agreement; and, for each
# file, the "never fine without looking" audit of issue 14 (BREACH,
# UNSEEN, UNCOUNTED lines and an AUDIT total: see scripts/audit-unjudged.sh,
# which runs the audit alone).
#
#   scripts/compare-tshark.sh [-audit] FILE...      (-audit: the audit alone)
#   scripts/compare-tshark.sh /tmp/pubcaps/dev/*      # e.g. Zeek's and JA4's test captures
#
# Needs Go and tshark (Debian: apt-get install tshark). tshark runs with
# -o tcp.reassemble_out_of_order:TRUE and no keys. The comparison itself is
# scripts/comparetshark (go run); docs/capture.md, "Compared with tshark",
# explains the disagreements left on public captures.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
command -v tshark >/dev/null || { echo "compare-tshark.sh: tshark is not installed (apt-get install tshark)" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: scripts/compare-tshark.sh FILE..." >&2; exit 2; }
bin=$(mktemp -d /tmp/compare-tshark.XXXXXX)
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/certsleuth" ./cmd/certsleuth && go build -o "$bin/comparetshark" ./scripts/comparetshark)
"$bin/comparetshark" -certsleuth "$bin/certsleuth" "$@"
