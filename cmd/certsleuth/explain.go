package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/exchange"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func explainErrorCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain-error",
		Usage:     "say what a pasted error code or warning text means, and which check fails",
		ArgsUsage: "TEXT...",
		Description: `Looks up what a user pasted: a WinINet or CryptoAPI code (0x80072F06,
-2147012858, 12038, 0x800B010F), a constant or browser error name
(CERT_E_CN_NO_MATCH, NET::ERR_CERT_COMMON_NAME_INVALID), or the words of
a warning dialog (Outlook in English, Norwegian or German; iPhone, Mac
Mail and Android). It prints what the error means, the certsleuth checks
that fail when a client shows it (see 'certsleuth checks') and what to run
next, filled in with any host name found in the text. Several arguments
are joined with spaces, so quoting is optional; put -- before a negative
decimal code (certsleuth explain-error -- -2147012858). Use - to read the
text from standard input (a whole pasted dialog).

EXAMPLES:
   certsleuth explain-error 0x80072f0d
   certsleuth explain-error "NET::ERR_CERT_COMMON_NAME_INVALID"
   certsleuth explain-error "The name of the security certificate is invalid or does not match the name of the site"
   certsleuth explain-error --format json "Cannot Verify Server Identity: exch01.contoso.local"
   certsleuth explain-error - < pasted-dialog.txt

EXIT CODES:
   0  the text was recognised
   2  bad usage, or nothing in the text is known (closest known codes are suggested)`,
		Flags: []cli.Flag{formatFlag("text", "json")},
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if format != "text" && format != "json" {
				return usageErr("explain-error: unknown format %q (use text, json)", format)
			}
			if err := refuseLateFlags(c, "part of the text", "the text", "certsleuth explain-error [flags] TEXT..."); err != nil {
				return err
			}
			args := c.Args().Slice()
			if i := slices.Index(args, "--"); i >= 0 { // "--" ends the flags wherever it stands
				args = slices.Delete(args, i, i+1)
			}
			text := strings.TrimSpace(strings.Join(args, " "))
			if text == "-" {
				b, err := io.ReadAll(io.LimitReader(c.App.Reader, 64<<10))
				if err != nil {
					return inputErr(fmt.Errorf("explain-error: read standard input: %w", err))
				}
				text = strings.TrimSpace(string(b))
			}
			if text == "" {
				return usageErr("explain-error: no TEXT given (an error code such as 0x80072F06, or the warning's words)")
			}
			res := exchange.ExplainError(text)
			var err error
			if format == "json" {
				err = writeExplainJSON(c.App.Writer, res)
			} else {
				err = writeExplainText(c.App.Writer, res)
			}
			if err != nil {
				return fmt.Errorf("explain-error: %w", err)
			}
			if len(res.Matches) == 0 {
				return usageErr("explain-error: %q is not a certificate error certsleuth knows\nhint: did you mean %s?", shorten(text, 60), strings.Join(quoteAll(res.Suggestions), ", "))
			}
			return nil
		},
	}
}

// explainJSON is the JSON form of an explanation: one object with the
// matches and, for each check, its title.
type explainJSON struct {
	exchange.ErrorExplanation
	CheckTitles map[string]string `json:"check_titles"`
}

func writeExplainJSON(w io.Writer, res exchange.ErrorExplanation) error {
	out := explainJSON{ErrorExplanation: res, CheckTitles: map[string]string{}}
	for _, m := range res.Matches {
		for _, id := range m.Checks {
			if c := analysis.LookupCheck(id); c != nil {
				out.CheckTitles[id] = c.Title
			}
		}
	}
	return json.NewEncoder(w).Encode(out)
}

func writeExplainText(w io.Writer, res exchange.ErrorExplanation) error {
	var b strings.Builder
	if len(res.Matches) == 0 {
		return nil // the error and its hint go to standard error
	}
	field := func(label, value string) {
		pad := fmt.Sprintf("   %-10s", label)
		for i, l := range report.Wrap(value, 80-len(pad)) {
			if i == 0 {
				fmt.Fprintf(&b, "%s%s\n", pad, l)
			} else {
				fmt.Fprintf(&b, "%s%s\n", strings.Repeat(" ", len(pad)), l)
			}
		}
	}
	for i, m := range res.Matches {
		if i > 0 {
			b.WriteString("\n")
		}
		head := m.ID
		if m.Code != "" {
			head = m.Code + "  " + head
		}
		if len(m.Names) > 0 && !strings.HasPrefix(m.Names[0], "1") {
			head += "  " + m.Names[0]
		}
		fmt.Fprintf(&b, "%s\n", head)
		field("matched", fmt.Sprintf("%q", m.Matched))
		field("shown by", m.Where)
		field("means", m.Meaning)
		field("checks", strings.Join(m.Checks, ", ")+" (see 'certsleuth checks')")
		if m.Note != "" {
			field("note", m.Note)
		}
		for j, n := range m.Next {
			label := ""
			if j == 0 {
				label = "next"
			}
			field(label, n)
		}
		field("source", m.Citation)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
