#!/bin/sh
# bench-whole.sh: the whole `certsleuth pcap --format json` command against
# tshark on one capture, in rounds, as issue 17's target is stated: "at
# least 25x faster than tshark in the same run, peak RSS under 64 MiB".
#
#   ROUNDS=3 scripts/bench-whole.sh CAPTURE BINARY...
#
# Each round runs every BINARY (certsleuth builds with distinct file
# names, which label the runs: this commit built with CGO_ENABLED=0 as
# the README installs it, an older commit, ...) RUNS times (default 3),
# then tshark once, asked for what certsleuth reports of a handshake
# (the SNI and the certificate's names) with
# `-o tcp.reassemble_out_of_order:TRUE`. Rounds alternate, so a machine
# that gets busier slows every binary alike. Prints one line per run
# (wall seconds, user+sys CPU seconds, peak RSS in MiB, the load average
# before it), and per round each binary's best wall time against that
# round's tshark: the ratio of the target. Needs GNU time and tshark. The
# machine should be otherwise idle: the figures are wall-clock times.
set -eu
[ $# -ge 2 ] || { echo "usage: ROUNDS=N RUNS=N $0 CAPTURE BINARY..." >&2; exit 2; }
cap=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
one() { # label, command...: prints "label wall cpu MiB load"
	label=$1
	shift
	load=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" || true
	tail -1 "$tmp/t" | awk -v l="$label" -v load="$load" '{printf "%-12s %6.2f s %6.2f CPU-s %6.1f MiB  load %s\n", l, $1, $2+$3, $4/1024, load}'
}
r=1
while [ "$r" -le "${ROUNDS:-3}" ]; do
	echo "== round $r"
	: >"$tmp/round"
	for b in "$@"; do
		i=1
		while [ "$i" -le "${RUNS:-3}" ]; do
			one "$(basename "$b")" "$b" pcap --format json "$cap" | tee -a "$tmp/round"
			i=$((i + 1))
		done
	done
	one tshark tshark -r "$cap" -n -o tcp.reassemble_out_of_order:TRUE \
		-Y 'tls.handshake.type == 1 || tls.handshake.type == 11' \
		-T fields -e tcp.stream -e tls.handshake.extensions_server_name -e x509ce.dNSName | tee -a "$tmp/round"
	awk '$1 == "tshark" { t = $2 } $1 != "tshark" && (!($1 in best) || $2 < best[$1]) { best[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		END { for (i = 1; i <= n; i++) printf "   %s: tshark %.2f s / best %.2f s = %.1fx\n", order[i], t, best[order[i]], t / best[order[i]] }' "$tmp/round"
	r=$((r + 1))
done
