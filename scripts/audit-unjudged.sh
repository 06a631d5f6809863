#!/bin/sh
# audit-unjudged.sh: issue 14's "never fine without looking", on capture
# files. For each file, every TCP connection in which tshark dissects, in
# clear, a server Certificate handshake message (type 11) or a
# ServerHello must be one `certsleuth pcap` judged, or one its report
# counts as not judged. Prints, per file:
#
#   BREACH FILE: N connections with a certificate in clear not judged; ...
#       such a connection was not judged, yet certsleuth exited 0 or its
#       JSON summary has no not_judged (it says all was judged);
#   UNSEEN FILE: no certsleuth connection for CLIENT -> SERVER, ...
#       certsleuth does say something was not judged, but has no
#       connection at all for these;
#   UNCOUNTED FILE: ...
#       certsleuth has the connection, without a judged chain, and its
#       item does not say not judged;
#   SILENT FILE: ...
#       tshark reads TLS records, but no ServerHello or server certificate, on
#       connections certsleuth has no connection for (not a breach by the
#       rule, as no certificate is known to be there; a handshake both
#       tools failed to read shows here);
#
# then an AUDIT line with the totals. Exit status 0 whatever it finds
# (2 on bad usage or a missing tool).
#
#   scripts/audit-unjudged.sh FILE...
#   scripts/audit-unjudged.sh /tmp/pubcaps/dev/* /tmp/pubcaps/heldout/*
#
# Needs Go and tshark (Debian: apt-get install tshark); tshark runs as in
# scripts/compare-tshark.sh (which prints the same lines beside its
# comparison, and runs this audit alone with -audit first). The audit is
# scripts/comparetshark -audit (audit.go).
set -eu
# compare-tshark.sh builds certsleuth and scripts/comparetshark and checks
# for tshark; -audit makes comparetshark audit only.
exec "$(dirname "$0")/compare-tshark.sh" -audit "$@"
