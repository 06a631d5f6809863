#!/bin/sh
# bench-proxy.sh: measure `certsleuth proxy` against a direct connection and
# against mitmdump, in the same run, on 127.0.0.1.
#
#   scripts/bench-proxy.sh [SECONDS] [LONG-SECONDS]
#
# An HTTPS origin (Go, 1 KiB responses, certificate from a generated CA) is
# loaded by 16 concurrent clients (CLIENTS=N in the environment changes it;
# CLIENTS=1 measures the latency a proxy adds without queueing):
#   keep-alive   each client keeps one TLS connection (one proxy tunnel)
#   new-conn     every request is a new TCP+TLS connection (a new tunnel)
# first directly, then through certsleuth (mirror mode, recording to a trace,
# live verdicts on), then through certsleuth again with its live page open in
# a headless Chromium that watches every request arrive (certsleuth+page; set
# PAGE=0 to skip it), then through mitmdump (Debian package mitmproxy). Each run
# lasts SECONDS (default 10). Prints requests/s, p50/p99 latency, and the
# latency the proxy adds at p50 (through the proxy minus direct). Then a long
# run (LONG-SECONDS, default 60; 0 skips it) alternates keep-alive and new
# connections through certsleuth and samples its RSS every 5 s: memory must
# stay flat. Figures are recorded in docs/bench-proxy.md.
#
# BASELINE=REV (a git revision) also builds that revision of certsleuth and
# runs it beside today's build in the same run (row "baseline"), so a change's
# effect on speed is measured in one run, under the same load. ROUNDS=N runs
# certsleuth, the baseline and certsleuth+page N times in a row for each mode
# (in turn: odd rounds without the page first, even rounds with it first) and
# prints each round's ratios and the overall ones: on a shared machine one
# pair of runs proves little. Each proxy's CPU time per request is printed
# beside its req/s, and its ratios too (lower is better): it moves less than
# req/s with what else runs on the machine.
#
# Needs Go, mitmdump, curl and (for certsleuth+page) chromium. The origin
# and load generator are scripts/proxyload (standard library only).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
long=${2:-60}
w=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$w"
}
trap cleanup EXIT INT TERM

command -v mitmdump >/dev/null || { echo "bench-proxy: mitmdump not found (apt-get install -y mitmproxy)" >&2; exit 2; }

echo "== building"
(cd "$root" && CGO_ENABLED=0 go build -o "$w/certsleuth" ./cmd/certsleuth)
(cd "$root" && CGO_ENABLED=0 go build -o "$w/loadgen" ./scripts/proxyload)
if [ -n "${BASELINE:-}" ]; then
	git -C "$root" worktree add -q --detach "$w/baseline-src" "$BASELINE"
	(cd "$w/baseline-src" && CGO_ENABLED=0 go build -o "$w/certsleuth-baseline" ./cmd/certsleuth)
	git -C "$root" worktree remove --force "$w/baseline-src"
fi # the origin and load generator, shared with abuse-proxy.sh

