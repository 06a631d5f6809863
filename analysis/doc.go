// Package analysis judges what clients saw: it matches the name a client
// asked for against the certificate it got, the way each client family
// does (package match), runs the certificate checks (the
// Check registry, printed by `certsleuth checks`), and turns a list of
// observations into a Report that says which request would make which
// client warn, and why.
//
// Every check has a stable ID, a severity, a citation and a remedy.
// Parsing does no I/O.
package analysis
