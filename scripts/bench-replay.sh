#!/bin/sh
# bench-replay.sh: time and peak memory of `certsleuth replay` on a trace of
# at least 1,000,000 observations, in every format (issue 17: under 256 MiB).
#
#   scripts/bench-replay.sh [DIR]
#
# DIR (default /tmp/certsleuth-bench) holds huge.pcap (pcapgen -flows 400000
# -payload-bytes 512 -seed 4, made by scripts/bench-pcap.sh when missing:
# 2.9 GB). Its trace (certsleuth pcap --record) has about 500,000
# observations; million.trace.jsonl is that trace with its observations
# once more (connection IDs renamed, times a day later), about 1,000,000.
# FORMATS (default "json text md html") picks the formats; OLD=PATH adds
# the runs of an older binary, alternating. Each line ends with the load
# average (uptime). Figures are recorded in docs/analysis-memory.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/certsleuth-bench}
mkdir -p "$dir"
cd "$root"
go build -o "$dir/certsleuth" ./cmd/certsleuth
if [ ! -f "$dir/million.trace.jsonl" ]; then
	if [ ! -f "$dir/huge.pcap.trace.jsonl" ]; then
		[ -f "$dir/huge.pcap" ] || FILES=huge scripts/bench-pcap.sh "$dir"
		[ -f "$dir/huge.pcap.trace.jsonl" ] || "$dir/certsleuth" pcap --format json --record "$dir/huge.pcap.trace.jsonl" "$dir/huge.pcap" >/dev/null || true
	fi
	{
		cat "$dir/huge.pcap.trace.jsonl"
		grep '^{"type":"obs"' "$dir/huge.pcap.trace.jsonl" |
			sed -e 's/"conn":"/"conn":"again-/' -e 's/"time":"2026-03-02T/"time":"2026-03-03T/'
	} >"$dir/million.trace.jsonl"
fi
n=$(grep -c '^{"type":"obs"' "$dir/million.trace.jsonl")
echo "== million.trace.jsonl: $n observations, $(stat -c %s "$dir/million.trace.jsonl") bytes"
run() {
	label=$1
	shift
	load0=$(awk '{print $1}' /proc/loadavg)
	# The JSON report of a million observations is about 10 GB: counted, not kept.
	/usr/bin/time -f "%e %M %U %S" -o "$dir/time.txt" "$@" 2>"$dir/err.txt" | wc -c >"$dir/out.bytes" || true
	# replay exits 1 when a client warns, and time then writes a line
	# saying so before its figures: the figures are the last line.
	read -r secs kb usr sys <<-EOF
	$(tail -n 1 "$dir/time.txt")
	EOF
	load=$(awk '{print $1", "$2", "$3}' /proc/loadavg)
	printf '%-34s %8.2f s (cpu %.2f s) %6d MiB peak RSS  output %s bytes  load %s at the start, %s at the end\n' "$label" "$secs" "$(echo "$usr + $sys" | bc)" $((kb / 1024)) "$(cat "$dir/out.bytes")" "$load0" "$load"
}
for f in ${FORMATS:-json text md html}; do
	run "replay --format $f" "$dir/certsleuth" replay --format "$f" "$dir/million.trace.jsonl"
	[ -z "${OLD:-}" ] || run "old: replay --format $f" "$OLD" replay --format "$f" "$dir/million.trace.jsonl"
done