echo "== starting origin, certsleuth proxy, mitmdump"
"$w/loadgen" origin "$w" & pids="$pids $!"
i=0
while [ ! -s "$w/addr" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
origin=$(cat "$w/addr")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
cport=$(free_port)
mport=$(free_port)
export HOME="$w/home" XDG_CONFIG_HOME="$w/home/.config"
mkdir -p "$XDG_CONFIG_HOME"
"$w/certsleuth" ca init >/dev/null 2>&1
"$w/certsleuth" ca export -o "$w/certsleuth-ca.pem" 2>/dev/null
"$w/certsleuth" proxy --listen "127.0.0.1:$cport" --upstream-ca "$w/ca.pem" --record "$w/trace.jsonl" >"$w/proxy.out" 2>"$w/proxy.err" &
cpid=$!
pids="$pids $cpid"
if [ -n "${BASELINE:-}" ]; then
	bport=$(free_port)
	"$w/certsleuth-baseline" proxy --listen "127.0.0.1:$bport" --upstream-ca "$w/ca.pem" --record "$w/trace-baseline.jsonl" >"$w/baseline.out" 2>"$w/baseline.err" &
	bpid=$!
	pids="$pids $bpid"
	i=0
	while ! curl -s -o /dev/null "http://127.0.0.1:$bport/" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
mitmdump -q --listen-host 127.0.0.1 -p "$mport" --set confdir="$w/mitm" --set ssl_verify_upstream_trusted_ca="$w/ca.pem" >"$w/mitm.out" 2>&1 &
mpid=$!
pids="$pids $mpid"
i=0
while { [ ! -s "$w/mitm/mitmproxy-ca-cert.pem" ] || ! curl -s -o /dev/null "http://127.0.0.1:$mport/" ; } && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$cport/" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

# ticks PID: CPU time the process has used so far, in clock ticks (1/100 s).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The live page, open in a headless Chromium for the certsleuth+page runs.
chrome=""
if [ "${PAGE:-1}" != 0 ]; then
	for c in chromium chromium-browser google-chrome; do command -v "$c" >/dev/null && { chrome=$(command -v "$c"); break; }; done
	[ -n "$chrome" ] || echo "bench-proxy: no chromium: the certsleuth+page runs are skipped" >&2
fi
watch_page() {
	mkdir -p "$w/chrome-tmp" # its temporary files (SingletonSocket) go away with $w
	TMPDIR="$w/chrome-tmp" setsid "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$w/chrome" --window-size=1280,800 \
		"http://127.0.0.1:$cport/live" >"$w/chrome.log" 2>&1 &
	chpid=$!
	i=0 # until the page's event stream is connected to the proxy
	while ! ss -tnp 2>/dev/null | grep -q "127.0.0.1:$cport .*chrom" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# Until Chromium's start-up (profile, fonts, network service) is over:
	# its processes used under 5 % of a core over a second (at most 30 s).
	# A fixed 4 s was too short on a busy machine: the start-up's last
	# seconds were counted as the page's.
	i=0 a=$(page_cpu)
	while sleep 1 && b=$(page_cpu) && [ "$(awk -v a="$a" -v b="$b" 'BEGIN {print (b - a >= 0.05)}')" = 1 ] && [ $i -lt 30 ]; do a=$b i=$((i + 1)); done
	settled=$((i + 1))
	chcpu=$(page_cpu)
}
# page_cpu: CPU seconds used so far by the browser's processes (its session).
page_cpu() {
	t=0
	for p in $(ps -eo sid=,pid= | awk -v s="$chpid" '$1 == s {print $2}'); do t=$((t + $(ticks "$p" | cut -d. -f1))); done
	awk -v t="$t" 'BEGIN {printf "%.2f", t / 100}'
}
stop_page() {
	echo "  (the browser settled in ${settled} s and used $(awk -v a="$chcpu" -v b="$(page_cpu)" 'BEGIN {printf "%.2f", b - a}') CPU seconds during the run)"
	kill -- -"$chpid" 2>/dev/null; wait "$chpid" 2>/dev/null || true
}

run() { # run LABEL PROXY MODE [PID]: print a table row, set $rps $p50 $cpu
	t0=0
	[ -n "${4:-}" ] && t0=$(ticks "$4")
	out=$("$w/loadgen" run "$origin" "$2" "$3" "$secs" "$w/ca.pem" "$w/certsleuth-ca.pem" "$w/mitm/mitmproxy-ca-cert.pem" 2>>"$w/load.err")
	rps=$(echo "$out" | cut -d' ' -f1)
	p50=$(echo "$out" | cut -d' ' -f2)
	p99=$(echo "$out" | cut -d' ' -f3)
	errs=$(echo "$out" | cut -d' ' -f4)
	# The proxy's CPU time per request (microseconds): steadier than req/s
	# on a shared machine, where req/s follows what else runs.
	cpu="" cpus=""
	if [ -n "${4:-}" ]; then
		cpu=$(awk -v a="$t0" -v b="$(ticks "$4")" -v r="$rps" -v s="$secs" 'BEGIN { if (r > 0) printf "%.1f", (b - a) * 10000 / (r * s) }')
		cpus=$(printf '   proxy CPU %6s us/req' "$cpu")
	fi
	printf '%-11s %-10s %10s req/s   p50 %8s ms   p99 %8s ms   errors %s%s\n' "$1" "$3" "$rps" "$p50" "$p99" "$errs" "$cpus"
}

echo
rounds=${ROUNDS:-1}
echo "== $secs s per run, ${CLIENTS:-16} concurrent clients, 1 KiB responses (nproc $(nproc), $rounds round(s), load average $(cut -d' ' -f1-3 /proc/loadavg))"
: >"$w/ratios"
for mode in keepalive newconn; do
	run direct - "$mode"
	d_rps=$rps d_p50=$p50
	r=1
	while [ $r -le "$rounds" ]; do
		[ "$rounds" -gt 1 ] && echo "  -- $mode round $r (load average $(cut -d' ' -f1 /proc/loadavg))"
		# Odd rounds run certsleuth before cs+page, even rounds after it, so
		# that neither always runs on the warmer (or busier) machine.
		for step in plain base page; do
			[ $((r % 2)) -eq 0 ] && case $step in plain) step=page ;; page) step=plain ;; esac
			case $step in
			plain)
				run certsleuth "127.0.0.1:$cport" "$mode" "$cpid"
				c_rps=$rps c_p50=$p50 c_cpu=$cpu
				;;
			base)
				[ -n "${BASELINE:-}" ] || continue
				run baseline "127.0.0.1:$bport" "$mode" "$bpid"
				b_rps=$rps b_p50=$p50 b_cpu=$cpu
				;;
			page)
				[ -n "$chrome" ] || continue
				watch_page
				run cs+page "127.0.0.1:$cport" "$mode" "$cpid"
				stop_page
				g_rps=$rps g_p50=$p50 g_cpu=$cpu
				;;
			esac
		done
		if [ -n "${BASELINE:-}" ]; then
			echo "$mode" "$c_rps" "$b_rps" "$c_p50" "$b_p50" | awk '{
				printf "  %s: this build does %.1f%% of the baseline'"'"'s req/s (%.0f vs %.0f), p50 %+.3f ms\n", $1, 100*$2/$3, $2, $3, $4-$5 }'
			echo "$mode baseline $c_rps $b_rps" >>"$w/ratios"
			echo "$mode baseline-cpu $c_cpu $b_cpu" >>"$w/ratios"
		fi
		if [ -n "$chrome" ]; then
			echo "$mode" "$c_rps" "$g_rps" "$c_p50" "$g_p50" | awk '{
				printf "  %s: with the live page open in a browser certsleuth does %.1f%% of its req/s without (%.0f vs %.0f), p50 %+.3f ms\n",
					$1, 100*$3/$2, $3, $2, $5-$4 }'
			echo "$mode page $g_rps $c_rps" >>"$w/ratios"
			echo "$mode page-cpu $g_cpu $c_cpu" >>"$w/ratios"
		fi
		r=$((r + 1))
	done
	run mitmdump "127.0.0.1:$mport" "$mode" "$mpid"
	m_rps=$rps m_p50=$p50
	echo "$mode" "$d_rps" "$d_p50" "$c_rps" "$c_p50" "$m_rps" "$m_p50" | awk '{
		printf "  %s: certsleuth %.1fx mitmdump (%.0f vs %.0f req/s), %.0f%% of direct; added p50: certsleuth %.3f ms, mitmdump %.3f ms\n",
			$1, $4/$6, $4, $6, 100*$4/$2, $5-$3, $7-$3 }'
