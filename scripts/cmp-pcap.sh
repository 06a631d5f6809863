#!/bin/sh
# cmp-pcap.sh: check that two certsleuth binaries give the same output,
# byte for byte, on every capture in the repository's testdata (and on
# any more captures named), as a change that must not alter behaviour
# (a new capture reader, decoder or parser) has to prove.
#
#   scripts/cmp-pcap.sh OLD NEW [CAPTURE...]
#
# OLD and NEW are certsleuth binaries (e.g. built from main and from the
# change). For each capture it runs `pcap --format F` for each format in
# FORMATS (default "json"), with --keylog FILE.keylog when such a file
# lies beside the capture, and compares standard output, standard error
# and the exit status. Prints one line per difference and a summary;
# exits 1 when anything differs. Outputs go to a temporary directory,
# removed at the end.
set -u
[ $# -ge 2 ] || { echo "usage: $0 OLD NEW [CAPTURE...]" >&2; exit 2; }
old=$1 new=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
list=$tmp/list
find "$root" -path "$root/.git" -prune -o -path '*/testdata/*' -type f \
	\( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' -o -name '*.cap' \) -print | sort >"$list"
for c in "$@"; do echo "$c" >>"$list"; done
n=0 bad=0
while read -r c; do
	for f in ${FORMATS:-json}; do
		set -- pcap --format "$f"
		[ -f "$c.keylog" ] && set -- "$@" --keylog "$c.keylog"
		"$old" "$@" "$c" >"$tmp/a.out" 2>"$tmp/a.err"; ra=$?
		"$new" "$@" "$c" >"$tmp/b.out" 2>"$tmp/b.err"; rb=$?
		n=$((n + 1))
		if [ $ra != $rb ] || ! cmp -s "$tmp/a.out" "$tmp/b.out" || ! cmp -s "$tmp/a.err" "$tmp/b.err"; then
			bad=$((bad + 1))
			echo "DIFFERS: $c ($f): exit $ra vs $rb"
			cmp "$tmp/a.out" "$tmp/b.out" | head -1
			diff "$tmp/a.err" "$tmp/b.err" | head -5
		fi
	done
done <"$list"
echo "$n runs, $bad differ"
[ $bad = 0 ]
