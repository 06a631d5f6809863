// Command certsleuth finds the request that makes a client warn "the name
// of the security certificate is invalid or does not match the name of the
// site", and says what to change so it stops. See `certsleuth help`.
package main

import "os"

func main() {
	rc := run(os.Args, os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(rc)
}

// stopProfile ends the profiles a build with the "prof" tag started
// (prof.go); it does nothing otherwise.
var stopProfile = func() {}
