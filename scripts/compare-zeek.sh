#!/bin/sh
# compare-zeek.sh: compare certsleuth with Zeek's own logs of Zeek's TLS
# test traces, per TLS connection: SNI, version, the server's leaf
# certificate (SHA-256) and its subject CN and DNS names. Zeek need not
# be installed: the expected values are the ssl.log and x509.log baselines
# of Zeek's test suite (testing/btest/Baseline/).
#
#   scripts/compare-zeek.sh ZEEK_GIT_DIR TRACES_DIR
#   scripts/compare-zeek.sh /work/.mirror/zeek+zeek/repo /tmp/pubcaps/dev
#
# ZEEK_GIT_DIR: a clone of https://github.com/zeek/zeek (bare is fine);
# TRACES_DIR holds its testing/btest/Traces/tls/ files, named as there or
# with zeek- before the name. Needs Go and git. The comparison itself is
# scripts/comparezeek (go run); docs/capture.md, "Compared with Zeek",
# gives the result.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: scripts/compare-zeek.sh ZEEK_GIT_DIR TRACES_DIR" >&2; exit 2; }
bin=$(mktemp -d /tmp/compare-zeek.XXXXXX)
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/certsleuth" ./cmd/certsleuth && go build -o "$bin/comparezeek" ./scripts/comparezeek)
"$bin/comparezeek" -zeek "$1" -certsleuth "$bin/certsleuth" "$2"
