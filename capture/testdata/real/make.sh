#!/usr/bin/env bash
# make.sh: remake the captures of real software in this folder.
#
#   capture/testdata/real/make.sh [CASE...]
#
# Each case runs real servers and clients (openssl s_server/s_client, curl,
# squid, Python, Chromium) on 127.0.0.1 only, records them with
# tcpdump on the loopback interface, and writes CASE.pcap here. The
# certificates come from a CA made fresh in a private folder under /tmp;
# its certificate is kept as ca.pem (the golden reports trust it). Needs
# root (tcpdump, sysctl), openssl, curl, tcpdump, squid, python3,
# chromium, mariadb-server, slapd and ldap-utils. After remaking, rewrite the golden reports with
#
#   go test ./capture -run TestRealCaptures -update
#
# and READ their diff. README.md says how each file was made.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/certsleuth-real.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# --- certificates: a CA, and leaf certificates named by their SANs.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
	-subj "/O=certsleuth test/CN=certsleuth real-capture CA" 2>/dev/null
leaf() { # leaf NAME CN SAN... : NAME.pem, NAME.key
	local name=$1 cn=$2
	shift 2
	local san=""
	for s in "$@"; do san="${san:+$san,}DNS:$s"; done
	openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile "$name.ext" -out "$name.pem" 2>/dev/null
	cat "$name.pem" ca.pem >"$name.chain.pem"
}
leaf mail mail.contoso.test mail.contoso.test
leaf default exch01.corp.contoso.test exch01.corp.contoso.test
leaf right mail.contoso.test mail.contoso.test autodiscover.contoso.test
if [ $# -gt 0 ]; then
	# Some cases only: the other captures keep the CA they were made with,
	# so this run's CA is added to ca.pem, not put in its place.
	cat ca.pem >>"$here/ca.pem"
else
	cp ca.pem "$here/ca.pem"
fi

# --- capture helpers
# start_capture FILE PORT...: tcpdump on lo for those TCP ports.
start_capture() {
	local file=$1
	shift
	local filter=""
	for p in "$@"; do filter="${filter:+$filter or }tcp port $p"; done
	tcpdump -Z root -i lo --immediate-mode -U -s 0 -w "$file" "$filter" 2>"$work/tcpdump.log" &
	tcpdump_pid=$!
	for _ in $(seq 50); do grep -q listening "$work/tcpdump.log" && break; sleep 0.1; done
}
stop_capture() {
	sleep 0.5
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || true
}
# serve PORT ARGS...: openssl s_server on 127.0.0.1:PORT in the background.
serve() {
	local port=$1
	shift
	openssl s_server -accept "127.0.0.1:$port" -naccept 4 -quiet "$@" </dev/null >"$work/s_server.$port.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
www() { # www PORT ARGS...: openssl s_server -WWW (answers GET requests from files in $work)
	local port=$1
	shift
	echo ok >"$work/index.html"
	openssl s_server -accept "127.0.0.1:$port" -WWW "$@" >"$work/www.$port.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
curl_to() { # curl_to NAME PORT ARGS...
	local name=$1 port=$2
	shift 2
	curl -sS --max-time 5 --resolve "$name:$port:127.0.0.1" --cacert ca.pem "$@" "https://$name:$port/index.html" >/dev/null 2>>"$work/curl.log" || true
}

case_frag_records() {
	# TLS 1.2, openssl s_server -max_send_frag 512: the server's
	# Certificate spans several 512-byte records (and segments).
	www 18443 -cert right.pem -key right.key -cert_chain ca.pem -tls1_2 -max_send_frag 512
	start_capture frag-records.pcap 18443
	curl_to autodiscover.contoso.test 18443 --tlsv1.2 --tls-max 1.2
	stop_capture
}

case_big_certificate() {
	# TLS 1.2; the server sends its whole CA bundle: the leaf, the CA and
	# 90 unrelated CA certificates, a Certificate message of about
	# 130 KiB. OpenSSL clients refuse a certificate list over 100 KiB
	# (max_cert_list): curl ends the handshake with an alert before the
	# message is whole, so the capture holds only its start (the leaf).
	cp ca.pem bundle.pem
	local pad
	pad=$(printf 'x%.0s' $(seq 800))
	for i in $(seq 1 90); do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
			-subj "/O=certsleuth test/CN=Bundle CA $i" -addext "nsComment=$pad" -days 3650 2>/dev/null >>bundle.pem
	done
	www 18444 -cert mail.pem -key mail.key -cert_chain bundle.pem -tls1_2
	start_capture big-certificate.pcap 18444
	curl_to mail.contoso.test 18444 --tlsv1.2 --tls-max 1.2
	sleep 1
	stop_capture
}

case_connect_squid() {
	# curl through squid (an explicit HTTP proxy on 127.0.0.1:18128, its
	# own hosts file): CONNECT autodiscover.contoso.test:18445, 200, then
	# TLS 1.2 inside the tunnel; the certificate names only mail.contoso.test.
	local sq=$work/squid
	mkdir -p "$sq"
	chown proxy "$sq" 2>/dev/null || chmod 777 "$sq"
	chmod 755 "$work"
	echo "127.0.0.1 autodiscover.contoso.test" >"$sq/hosts"
	cat >"$sq/squid.conf" <<-EOF2
		http_port 127.0.0.1:18128
		acl localnet src 127.0.0.1/32
		acl SSL_ports port 18445
		acl CONNECT method CONNECT
		http_access deny CONNECT !SSL_ports
		http_access allow localnet
		http_access deny all
		cache deny all
		hosts_file $sq/hosts
		dns_nameservers 127.0.0.1
		pid_filename $sq/squid.pid
		access_log stdio:$sq/access.log
		cache_log $sq/cache.log
		coredump_dir $sq
		shutdown_lifetime 1 seconds
	EOF2
	squid -N -f "$sq/squid.conf" &
	pids+=($!)
	www 18445 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_2
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/18128) 2>/dev/null && break; sleep 0.2; done
	start_capture connect-squid.pcap 18128
	curl -sS --max-time 5 -k --proxy http://127.0.0.1:18128 --tlsv1.2 --tls-max 1.2 \
		https://autodiscover.contoso.test:18445/index.html >/dev/null 2>>"$work/curl.log" || true
	stop_capture
}

case_warning_alert() {
	# TLS 1.2: openssl s_server -servername mail.contoso.test answers any
	# other SNI with a warning-level unrecognized_name alert and goes on
	# with its default certificate (exch01.corp.contoso.test).
	www 18446 -cert default.pem -key default.key -servername mail.contoso.test -cert2 mail.pem -key2 mail.key -tls1_2
	start_capture warning-alert.pcap 18446
	curl_to autodiscover.contoso.test 18446 -k --tlsv1.2 --tls-max 1.2
	stop_capture
}

case_client_cert() {
	# TLS 1.2: openssl s_server -Verify 1 asks for a client certificate
	# (CertificateRequest); curl sends one (CN=user@contoso.test).
	openssl req -newkey rsa:2048 -nodes -keyout user.key -out user.csr -subj "/CN=user@contoso.test" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >user.ext
	openssl x509 -req -in user.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile user.ext -out user.pem 2>/dev/null
	www 18447 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_2 -Verify 1 -CAfile ca.pem
	start_capture client-cert.pcap 18447
	curl_to mail.contoso.test 18447 --tlsv1.2 --tls-max 1.2 --cert user.pem --key user.key
	stop_capture
}

case_chromium_ech_grease() {
	# TLS 1.3: headless Chromium (which sends a GREASE
	# encrypted_client_hello extension when it has no ECH configuration)
	# asks for autodiscover.contoso.test; its key log (SSLKEYLOGFILE)
	# decrypts the handshake: the certificate names mail.contoso.test.
	www 18448 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_3
	start_capture chromium-ech-grease.pcap 18448
	SSLKEYLOGFILE="$work/chromium.keylog" timeout 20 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$work/chromium" --host-resolver-rules="MAP autodiscover.contoso.test 127.0.0.1" \
		--ignore-certificate-errors --dump-dom https://autodiscover.contoso.test:18448/index.html >/dev/null 2>"$work/chromium.log" || true
	stop_capture
	cp "$work/chromium.keylog" chromium-ech-grease.pcap.keylog
}

case_tfo() {
	# TCP Fast Open: with net.ipv4.tcp_fastopen=3, curl --tcp-fastopen
	# connects twice to a Python TLS server that accepts TFO; the second
	# connection carries its ClientHello in the SYN (with the cookie the
	# first one got).
	local old
	old=$(sysctl -n net.ipv4.tcp_fastopen)
	sysctl -qw net.ipv4.tcp_fastopen=3
	cat >"$work/tfo.py" <<-'EOF2'
		import socket, ssl, sys
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(sys.argv[1], sys.argv[2])
		ctx.maximum_version = ssl.TLSVersion.TLSv1_2
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
		s.bind(("127.0.0.1", 18449)); s.listen()
		for _ in range(2):
		    c, _ = s.accept()
		    try:
		        t = ctx.wrap_socket(c, server_side=True)
		        t.recv(4096); t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"); t.close()
		    except Exception as e:
		        print(e, file=sys.stderr)
	EOF2
	python3 "$work/tfo.py" mail.chain.pem mail.key 2>"$work/tfo.log" &
	pids+=($!)
	for _ in $(seq 50); do ss -ltn | grep -q ':18449 ' && break; sleep 0.2; done
	start_capture tfo.pcap 18449
	curl_to mail.contoso.test 18449 --tcp-fastopen --tlsv1.2 --tls-max 1.2
	curl_to mail.contoso.test 18449 --tcp-fastopen --tlsv1.2 --tls-max 1.2
	stop_capture
	sysctl -qw net.ipv4.tcp_fastopen="$old"
}

case_tls13_closes() {
	# TLS 1.3, one openssl s_server -WWW, eight clients, no key log:
	# accepted sessions closed normally (curl with a request, openssl
	# s_client with nothing to send, Python closing after the handshake,
	# headless Chromium), then refused ones (each asks for
	# autodiscover.contoso.test, which the certificate lacks): curl (it
	# checks the name after the handshake), openssl s_client
	# -verify_hostname -verify_return_error, Python, headless Chromium.
	www 18450 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_3
	cat >"$work/pyclient.py" <<-'EOF2'
		import socket, ssl, sys
		ctx = ssl.create_default_context(cafile=sys.argv[2])
		s = socket.create_connection(("127.0.0.1", 18450))
		try:
		    t = ctx.wrap_socket(s, server_hostname=sys.argv[1])
		    t.unwrap(); t.close()
		except Exception as e:
		    print(e, file=sys.stderr); s.close()
	EOF2
	chrome() { # chrome NAME EXTRA...
		local name=$1
		shift
		timeout 20 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/chromium-$RANDOM" \
			--host-resolver-rules="MAP $name 127.0.0.1" "$@" --dump-dom "https://$name:18450/index.html" >/dev/null 2>>"$work/chromium.log" || true
	}
	start_capture tls13-closes.pcap 18450
	curl_to mail.contoso.test 18450 --tlsv1.3
	openssl s_client -connect 127.0.0.1:18450 -servername mail.contoso.test -CAfile ca.pem </dev/null >/dev/null 2>&1 || true
	python3 "$work/pyclient.py" mail.contoso.test ca.pem 2>>"$work/py.log"
	chrome mail.contoso.test --ignore-certificate-errors
	curl_to autodiscover.contoso.test 18450 --tlsv1.3
	openssl s_client -connect 127.0.0.1:18450 -servername autodiscover.contoso.test -CAfile ca.pem \
		-verify_hostname autodiscover.contoso.test -verify_return_error </dev/null >/dev/null 2>&1 || true
	python3 "$work/pyclient.py" autodiscover.contoso.test ca.pem 2>>"$work/py.log"
	chrome autodiscover.contoso.test
	sleep 1
	stop_capture
}

case_socks_dante() {
	# curl through Dante 1.4.2 (danted, a SOCKS 4/5 proxy on
	# 127.0.0.1:18180) to openssl s_server, whose certificate names only
	# mail.contoso.test; curl asks for autodiscover.contoso.test. Four
	# connections: --socks5-hostname (SOCKS 5, the name sent to the
	# proxy), --socks5 (SOCKS 5, the address), --socks4a (the name),
	# --socks4 (the address). danted runs in a private mount namespace
	# whose /etc/hosts maps autodiscover.contoso.test to 127.0.0.1.
	local dd=$work/dante
	mkdir -p "$dd"
	chmod 755 "$work" "$dd"
	printf '127.0.0.1 localhost\n127.0.0.1 autodiscover.contoso.test\n' >"$dd/hosts"
	cat >"$dd/danted.conf" <<-EOF2
		logoutput: $dd/danted.log
		internal: 127.0.0.1 port = 18180
		external: 127.0.0.1
		socksmethod: none
		clientmethod: none
		user.privileged: root
		user.unprivileged: nobody
		client pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }
		socks pass { from: 127.0.0.1/32 to: 0.0.0.0/0 command: connect }
	EOF2
	unshare -m sh -c "mount --bind $dd/hosts /etc/hosts && exec danted -f $dd/danted.conf -p $dd/danted.pid" &
	pids+=($!)
	www 18446 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_2
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/18180) 2>/dev/null && break; sleep 0.2; done
	start_capture socks-dante.pcap 18180
	for how in --socks5-hostname --socks5 --socks4a --socks4; do
		curl -sS --max-time 5 -k "$how" 127.0.0.1:18180 --resolve autodiscover.contoso.test:18446:127.0.0.1 \
			--tlsv1.2 --tls-max 1.2 https://autodiscover.contoso.test:18446/index.html >/dev/null 2>>"$work/curl.log" || true
	done
	stop_capture
	[ -f "$dd/danted.pid" ] && kill "$(cat "$dd/danted.pid")" 2>/dev/null || true
}

