package certs

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TrustStep is one thing Install or Uninstall does: write or remove a
// file, or run a command.
type TrustStep struct {
	WriteFile  string   // write the CA certificate (PEM) here
	RemoveFile string   // remove this file
	Command    []string // run this command
}

func (s TrustStep) String() string {
	switch {
	case s.WriteFile != "":
		return "wrote " + s.WriteFile
	case s.RemoveFile != "":
		return "removed " + s.RemoveFile
	}
	return "ran " + shellQuote(s.Command)
}

// TrustPlan is what installing or removing the CA takes on this system.
type TrustPlan struct {
	Store string      // which trust store, in words
	Steps []TrustStep // in order
	Undo  string      // the command that undoes it, for people
	Note  string      // anything the user must know (a confirmation dialog, browsers with their own store)
}

// TrustOptions control the trust store plans.
type TrustOptions struct {
	// AnchorsDir overrides the Linux anchors directory (tests use a
	// temporary one); "" means the distribution's.
	AnchorsDir string
	// Refresh overrides the Linux command that rebuilds the system bundle;
	// nil means the distribution's.
	Refresh []string
	// Run runs a command; nil means exec with standard output and error
	// passed through. Tests record the commands instead.
	Run func(argv []string) error
}

// Execute carries out the plan for ca, stopping at the first failure. It
// returns the steps done.
func (p *TrustPlan) Execute(ca *CA, o TrustOptions) ([]TrustStep, error) {
	run := o.Run
	if run == nil {
		run = runCommand
	}
	var done []TrustStep
	for _, s := range p.Steps {
		var err error
		switch {
		case s.WriteFile != "":
			if err = os.MkdirAll(filepath.Dir(s.WriteFile), 0o755); err == nil {
				err = os.WriteFile(s.WriteFile, ca.PEM(), 0o644)
			}
		case s.RemoveFile != "":
			err = os.Remove(s.RemoveFile)
			if os.IsNotExist(err) {
				err = nil
			}
		default:
			err = run(s.Command)
		}
		if err != nil {
			what := s.String()
			for _, v := range [][2]string{{"wrote ", "write "}, {"removed ", "remove "}, {"ran ", "run "}} {
				what = strings.Replace(what, v[0], v[1], 1)
			}
			err = fmt.Errorf("%s: %s: %w", p.Store, what, err)
			if os.IsPermission(err) {
				err = fmt.Errorf("%w (run it as an administrator or with sudo)", err)
			}
			return done, err
		}
		done = append(done, s)
	}
	return done, nil
}

func runCommand(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// InstallPlan is what adding ca to the current user's trust store takes.
func InstallPlan(ca *CA, o TrustOptions) (*TrustPlan, error) { return installPlan(ca, o) }

// UninstallPlan is what removing ca from the trust store takes.
func UninstallPlan(ca *CA, o TrustOptions) (*TrustPlan, error) { return uninstallPlan(ca, o) }

// anchorName is the file name the CA gets in an anchors directory.
func anchorName(ca *CA) string {
	return "certsleuth-" + Fingerprint(ca.Cert.Raw)[:16] + ".crt"
}

func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"\\$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

var errNoCertFile = fmt.Errorf("the CA has no certificate file: run 'certsleuth ca init' first")

// sha1Hex is the certificate's SHA-1 thumbprint, upper-case hex, the way
// macOS security(1) and Windows certutil name certificates.
func sha1Hex(ca *CA) string {
	h := sha1.Sum(ca.Cert.Raw)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}
