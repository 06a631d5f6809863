// Package match decides whether a certificate covers the name a client
// asked for, the way each client family does: Match returns a Verdict with
// a Kind and a Reason for one Profile of the table (Windows, Apple,
// Chromium, OpenSSL, curl, Python, Go, RFC 9525). It does no I/O and
// imports nothing of certsleuth, so other programs can use it alone.
package match
