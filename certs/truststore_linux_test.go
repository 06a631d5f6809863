package certs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// A store that cannot be written says what it tried to do, not "wrote".
func TestLinuxTrustStoreFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "anchors")
	ca, _ := NewCA(CAOptions{})
	o := TrustOptions{AnchorsDir: dir}
	p, _ := InstallPlan(ca, o)
	done, err := p.Execute(ca, o)
	if err == nil || len(done) != 0 || !strings.Contains(err.Error(), "write "+dir) || strings.Contains(err.Error(), "wrote") {
		t.Errorf("got %v after %v", err, done)
	}
}