case_socks_ssh() {
	# curl through OpenSSH's SOCKS proxy (`ssh -D 127.0.0.1:18181` to an
	# sshd on 127.0.0.1:18222 with its own keys) to openssl s_server,
	# whose certificate names only mail.contoso.test; curl asks for
	# autodiscover.contoso.test with --socks4a (Dante refuses SOCKS 4a)
	# and --socks5-hostname. sshd resolves the name in a private mount
	# namespace whose /etc/hosts maps it to 127.0.0.1.
	local sd=$work/sshd
	mkdir -p "$sd" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$sd/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$sd/user_key"
	cp "$sd/user_key.pub" "$sd/authorized_keys"
	printf '127.0.0.1 localhost\n127.0.0.1 autodiscover.contoso.test\n' >"$sd/hosts"
	cat >"$sd/sshd_config" <<-EOF2
		Port 18222
		ListenAddress 127.0.0.1
		HostKey $sd/host_key
		AuthorizedKeysFile $sd/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		StrictModes no
		UsePAM no
		AllowTcpForwarding yes
		PidFile $sd/sshd.pid
	EOF2
	unshare -m sh -c "mount --bind $sd/hosts /etc/hosts && exec /usr/sbin/sshd -D -f $sd/sshd_config" &
	pids+=($!)
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/18222) 2>/dev/null && break; sleep 0.1; done
	ssh -N -D 127.0.0.1:18181 -p 18222 -i "$sd/user_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes root@127.0.0.1 2>>"$work/ssh.log" &
	pids+=($!)
	www 18447 -cert mail.pem -key mail.key -cert_chain ca.pem -tls1_2
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/18181) 2>/dev/null && break; sleep 0.2; done
	start_capture socks-ssh.pcap 18181
	for how in --socks4a --socks5-hostname; do
		curl -sS --max-time 5 -k "$how" 127.0.0.1:18181 --tlsv1.2 --tls-max 1.2 \
			https://autodiscover.contoso.test:18447/index.html >/dev/null 2>>"$work/curl.log" || true
	done
	stop_capture
}

