#!/bin/sh
# bench-pcap.sh: measure certsleuth's capture reader against tshark on the
# same synthetic captures, in the same run, and check every flow against
# the generator's ground truth.
#
#   scripts/bench-pcap.sh [DIR]
#
# DIR (default /tmp/certsleuth-bench) receives big.pcap (1 GiB, 4,000 flows,
# application-data heavy), hs.pcap (204 MiB, 24,000 TLS handshakes) and
# many.pcap (730 MB, 100,000 connections) made by pcapgen
# (capture/testdata/pcapgen); they are reused when present. FILES="big hs"
# limits the run to some of them. Needs Go, GNU
# time (/usr/bin/time -v) and tshark. Prints, per file: throughput and peak
# RSS of the capture reader alone (the Go benchmark binary), of the whole
# `certsleuth pcap` command (reading, analysis, report), and of tshark, and
# the ratio. Figures are recorded in docs/bench-pcap.md. The machine should
# be otherwise idle: the figures are wall-clock times.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/certsleuth-bench}
gen=${PCAPGEN:-$root/capture/testdata/pcapgen}
mkdir -p "$dir"
cd "$root"

echo "== building"
go build -o "$dir/certsleuth" ./cmd/certsleuth
go test -c -o "$dir/capture.test" ./capture
go build -C "$gen" -o "$dir/pcapgen" .
[ -f "$dir/big.pcap" ] || "$dir/pcapgen" -flows 4000 -payload-bytes 240000 -seed 1 -o "$dir/big.pcap"
[ -f "$dir/hs.pcap" ] || "$dir/pcapgen" -flows 24000 -payload-bytes 2048 -seed 2 -o "$dir/hs.pcap"
case " ${FILES:-big hs many} " in *" many "*)
	[ -f "$dir/many.pcap" ] || "$dir/pcapgen" -flows 100000 -payload-bytes 512 -seed 3 -o "$dir/many.pcap" ;;
esac

# timed LABEL SIZE CMD...: run CMD under GNU time, print wall time, MB/s, peak RSS.
timed() {
	label=$1 size=$2
	shift 2
	/usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/out.txt" 2>"$dir/err.txt" || true
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
	secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$dir/time.txt")
	cpu=$(awk -F': ' '/Percent of CPU/ {print $2}' "$dir/time.txt")
	mbs=$(awk -v s="$size" -v t="$secs" 'BEGIN { if (t > 0) printf "%.0f", s/1e6/t; else print "inf" }')
	printf '%-26s %8.2f s %8s MB/s %6s MiB peak RSS  CPU %s\n' "$label" "$secs" "$mbs" "$rss" "$cpu"
	last_secs=$secs
}

for f in ${FILES:-big hs many}; do
	file=$dir/$f.pcap
	size=$(stat -c %s "$file")
	echo
	echo "== $f.pcap ($size bytes)"
	cat "$file" >/dev/null # page cache: every tool reads from memory
	# BenchmarkStream reads under capture.LimitMemory, as certsleuth pcap
	# does, and hands each observation over without keeping it.
	timed "capture reader (Go)" "$size" env CERTSLEUTH_BENCH_PCAP="$file" "$dir/capture.test" -test.run '^$' -test.bench "BenchmarkStream/$f.pcap" -test.benchtime 1x
	reader=$last_secs
	grep -h "BenchmarkStream/$f" "$dir/out.txt" || true
	timed "certsleuth pcap --record" "$size" "$dir/certsleuth" pcap --format json --record "$dir/$f.trace.jsonl" "$file"
	cli=$last_secs
	timed "tshark (SNI + cert names)" "$size" tshark -r "$file" -n -o tcp.reassemble_out_of_order:TRUE \
		-Y 'tls.handshake.type == 1 || tls.handshake.type == 11' \
		-T fields -e tcp.stream -e tls.handshake.extensions_server_name -e x509ce.dNSName
	tshark=$last_secs
	awk -v r="$reader" -v c="$cli" -v t="$tshark" 'BEGIN {
		printf "ratio: capture reader %.1fx faster than tshark; whole certsleuth pcap command %.1fx\n", t/r, t/c }'
	echo "ground truth:"
	CERTSLEUTH_TRUTH_PCAP="$file" "$dir/capture.test" -test.run '^TestGroundTruthFile$' -test.v 2>&1 | grep -E 'checked|FAIL|ok|PASS|---' | head -20
done
