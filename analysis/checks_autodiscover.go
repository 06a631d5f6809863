package analysis

import (
	"fmt"
	"strings"

	"github.com/certsleuth/certsleuth/exchange"
)

func init() {
	mustRegister(
		&Check{
			ID: "autodiscover.malformed", Title: "An Autodiscover answer could not be read", Severity: SeverityWarning,
			Citation: "MS-OXDSCLI §2.2.4; MS-ASCMD §2.2.1.1; MS-OXWSADISC",
			Remedy:   "Look at the answer the server sent (a login page, a proxy error or a cut-short body instead of Autodiscover XML): the client gets no URLs from it and moves on to its next candidate.",
			Run: func(s *Subject) *Finding {
				a, err := exchange.AutodiscoverOf(s.Obs)
				if err == nil || a != nil {
					return nil
				}
				return &Finding{
					Summary:  fmt.Sprintf("the Autodiscover answer from %s could not be read: %v", firstNonEmpty(s.Obs.URL, s.Name), err),
					Evidence: []Evidence{{Label: "content type", Value: s.Obs.Body.ContentType, From: "response"}, {Label: "body starts", Value: bodyStart(s.Obs.Body.Text), From: "response"}},
				}
			},
		},
		&Check{
			ID: "autodiscover.error", Title: "Autodiscover answered with an error", Severity: SeverityInfo,
			Citation: "MS-OXDSCLI §2.2.4.1.1.3 (ErrorCode); MS-OXWSADISC ErrorCode",
			Remedy:   "The client moves on to its next Autodiscover candidate; if no candidate answers with settings, check the mailbox address and the Autodiscover virtual directory.",
			Run: func(s *Subject) *Finding {
				a, err := exchange.AutodiscoverOf(s.Obs)
				if err != nil || a == nil || a.ErrorCode == "" {
					return nil
				}
				return &Finding{Summary: fmt.Sprintf("the %s Autodiscover answer is error %s%s", a.Form, a.ErrorCode, prefixIf(": ", a.ErrorMessage))}
			},
		},
	)
}

func prefixIf(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func bodyStart(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}
