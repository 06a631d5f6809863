package certs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Install and uninstall against a temporary anchors directory; the
// refresh command is recorded, never run.
func TestLinuxTrustStore(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA(CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ran [][]string
	o := TrustOptions{AnchorsDir: dir, Refresh: []string{"update-ca-certificates"}, Run: func(a []string) error { ran = append(ran, a); return nil }}
	p, err := InstallPlan(ca, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(ca, o); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, anchorName(ca))
	b, err := os.ReadFile(f)
	if err != nil || string(b) != string(ca.PEM()) {
		t.Fatalf("anchor %s: %v", f, err)
	}
	u, err := UninstallPlan(ca, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Execute(ca, o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Errorf("anchor still there after uninstall: %v", err)
	}
	want := [][]string{{"update-ca-certificates"}, {"update-ca-certificates", "--fresh"}}
	if !slices.EqualFunc(ran, want, slices.Equal) {
		t.Errorf("ran %q, want %q", ran, want)
	}
}
