package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCASaveLoad(t *testing.T) {
	tests := []struct {
		name string
		opts CAOptions
		rsa  bool
	}{
		{"ecdsa default", CAOptions{}, false},
		{"rsa", CAOptions{RSA: true}, true},
		{"constrained", CAOptions{NameConstraints: []string{"contoso.com"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			ca, err := NewCA(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := ca.Save(dir); err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" {
				st, err := os.Stat(filepath.Join(dir, CAKeyFile))
				if err != nil {
					t.Fatal(err)
				}
				if m := st.Mode().Perm(); m != 0o600 {
					t.Errorf("key mode %04o, want 0600", m)
				}
			}
			got, err := LoadCA(dir)
			if err != nil {
				t.Fatal(err)
			}
			c := got.Cert
			if !c.IsCA || !c.MaxPathLenZero || c.MaxPathLen != 0 {
				t.Errorf("IsCA=%v MaxPathLenZero=%v MaxPathLen=%d, want a CA that can sign leaves only", c.IsCA, c.MaxPathLenZero, c.MaxPathLen)
			}
			if c.Subject.CommonName == "" || c.Subject.CommonName == "GoProxy" {
				t.Errorf("subject CN %q does not name the user and host", c.Subject.CommonName)
			}
			_, isRSA := got.Key.(*rsa.PrivateKey)
			_, isEC := got.Key.(*ecdsa.PrivateKey)
			if isRSA != tc.rsa || isEC == tc.rsa {
				t.Errorf("key type %T, rsa=%v wanted", got.Key, tc.rsa)
			}
			if err := ca.Save(dir); !errors.Is(err, fs.ErrExist) {
				t.Errorf("second Save: %v, want it to refuse to overwrite", err)
			}
		})
	}
}

func TestLoadCAErrors(t *testing.T) {
	if _, err := LoadCA(t.TempDir()); !errors.Is(err, ErrNoCA) {
		t.Errorf("empty dir: %v, want ErrNoCA", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	dir := t.TempDir()
	ca, _ := NewCA(CAOptions{})
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(dir); err == nil {
		t.Error("LoadCA accepted a world-readable key")
	}
}

// A name-constrained CA: leaves inside the constraint verify with Go's
// verifier, leaves outside it (and IP leaves) do not.
func TestNameConstraint(t *testing.T) {
	ca, err := NewCA(CAOptions{NameConstraints: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMinter(ca, 0)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tests := []struct {
		name   string
		host   string
		accept bool
	}{
		{"apex", "contoso.com", true},
		{"inside", "mail.contoso.com", true},
		{"deep inside", "a.b.contoso.com", true},
		{"outside", "www.example.com", false},
		{"suffix trick", "evilcontoso.com", false},
		{"ip address", "10.0.0.5", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ca.Permits(tc.host); got != tc.accept {
				t.Errorf("Permits(%q) = %v, want %v", tc.host, got, tc.accept)
			}
			leaf, err := m.Leaf(SpecFor(tc.host))
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Leaf.Verify(x509.VerifyOptions{DNSName: tc.host, Roots: roots})
			if tc.accept && err != nil {
				t.Errorf("leaf for %s refused: %v", tc.host, err)
			}
			if !tc.accept && err == nil {
				t.Errorf("leaf for %s accepted by Go verification despite the constraint", tc.host)
			}
			var ci x509.CertificateInvalidError
			if !tc.accept && err != nil && (!errors.As(err, &ci) || ci.Reason != x509.CANotAuthorizedForThisName) {
				t.Errorf("leaf for %s refused for %v, want CANotAuthorizedForThisName", tc.host, err)
			}
		})
	}
}

func TestNewCABadConstraint(t *testing.T) {
	for _, d := range []string{"", "contoso.com/x", "a b"} {
		if _, err := NewCA(CAOptions{NameConstraints: []string{d}}); err == nil {
			t.Errorf("constraint %q accepted", d)
		}
	}
}

func TestCAValidity(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := NewCA(CAOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.NotBefore.Before(now) || ca.Cert.NotAfter.Before(now.AddDate(9, 0, 0)) {
		t.Errorf("validity %v..%v", ca.Cert.NotBefore, ca.Cert.NotAfter)
	}
}

// The CA lives in the user's config dir, or where CERTSLEUTH_CA_DIR says.
func TestDefaultCADir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("HOME", tmp)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(tmp, "cfg"))
	t.Setenv("AppData", filepath.Join(tmp, "cfg"))
	t.Setenv(CADirEnv, "")
	d, err := DefaultCADir()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := os.UserConfigDir()
	if d != filepath.Join(base, "certsleuth") || !strings.HasPrefix(d, tmp) {
		t.Errorf("DefaultCADir = %q, want certsleuth under %q", d, base)
	}
	t.Setenv(CADirEnv, filepath.Join(tmp, "elsewhere"))
	if d, _ := DefaultCADir(); d != filepath.Join(tmp, "elsewhere") {
		t.Errorf("with %s set: %q", CADirEnv, d)
	}
}

// LoadOrCreateCA makes a CA once, then loads the same one; its subject
// names the user and the host.
func TestLoadOrCreateCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, created, err := LoadOrCreateCA(dir, CAOptions{})
	if err != nil || !created {
		t.Fatalf("first call: created=%v %v", created, err)
	}
	b, created, err := LoadOrCreateCA(dir, CAOptions{})
	if err != nil || created {
		t.Fatalf("second call: created=%v %v", created, err)
	}
	if !a.Cert.Equal(b.Cert) {
		t.Error("second call made a new CA instead of loading the first")
	}
	host, _ := os.Hostname()
	if cn := a.Cert.Subject.CommonName; !strings.HasPrefix(cn, "certsleuth CA ") || !strings.HasSuffix(cn, "@"+host) {
		t.Errorf("subject CN %q does not name user@host", cn)
	}
	if a.KeyPath() != filepath.Join(dir, CAKeyFile) || a.CertPath() != filepath.Join(dir, CACertFile) {
		t.Errorf("paths %q %q", a.KeyPath(), a.CertPath())
	}
	// A damaged CA is reported, not silently replaced.
	if err := os.WriteFile(filepath.Join(dir, CACertFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateCA(dir, CAOptions{}); err == nil {
		t.Error("a damaged CA was replaced without an error")
	}
}
