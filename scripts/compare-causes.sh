#!/bin/sh
# compare-causes.sh: issue 17's comparison on hs.pcap: the causes and
# counts of `certsleuth pcap --format json hs.pcap` against those of the
# report before the streaming pipeline (1e92c34), recorded in
# internal/causes/testdata/old/hs.pcap.causes.txt.gz.
#
#   scripts/compare-causes.sh [DIR]
#
# DIR (default /tmp/certsleuth-bench) holds hs.pcap, made with pcapgen
# (-flows 24000 -payload-bytes 2048 -seed 2) when missing. Prints the
# number of causes and requests and every difference; exits 1 when they
# differ. The result is in docs/analysis-memory.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/certsleuth-bench}
gen=${PCAPGEN:-$root/capture/testdata/pcapgen}
mkdir -p "$dir"
cd "$root"
go build -o "$dir/certsleuth" ./cmd/certsleuth
go build -o "$dir/causes" ./scripts/causes
if [ ! -f "$dir/hs.pcap" ]; then
	go build -C "$gen" -o "$dir/pcapgen" .
	"$dir/pcapgen" -flows 24000 -payload-bytes 2048 -seed 2 -o "$dir/hs.pcap"
fi
gzip -dc internal/causes/testdata/old/hs.pcap.causes.txt.gz >"$dir/hs.old.causes.txt"
"$dir/certsleuth" pcap --format json "$dir/hs.pcap" >"$dir/hs.new.json" || [ $? -le 1 ]
"$dir/causes" -compare "$dir/hs.old.causes.txt" "$dir/hs.new.json"
