//go:build !unix

package certs

import "errors"

// ErrUnsafeDir is returned (wrapped) when a CA directory, or a directory
// above it, can be written by other users (checked on Unix only: Windows
// protects the user's profile with ACLs).
var ErrUnsafeDir = errors.New("unsafe CA directory")

func checkDirSafe(string) error { return nil }
