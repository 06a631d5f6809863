package analysis

import (
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
)

// TestErrorCodeChecksExist: every row of the error-code table names checks
// that are registered.
func TestErrorCodeChecksExist(t *testing.T) {
	for _, e := range exchange.ErrorCodes {
		for _, c := range e.Checks {
			if LookupCheck(c) == nil {
				t.Errorf("%s names unknown check %q", e.ID, c)
			}
		}
	}
}
