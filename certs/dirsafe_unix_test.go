//go:build unix

package certs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSaveRefusesUnsafeDir: like ssh's StrictModes, no CA is saved where
// other users could replace it: a group- or world-writable CA directory,
// a writable parent without the sticky bit, or a directory owned by
// another user. The message says how to fix it.
func TestSaveRefusesUnsafeDir(t *testing.T) {
	ca, err := NewCA(CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		parentMode os.FileMode // the directory holding the CA directory
		dirMode    os.FileMode // the CA directory; 0: does not exist yet
		chownOther bool        // the CA directory belongs to another user (needs root)
		want       string      // "" saves
	}{
		{"private dir", 0o755, 0o700, false, ""},
		{"new dir in a private parent", 0o700, 0, false, ""},
		{"readable dir", 0o755, 0o755, false, ""},
		{"world-writable dir", 0o755, 0o777, false, "chmod go-w"},
		{"group-writable dir", 0o755, 0o770, false, "chmod go-w"},
		{"sticky world-writable dir", 0o755, os.ModeSticky | 0o777, false, "chmod go-w"},
		{"world-writable parent", 0o777, 0, false, "chmod go-w"},
		{"sticky parent, like /tmp", os.ModeSticky | 0o777, 0, false, ""},
		{"dir of another user", 0o755, 0o700, true, "not by you or root"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.chownOther && os.Geteuid() != 0 {
				t.Skip("giving a directory to another user needs root")
			}
			parent := filepath.Join(t.TempDir(), "parent")
			if err := os.Mkdir(parent, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(parent, c.parentMode)
			dir := filepath.Join(parent, "ca")
			if c.dirMode != 0 {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				os.Chmod(dir, c.dirMode)
				if c.chownOther {
					if err := os.Chown(dir, 4242, 4242); err != nil {
						t.Fatal(err)
					}
				}
			}
			err := ca.Save(dir)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Save: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Save = %v, want ErrUnsafeDir saying %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); err == nil {
				t.Error("the key was written anyway")
			}
		})
	}
}