done
if [ "$rounds" -gt 1 ] && [ -s "$w/ratios" ]; then
	echo "== over $rounds rounds (each ratio from one round's two runs; overall = sum of one's req/s over the other's; median of the rounds' ratios)"
	sort -k1,2 -s "$w/ratios" | awk '
		function label(w) {
			if (w == "page") return "page open / not"
			if (w == "baseline") return "this build / baseline"
			if (w == "page-cpu") return "proxy CPU per request, page open / not"
			return "proxy CPU per request, this build / baseline"
		}
		function median(   i, j, t) { # of r[1..n], sorted in place
			for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j-1] > r[j]; j--) { t = r[j]; r[j] = r[j-1]; r[j-1] = t }
			return n % 2 ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2
		}
		function out() { if (n) printf "  %-9s %-18s %s; overall %.1f%%, median %.1f%%\n", m, label(w), list, 100*sa/sb, median() }
		{ if ($1 != m || $2 != w) { out(); m = $1; w = $2; n = 0; list = ""; sa = 0; sb = 0 }
		  n++; sa += $3; sb += $4; r[n] = 100*$3/$4; list = list sprintf("%s%.1f%%", (n > 1 ? ", " : ""), r[n]) }
		END { out() }'
fi
[ -s "$w/load.err" ] && { echo "load errors (first lines):"; head -5 "$w/load.err"; }

lines=$(wc -l <"$w/trace.jsonl")
echo "certsleuth trace: $lines lines, $(stat -c %s "$w/trace.jsonl") bytes"

if [ "$long" -gt 0 ]; then
	echo
	echo "== long run: $long s through certsleuth, alternating keep-alive and new connections; RSS every 5 s"
	rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$cpid/status"; }
	echo "  start: $(rss) MiB"
	t=0
	while [ $t -lt "$long" ]; do
		m=keepalive
		[ $(((t / 5) % 2)) -eq 1 ] && m=newconn
		"$w/loadgen" run "$origin" "127.0.0.1:$cport" "$m" 5 "$w/ca.pem" "$w/certsleuth-ca.pem" >/dev/null 2>>"$w/load.err"
		t=$((t + 5))
		echo "  ${t}s ($m): $(rss) MiB"
	done
	echo "certsleuth trace after the long run: $(stat -c %s "$w/trace.jsonl") bytes"
fi
kill -INT "$cpid"
wait "$cpid" 2>/dev/null || true
echo "certsleuth proxy: $(grep -c . "$w/proxy.out") lines printed; $(tail -1 "$w/proxy.err")"
