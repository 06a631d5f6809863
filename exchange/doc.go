// Package exchange is certsleuth's knowledge of Microsoft Exchange and the
// clients that talk to it: it parses Autodiscover answers
// (ParseAutodiscover), lists the settings that hand clients a host name with
// the cmdlet that changes each (Settings), says whether Outlook Anywhere
// accepts a certificate for its msstd: principal (CheckPrincipal), explains
// pasted client error codes (ExplainError) and recognises Microsoft 365's
// own names. It does no I/O and registers no checks: package analysis uses
// it to say where a client got a name and what to run to fix it.
package exchange
