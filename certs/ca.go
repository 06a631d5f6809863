package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// CA file names inside a CA directory.
const (
	CACertFile = "certsleuth-ca.pem"     // the CA certificate, PEM; safe to share
	CAKeyFile  = "certsleuth-ca-key.pem" // the CA private key, PKCS #8 PEM, mode 0600
)

// CA is a certificate authority that signs leaves for the proxy.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Dir is where the CA was loaded from or saved to ("" for an
	// in-memory CA such as the untrusted mirror CA).
	Dir string
}

// CAOptions control NewCA.
type CAOptions struct {
	// NameConstraints limits the CA to these DNS domains (RFC 5280
	// §4.2.1.10 permittedSubtrees, marked critical): clients then refuse any
	// leaf it signs for a name outside them, so installing the CA cannot be
	// abused for other sites. Empty means unconstrained.
	NameConstraints []string
	// RSA makes an RSA-2048 key instead of ECDSA P-256 (for very old clients).
	RSA bool
	// CommonName overrides the subject CN; "" names the user and host.
	CommonName string
	// Organization is the subject O; "" means "certsleuth local CA".
	Organization string
	// Validity is how long the CA is valid; zero means 10 years.
	Validity time.Duration
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// DefaultCAName is the subject CN of a CA made for the current user and
// host: "certsleuth CA alice@lab-pc".
func DefaultCAName() string {
	who := "user"
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
		if i := strings.LastIndexAny(who, `\`); i >= 0 { // DOMAIN\user on Windows
			who = who[i+1:]
		}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return "certsleuth CA " + who + "@" + host
}

// NewCA generates a CA in memory. Save writes it to a directory.
func NewCA(o CAOptions) (*CA, error) {
	var key crypto.Signer
	var err error
	if o.RSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("new CA: generate key: %w", err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := o.Validity
	if validity == 0 {
		validity = 10 * 365 * 24 * time.Hour
	}
	cn := o.CommonName
	if cn == "" {
		cn = DefaultCAName()
	}
	org := o.Organization
	if org == "" {
		org = "certsleuth local CA"
	}
	var constraints []string
	for _, d := range o.NameConstraints {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		d = strings.TrimPrefix(d, "*.")
		if d == "" || strings.ContainsAny(d, " /*:") {
			return nil, fmt.Errorf("new CA: name constraint %q is not a DNS domain (want e.g. contoso.com)", d)
		}
		constraints = append(constraints, d)
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("new CA: %w", err)
	}
	skid := keyID(spki)
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{org}, OrganizationalUnit: []string{hostOU()}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true, // leaves only: no sub-CA can be made from it
		SubjectKeyId:          skid,
	}
	if len(constraints) > 0 {
		tmpl.PermittedDNSDomainsCritical = true
		tmpl.PermittedDNSDomains = constraints
		// No IP address may be certified: an empty excluded-everything range.
		tmpl.ExcludedIPRanges = excludeAllIPs()
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("new CA: sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

func hostOU() string {
	h, _ := os.Hostname()
	if h == "" {
		return "made by certsleuth ca init"
	}
	return "made by certsleuth ca init on " + h
}

// Save writes the CA certificate (0644) and key (0600) into dir, creating
// dir (0700). It refuses to overwrite an existing CA, and to use a dir
// that other users can write to (ErrUnsafeDir).
func (ca *CA) Save(dir string) error {
	if err := checkDirSafe(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("save CA: %s already exists: %w", p, fs.ErrExist)
		}
	}
	kder, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	// Key first, created 0600 from the start (never world-readable, not even briefly).
	kf, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	if err := pem.Encode(kf, &pem.Block{Type: "PRIVATE KEY", Bytes: kder}); err != nil {
		kf.Close()
		return fmt.Errorf("save CA: write %s: %w", keyPath, err)
	}
	if err := kf.Close(); err != nil {
		return fmt.Errorf("save CA: write %s: %w", keyPath, err)
	}
	if err := os.WriteFile(certPath, ca.PEM(), 0o644); err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	ca.Dir = dir
	return nil
}

// PEM is the CA certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// CertPath is the CA certificate's file ("" for an in-memory CA).
func (ca *CA) CertPath() string {
	if ca.Dir == "" {
		return ""
	}
	return filepath.Join(ca.Dir, CACertFile)
}

// ErrNoCA is returned by LoadCA when the directory holds no CA.
var ErrNoCA = errors.New("no CA: run 'certsleuth ca init' first")

// LoadCA reads the CA saved in dir. It refuses a key file that others can
// read (on systems with Unix permissions) and a certificate that is not a CA
// or does not belong to the key.
func LoadCA(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	cb, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load CA from %s: %w", dir, ErrNoCA)
	}
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load CA key: %w", err)
	}
	if err := checkKeyMode(keyPath); err != nil {
		return nil, err
	}
	cs, err := ParseCertificates(cb)
	if err != nil {
		return nil, fmt.Errorf("load CA: %s: %w", certPath, err)
	}
	b, _ := pem.Decode(kb)
	if b == nil {
		return nil, fmt.Errorf("load CA key: %s: no PEM block", keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load CA key: %s: %w", keyPath, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("load CA key: %s: unsupported key type %T", keyPath, k)
	}
	cert := cs[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("load CA: %s is not a CA certificate", certPath)
	}
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, fmt.Errorf("load CA: %s does not belong to the key in %s", certPath, keyPath)
	}
	return &CA{Cert: cert, Key: signer, Dir: dir}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// keyID is the RFC 5280 §4.2.1.2 method (1) key identifier over the
// encoded public key (SHA-1 is what the RFC names; it is an identifier, not a signature).
func keyID(spki []byte) []byte {
	h := sha1.Sum(spki)
	return h[:]
}

// excludeAllIPs forbids every IPv4 and IPv6 address (RFC 5280 §4.2.1.10):
// a name-constrained CA must not certify IP addresses either.
func excludeAllIPs() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
	}
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("certs: crypto/rand failed: " + err.Error())
	}
	return n.Add(n, big.NewInt(1))
}

// CADirEnv names an environment variable that, when set, overrides where
// the CA lives (DefaultCADir).
const CADirEnv = "CERTSLEUTH_CA_DIR"

// DefaultCADir is where the current user's CA lives: $CERTSLEUTH_CA_DIR,
// else "certsleuth" in os.UserConfigDir (~/.config/certsleuth on Linux,
// ~/Library/Application Support/certsleuth on macOS, %AppData%\certsleuth
// on Windows).
func DefaultCADir() (string, error) {
	if d := os.Getenv(CADirEnv); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the CA directory: %w (set %s)", err, CADirEnv)
	}
	return filepath.Join(base, "certsleuth"), nil
}

// KeyPath is the CA private key's file ("" for an in-memory CA).
func (ca *CA) KeyPath() string {
	if ca.Dir == "" {
		return ""
	}
	return filepath.Join(ca.Dir, CAKeyFile)
}

// LoadOrCreateCA loads the CA in dir, or makes and saves one with o when
// there is none. created reports which happened.
func LoadOrCreateCA(dir string, o CAOptions) (ca *CA, created bool, err error) {
	ca, err = LoadCA(dir)
	if err == nil || !errors.Is(err, ErrNoCA) {
		return ca, false, err
	}
	if ca, err = NewCA(o); err != nil {
		return nil, false, err
	}
	if err := ca.Save(dir); err != nil {
		return nil, false, err
	}
	return ca, true, nil
}