wait_port() { # wait_port PORT
	for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && break; sleep 0.2; done
}

case_mysql_starttls() {
	# MariaDB 10.11 (Debian 12's mariadb-server, a data directory made for
	# the run) on 127.0.0.1:18452 with --ssl-cert for mail.contoso.test,
	# TLS 1.2 only (--tls-version, so the certificate is in clear).
	# openssl s_client -starttls mysql asks for db.contoso.test (SNI); the
	# mariadb client (--ssl, by address: no SNI) runs a query. Both send
	# the SSLRequest after the server's greeting, then TLS.
	local md=$work/mariadb
	mkdir -p "$md"
	mariadb-install-db --no-defaults --user=root --datadir="$md/data" --auth-root-authentication-method=normal >"$md/install.log" 2>&1
	mariadbd --no-defaults --user=root --datadir="$md/data" --socket="$md/sock" --pid-file="$md/pid" \
		--port=18452 --bind-address=127.0.0.1 --skip-name-resolve \
		--ssl-cert="$work/mail.pem" --ssl-key="$work/mail.key" --ssl-ca="$work/ca.pem" --tls-version=TLSv1.2 >"$md/server.log" 2>&1 &
	pids+=($!)
	wait_port 18452
	start_capture mysql-starttls.pcap 18452
	openssl s_client -starttls mysql -connect 127.0.0.1:18452 -servername db.contoso.test -CAfile ca.pem </dev/null >/dev/null 2>&1 || true
	mariadb --no-defaults -h 127.0.0.1 -P 18452 -u root --ssl -e 'select 1' >/dev/null 2>>"$md/client.log" || true
	stop_capture
}

