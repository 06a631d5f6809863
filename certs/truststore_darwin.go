package certs

import (
	"os"
	"path/filepath"
)

func loginKeychain() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return "login.keychain-db"
	}
	return filepath.Join(home, "Library", "Keychains", "login.keychain-db")
}

// macOS: the login keychain, trusted for SSL by the current user
// (security(1) add-trusted-cert without -d is the user trust domain).
func installPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	if ca.CertPath() == "" {
		return nil, errNoCertFile
	}
	kc := loginKeychain()
	return &TrustPlan{
		Store: "login keychain " + kc + " (user trust settings)",
		Steps: []TrustStep{{Command: []string{"security", "add-trusted-cert", "-r", "trustRoot", "-p", "ssl", "-k", kc, ca.CertPath()}}},
		Undo:  "certsleuth ca uninstall",
		Note:  "macOS asks for your password to change trust settings. Firefox keeps its own store unless security.enterprise_roots.enabled is set.",
	}, nil
}

func uninstallPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	if ca.CertPath() == "" {
		return nil, errNoCertFile
	}
	kc := loginKeychain()
	return &TrustPlan{
		Store: "login keychain " + kc,
		Steps: []TrustStep{
			{Command: []string{"security", "remove-trusted-cert", ca.CertPath()}},
			{Command: []string{"security", "delete-certificate", "-Z", sha1Hex(ca), kc}},
		},
		Undo: "certsleuth ca install",
	}, nil
}
