//go:build !unix

package browser

import "os/exec"

// ownGroup does nothing here: the browser's child processes end with it.
func ownGroup(*exec.Cmd) {}

// killGroup does nothing here (see ownGroup).
func killGroup(*exec.Cmd) {}
