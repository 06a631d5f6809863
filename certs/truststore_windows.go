package certs

// Windows: the current user's ROOT store via certutil -user (the CryptoAPI
// store WinINet, WinHTTP, Outlook, Edge and Chrome use).
func installPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	if ca.CertPath() == "" {
		return nil, errNoCertFile
	}
	return &TrustPlan{
		Store: "Windows current user ROOT store (Cert:\\CurrentUser\\Root)",
		Steps: []TrustStep{{Command: []string{"certutil", "-user", "-addstore", "Root", ca.CertPath()}}},
		Undo:  "certsleuth ca uninstall (or: certutil -user -delstore Root " + sha1Hex(ca) + ")",
		Note:  "Windows shows a security warning asking you to confirm the new root; answer Yes. Firefox keeps its own store unless security.enterprise_roots.enabled is set.",
	}, nil
}

func uninstallPlan(ca *CA, o TrustOptions) (*TrustPlan, error) {
	return &TrustPlan{
		Store: "Windows current user ROOT store (Cert:\\CurrentUser\\Root)",
		// The SHA-1 thumbprint names exactly this certificate (a serial
		// number could match another root).
		Steps: []TrustStep{{Command: []string{"certutil", "-user", "-delstore", "Root", sha1Hex(ca)}}},
		Undo:  "certsleuth ca install",
	}, nil
}
