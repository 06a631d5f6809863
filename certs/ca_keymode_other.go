//go:build !windows

package certs

import (
	"fmt"
	"os"
)

// checkKeyMode refuses a CA key that group or others can read.
func checkKeyMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("load CA key: %w", err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("load CA key: %s has mode %04o; it must be readable by you only (chmod 600 %s)", path, m, path)
	}
	return nil
}
