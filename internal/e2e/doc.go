// Package e2e holds certsleuth's end-to-end test against real clients:
// it mints certificate cases, serves each on 127.0.0.1, lets Chromium
// (headless, with a throw-away NSS database), curl, openssl s_client,
// Python's ssl and Go's crypto/tls judge them, and asserts that
// `certsleuth check --profile P` gives each client's verdict.
//
// The package has no code of its own; see e2e_test.go. Under CI=true a
// missing client fails the test; elsewhere it is skipped with a message.
package e2e
