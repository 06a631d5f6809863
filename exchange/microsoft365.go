package exchange

import "strings"

// microsoft365Suffixes are the domains of Microsoft 365's own servers:
// Exchange Online (outlook.office365.com, outlook.office.com), its
// Autodiscover (autodiscover-s.outlook.com; autodiscover.<tenant>.onmicrosoft.com
// is a CNAME to autodiscover.outlook.com) and sign-in. Microsoft Learn
// "Microsoft 365 URLs and IP address ranges" (Exchange Online, ID 1-2, 8-9).
var microsoft365Suffixes = []string{"office365.com", "outlook.com", "office.com", "onmicrosoft.com", "microsoftonline.com"}

// IsMicrosoft365Host reports whether h is a Microsoft 365 server name:
// its certificate is Microsoft's, not the organisation's.
func IsMicrosoft365Host(h string) bool {
	h = NormHost(h)
	for _, s := range microsoft365Suffixes {
		if h == s || strings.HasSuffix(h, "."+s) {
			return true
		}
	}
	return false
}

// IsMicrosoft365Domain reports whether an email domain (or a URL or host
// in it) is a Microsoft 365 tenant domain (<tenant>.mail.onmicrosoft.com,
// the target of a hybrid mailbox's remote routing address) or another
// Microsoft 365 name.
func IsMicrosoft365Domain(d string) bool {
	if h, _, _ := URLHostPath(d); h != "" {
		d = h
	}
	return IsMicrosoft365Host(d)
}
