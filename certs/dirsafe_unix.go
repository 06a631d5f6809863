//go:build unix

package certs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrUnsafeDir is returned (wrapped) when a CA directory, or a directory
// above it, can be written by other users.
var ErrUnsafeDir = errors.New("unsafe CA directory")

// checkDirSafe refuses to keep a CA key in dir when another user could
// replace or add files there, the way OpenSSH's StrictModes refuses
// ~/.ssh (secure_path in misc.c): dir and every directory above it must
// be owned by you or root and not writable by group or others. A parent
// with the sticky bit (/tmp) is accepted: others cannot rename or remove
// what is yours in it. A dir that does not exist yet is made 0700 by Save.
func checkDirSafe(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	uid := os.Geteuid()
	for p, first := abs, true; ; p, first = filepath.Dir(p), false {
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// made by Save, 0700
		case err != nil:
			return fmt.Errorf("save CA: %w", err)
		default:
			m := st.Mode()
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != uid && sys.Uid != 0 {
				return fmt.Errorf("%w: %s is owned by user %d, not by you or root: whoever owns it can replace the CA key\nhint: use a directory of your own, e.g. the default ('certsleuth ca path --dir'), or: sudo chown %d %s", ErrUnsafeDir, p, sys.Uid, uid, p)
			}
			if m.Perm()&0o022 != 0 && (first || m&fs.ModeSticky == 0) {
				return fmt.Errorf("%w: %s has mode %04o: other users can write to it and could replace the CA key\nhint: chmod go-w %s (or use a directory only you can write to)", ErrUnsafeDir, p, m.Perm(), p)
			}
		}
		if parent := filepath.Dir(p); parent == p {
			return nil
		}
	}
}