case_ldap_starttls() {
	# OpenLDAP 2.5's slapd (Debian 12, a slapd.conf and an empty mdb
	# database made for the run) on 127.0.0.1:18453 with a certificate for
	# mail.contoso.test. openssl s_client -starttls ldap asks for
	# ldap.contoso.test (SNI); ldapsearch -ZZ (StartTLS required, by
	# address: no SNI) reads the root DSE. Both send the StartTLS extended
	# request (RFC 4511 4.14) and begin TLS after the server's success.
	# s_client is held to TLS 1.2 (-tls1_2: the certificate in clear);
	# ldapsearch negotiates TLS 1.3 (OpenLDAP has no client setting for a
	# highest version), so its certificate is encrypted: not judged.
	local ld=$work/slapd
	mkdir -p "$ld/db"
	cat >"$ld/slapd.conf" <<-EOF2
		include /etc/ldap/schema/core.schema
		pidfile $ld/slapd.pid
		modulepath /usr/lib/ldap
		moduleload back_mdb
		TLSCertificateFile $work/mail.pem
		TLSCertificateKeyFile $work/mail.key
		TLSCACertificateFile $work/ca.pem
		database mdb
		suffix "dc=contoso,dc=test"
		directory $ld/db
	EOF2
	slapd -f "$ld/slapd.conf" -h ldap://127.0.0.1:18453/ -d 0 >"$ld/slapd.log" 2>&1 &
	pids+=($!)
	wait_port 18453
	start_capture ldap-starttls.pcap 18453
	openssl s_client -starttls ldap -tls1_2 -connect 127.0.0.1:18453 -servername ldap.contoso.test -CAfile ca.pem </dev/null >/dev/null 2>&1 || true
	LDAPTLS_CACERT=ca.pem LDAPTLS_REQCERT=never ldapsearch -ZZ -x -H ldap://127.0.0.1:18453 -b "" -s base namingContexts >/dev/null 2>>"$ld/client.log" || true
	stop_capture
}

all=(frag_records big_certificate connect_squid warning_alert client_cert chromium_ech_grease tfo tls13_closes socks_dante socks_ssh mysql_starttls ldap_starttls)
[ $# -gt 0 ] && all=("$@")
for c in "${all[@]}"; do
	echo "== $c"
	"case_$c"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	pids=()
	sleep 0.3
done
mv ./*.pcap ./*.pcap.keylog "$here/" 2>/dev/null || true
ls -l "$here"
