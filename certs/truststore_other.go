//go:build !linux && !darwin && !windows

package certs

import (
	"fmt"
	"runtime"
)

func installPlan(*CA, TrustOptions) (*TrustPlan, error) {
	return nil, fmt.Errorf("installing a CA is not supported on %s: import the file from 'certsleuth ca path' by hand", runtime.GOOS)
}

func uninstallPlan(*CA, TrustOptions) (*TrustPlan, error) {
	return nil, fmt.Errorf("removing a CA is not supported on %s: delete it from the trust store by hand", runtime.GOOS)
}
