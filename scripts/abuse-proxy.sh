#!/bin/sh
# abuse-proxy.sh: the abuse cases of issue 16 against `certsleuth proxy`,
# on 127.0.0.1, with the figures the issue asks for:
#
#   1. a 256 MiB request header inside a CONNECT tunnel (and one on the
#      plain proxy path): the answer, the proxy's peak RSS (VmHWM), and
#      whether other requests were served meanwhile;
#   2. a live output nobody reads (stdout into a FIFO that is never read):
#      errors seen by 16 keep-alive clients (2 s timeout per request);
#   3. 1,000 open keep-alive tunnels: errors, RSS per open tunnel, and RSS
#      over the minute after they close.
#
#   scripts/abuse-proxy.sh [MIB] [TUNNELS]      (defaults 256 and 1000)
#
# CERTSLEUTH=/path/to/certsleuth measures that build instead of this tree's.
# The proxy runs as a user would run it: mirror mode, recording to a trace,
# live lines on. Needs Go and Linux (/proc). Figures: docs/bench-proxy.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-256}
ntun=${2:-1000}
w=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$w"
}
trap cleanup EXIT INT TERM

echo "== building"
if [ -n "${CERTSLEUTH:-}" ]; then
	cp "$CERTSLEUTH" "$w/certsleuth"
else
	(cd "$root" && CGO_ENABLED=0 go build -o "$w/certsleuth" ./cmd/certsleuth)
fi
(cd "$root" && CGO_ENABLED=0 go build -o "$w/proxyload" ./scripts/proxyload)

"$w/proxyload" origin "$w" & pids="$pids $!"
i=0
while [ ! -s "$w/addr" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
origin=$(cat "$w/addr")
export HOME="$w/home" XDG_CONFIG_HOME="$w/home/.config"
mkdir -p "$XDG_CONFIG_HOME"
"$w/certsleuth" ca init >/dev/null 2>&1
"$w/certsleuth" ca export -o "$w/certsleuth-ca.pem" 2>/dev/null
cas="$w/ca.pem $w/certsleuth-ca.pem"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rsskb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# start_proxy NAME OUT: start a proxy writing its live lines to OUT; sets $port $ppid_
start_proxy() {
	port=$(free_port)
	"$w/certsleuth" proxy --listen "127.0.0.1:$port" --upstream-ca "$w/ca.pem" --record "$w/$1.jsonl" >"$2" 2>"$w/$1.err" &
	ppid_=$!
	pids="$pids $ppid_"
	i=0
	while ! curl -s -o /dev/null "http://127.0.0.1:$port/" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

echo
echo "== 1. a $mib MiB request header"
start_proxy a "$w/a.out"
apid=$ppid_ aport=$port
"$w/proxyload" run "$origin" "127.0.0.1:$aport" keepalive 1 $cas >/dev/null
echo "  proxy RSS before: $(rss "$apid") MiB"
for how in tunnel plain; do
	out=$("$w/proxyload" bighdr "$origin" "127.0.0.1:$aport" "$mib" "$how" $cas 2>>"$w/load.err")
	where="inside a CONNECT tunnel"
	[ "$how" = plain ] && where="on the plain proxy path"
	echo "  $where: $out; proxy RSS now $(rss "$apid") MiB, peak $(hwm "$apid") MiB"
done
kill -INT "$apid"
wait "$apid" 2>/dev/null || true

echo
echo "== 3. $ntun open keep-alive tunnels (a fresh proxy)"
start_proxy c "$w/c.out"
apid=$ppid_ aport=$port
"$w/proxyload" run "$origin" "127.0.0.1:$aport" keepalive 2 $cas >/dev/null
sleep 3
base=$(rsskb "$apid")
echo "  proxy RSS before: $(rss "$apid") MiB"
rm -f "$w/release"
"$w/proxyload" tunnels "$origin" "127.0.0.1:$aport" "$ntun" "$w/release" $cas >"$w/tunnels.out" 2>>"$w/load.err" &
tpid=$!
pids="$pids $tpid"
i=0
while ! grep -q '^open=' "$w/tunnels.out" && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
open=$(rsskb "$apid")
echo "  $(grep '^open=' "$w/tunnels.out"); proxy RSS $(rss "$apid") MiB: $(((open - base) / ntun)) KiB per open tunnel"
touch "$w/release"
wait "$tpid" || true
echo "  $(grep '^reused=' "$w/tunnels.out"); tunnels closed"
t=0
while [ $t -lt 60 ]; do
	sleep 5
	t=$((t + 5))
	printf '  +%ss: %s MiB' "$t" "$(rss "$apid")"
	[ $((t % 30)) -eq 0 ] && echo
done
echo "  (before the tunnels: $((base / 1024)) MiB)"
kill -INT "$apid"
wait "$apid" 2>/dev/null || true

echo
echo "== 2. a live output nobody reads (16 keep-alive clients, 10 s, 2 s timeout per request)"
mkfifo "$w/live.fifo"
exec 3<>"$w/live.fifo" # held open, never read while the load runs
start_proxy b "$w/live.fifo"
bpid=$ppid_ bport=$port
out=$(TIMEOUT=2s CLIENTS=16 "$w/proxyload" run "$origin" "127.0.0.1:$bport" keepalive 10 $cas 2>>"$w/load.err")
echo "  $(echo "$out" | awk '{printf "%s req/s, p99 %s ms, errors %s", $1, $3, $4}')"
kill -INT "$bpid"
timeout 20 cat <&3 >"$w/live.out" || true
exec 3<&-
wait "$bpid" 2>/dev/null || true
echo "  live lines printed once read: $(grep -c '  asked ' "$w/live.out" || true); $(grep -m1 'live lines dropped' "$w/live.out" || echo 'no drop note')"
echo "  $(tail -1 "$w/b.err")"

if [ -s "$w/load.err" ]; then
	echo
	echo "load errors (first lines):"
	head -5 "$w/load.err"
fi
