package certs

import (
	"errors"
	"os"
	"path/filepath"
)

// linuxStore is one distribution family's anchors directory and the command
// that rebuilds the system bundle from it.
type linuxStore struct {
	dir     string
	refresh []string
}

// The anchors directories, in the order they are looked for.
var linuxStores = []linuxStore{
	{"/usr/local/share/ca-certificates", []string{"update-ca-certificates"}},           // Debian, Ubuntu, Alpine
	{"/etc/pki/ca-trust/source/anchors", []string{"update-ca-trust", "extract"}},       // Fedora, RHEL
	{"/etc/ca-certificates/trust-source/anchors", []string{"trust", "extract-compat"}}, // Arch
	{"/usr/share/pki/trust/anchors", []string{"update-ca-certificates"}},               // openSUSE
}

func linuxStoreFor(o TrustOptions) (linuxStore, error) {
	if o.AnchorsDir != "" {
		return linuxStore{o.AnchorsDir, o.Refresh}, nil
	}
	for _, s := range linuxStores {
		if st, err := os.Stat(s.dir); err == nil && st.IsDir() {
			if o.Refresh != nil {
				s.refresh = o.Refresh
			}
			return s, nil
		}
	}
	return linuxStore{}, errors.New("no known CA anchors directory (looked for Debian, Fedora, Arch and openSUSE layouts); import the certificate from 'certsleuth ca path' by hand")
}

const linuxNote = "Linux has no per-user store: this is the system bundle (run as root). Firefox and Chrome keep their own NSS store (~/.pki/nssdb); import the PEM there with certutil -A if they must trust it."

func installPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	s, err := linuxStoreFor(o)
	if err != nil {
		return nil, err
	}
	p := &TrustPlan{Store: "system anchors " + s.dir, Note: linuxNote, Undo: "certsleuth ca uninstall"}
	p.Steps = append(p.Steps, TrustStep{WriteFile: filepath.Join(s.dir, anchorName(ca))})
	if len(s.refresh) > 0 {
		p.Steps = append(p.Steps, TrustStep{Command: s.refresh})
	}
	return p, nil
}

func uninstallPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	s, err := linuxStoreFor(o)
	if err != nil {
		return nil, err
	}
	p := &TrustPlan{Store: "system anchors " + s.dir, Note: linuxNote, Undo: "certsleuth ca install"}
	p.Steps = append(p.Steps, TrustStep{RemoveFile: filepath.Join(s.dir, anchorName(ca))})
	if len(s.refresh) > 0 {
		p.Steps = append(p.Steps, TrustStep{Command: append(append([]string{}, s.refresh...), refreshFreshFlag(s.refresh)...)})
	}
	return p, nil
}

// refreshFreshFlag makes Debian's update-ca-certificates drop removed anchors.
func refreshFreshFlag(refresh []string) []string {
	if len(refresh) == 1 && refresh[0] == "update-ca-certificates" {
		return []string{"--fresh"}
	}
	return nil
}
