// Package exchange is certsleuth's knowledge of Microsoft Exchange and the
// clients that talk to it: it parses Autodiscover answers (ParseAutodiscover),
// lists the settings that hand clients a host name with the cmdlet that
// changes each (Settings), explains pasted client error codes (ExplainError)
// and recognises Microsoft 365's own names. It is data and parsing only, no
// I/O and no judging: package analysis uses it to say where a client got a
// name and what to run to fix it.
package exchange
