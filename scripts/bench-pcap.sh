#!/bin/sh
# bench-pcap.sh: measure certsleuth's capture reader against tshark on the
# same synthetic captures, in the same run, and check every flow against
# the generator's ground truth.
#
#   scripts/bench-pcap.sh [DIR]
#
# DIR (default /tmp/certsleuth-bench) receives the captures, made by
# pcapgen (capture/testdata/pcapgen) when missing and reused when present:
#   big   1 GiB, 4,000 flows, application-data heavy
#   hs    204 MiB, 24,000 TLS handshakes
#   many  730 MB, 100,000 connections
#   huge  2.9 GB, 400,000 connections (only when named in FILES)
# FILES picks them (default "big hs many"); a name may carry a format:
# hs.pcapng (pcapgen -format pcapng), hs.pcap.gz (gzip -1 of hs.pcap),
# e.g. FILES="hs hs.pcapng hs.pcap.gz huge". Needs Go, GNU time
# (/usr/bin/time -v) and tshark. Prints, per file: throughput and peak
# RSS of the capture reader alone (the Go benchmark binary), of the whole
# `certsleuth pcap --format json` command (reading, analysis, report; with
# --record too), and of tshark, and the ratios. FORMATS (e.g. "text md
# html") adds a run of the whole command per format. OLD=PATH (a
# certsleuth binary built from an older commit) adds its json run,
# alternating with the new one: an A/B comparison in one run. Each line
# ends with the load average (uptime) when it finished. Figures are
# recorded in docs/bench-pcap.md and docs/analysis-memory.md. The machine
# should be otherwise idle: the figures are wall-clock times. For a .gz
# file the MB/s are of the compressed file.
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
# gen BASE EXT: make $dir/BASE.EXT, pcapgen file BASE in the format EXT, unless it exists.
gen() {
	local gbase=$1 gext=$2 gout=$dir/$1.$2
	[ -f "$gout" ] && return 0
	case $gbase in
	big) args="-flows 4000 -payload-bytes 240000 -seed 1" ;;
	hs) args="-flows 24000 -payload-bytes 2048 -seed 2" ;;
	many) args="-flows 100000 -payload-bytes 512 -seed 3" ;;
	huge) args="-flows 400000 -payload-bytes 512 -seed 4" ;;
	*) echo "bench-pcap.sh: unknown capture $gbase (big, hs, many, huge)" >&2; exit 2 ;;
	esac
	case $gext in
	pcap | pcapng) "$dir/pcapgen" $args -format "$gext" -o "$gout" ;;
	*.gz)
		gen "$gbase" "${gext%.gz}"
		gzip -1 -c "$dir/$gbase.${gext%.gz}" >"$gout"
		cp "$dir/$gbase.${gext%.gz}.truth.jsonl" "$gout.truth.jsonl"
		;;
	*) echo "bench-pcap.sh: unknown format $gext (pcap, pcapng, pcap.gz, pcapng.gz)" >&2; exit 2 ;;
	esac
}

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
	load=$(awk '{print $1", "$2", "$3}' /proc/loadavg)
	printf '%-30s %8.2f s %8s MB/s %6s MiB peak RSS  CPU %5s  load %s\n' "$label" "$secs" "$mbs" "$rss" "$cpu" "$load"
	last_secs=$secs
}

for f in ${FILES:-big hs many}; do
	case $f in
	*.*) base=${f%%.*} ext=${f#*.} ;;
	*) base=$f ext=pcap ;;
	esac
	gen "$base" "$ext"
	f=$base.$ext
	file=$dir/$f
	size=$(stat -c %s "$file")
	echo
	echo "== $f ($size bytes)"
	cat "$file" >/dev/null # page cache: every tool reads from memory
	# BenchmarkStream reads under capture.LimitMemory, as certsleuth pcap
	# does, and hands each observation over without keeping it.
	timed "capture reader (Go)" "$size" env CERTSLEUTH_BENCH_PCAP="$file" "$dir/capture.test" -test.run '^$' -test.bench "BenchmarkStream/$f" -test.benchtime 1x
	reader=$last_secs
	grep -h "BenchmarkStream/$f" "$dir/out.txt" || true
	timed "certsleuth pcap --format json" "$size" "$dir/certsleuth" pcap --format json "$file"
	cli=$last_secs
	if [ -n "${OLD:-}" ]; then
		timed "old: pcap --format json" "$size" "$OLD" pcap --format json "$file"
		old=$last_secs
		timed "certsleuth pcap --format json" "$size" "$dir/certsleuth" pcap --format json "$file"
		cli2=$last_secs
	fi
	for fmt in ${FORMATS:-}; do
		timed "certsleuth pcap --format $fmt" "$size" "$dir/certsleuth" pcap --format "$fmt" "$file"
		[ -z "${OLD:-}" ] || timed "old: pcap --format $fmt" "$size" "$OLD" pcap --format "$fmt" "$file"
	done
	timed "certsleuth pcap --record" "$size" "$dir/certsleuth" pcap --format json --record "$dir/$f.trace.jsonl" "$file"
	timed "tshark (SNI + cert names)" "$size" tshark -r "$file" -n -o tcp.reassemble_out_of_order:TRUE \
		-Y 'tls.handshake.type == 1 || tls.handshake.type == 11' \
		-T fields -e tcp.stream -e tls.handshake.extensions_server_name -e x509ce.dNSName
	tshark=$last_secs
	awk -v r="$reader" -v c="$cli" -v t="$tshark" 'BEGIN {
		printf "ratio: capture reader %.1fx faster than tshark; whole certsleuth pcap --format json %.1fx\n", t/r, t/c }'
	echo "ground truth:"
	CERTSLEUTH_TRUTH_PCAP="$file" "$dir/capture.test" -test.run '^TestGroundTruthFile$' -test.v 2>&1 | grep -E 'checked|FAIL|ok|PASS|---' | head -20
done
