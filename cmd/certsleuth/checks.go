package main

import (
	"encoding/json"
	"fmt"

	"github.com/certsleuth/certsleuth/analysis"
	"github.com/certsleuth/certsleuth/match"
	"github.com/certsleuth/certsleuth/report"
	"github.com/urfave/cli/v2"
)

func checksCommand() *cli.Command {
	return &cli.Command{
		Name:  "checks",
		Usage: "print the catalog of checks and client profiles",
		Description: `Lists every check certsleuth runs, with its stable ID, severity, the rule
it enforces (citation) and its remedy; then the client profiles.

EXAMPLES:
   certsleuth checks
   certsleuth checks --format json

EXIT CODES:
   0  always, unless the usage is wrong (2)`,
		Flags: []cli.Flag{formatFlag("text", "json")},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErr("checks: takes no arguments, got %q (see 'certsleuth help checks')", c.Args().First())
			}
			w := c.App.Writer
			switch c.String("format") {
			case "json":
				enc := json.NewEncoder(w)
				for _, ch := range analysis.Checks() {
					scope := "all"
					if ch.PerProfile {
						scope = "per-profile"
					}
					if err := enc.Encode(map[string]string{"type": "check", "id": ch.ID, "title": ch.Title, "severity": string(ch.Severity), "citation": ch.Citation, "remedy": ch.Remedy, "scope": scope}); err != nil {
						return err
					}
				}
				for _, p := range match.Profiles() {
					if err := enc.Encode(map[string]any{"type": "profile", "name": p.Name, "aliases": p.Aliases, "title": p.Title, "clients": p.Clients, "source": p.Source, "hedged": p.Hedged, "rules": p.Rules()}); err != nil {
						return err
					}
				}
				return nil
			case "text":
			default:
				return usageErr("checks: unknown --format %q (use text or json)", c.String("format"))
			}
			fmt.Fprintf(w, "CHECKS\n")
			for _, ch := range analysis.Checks() {
				fmt.Fprintf(w, "\n%s  [%s]\n", ch.ID, ch.Severity)
				for _, l := range report.Wrap(ch.Title, 74) {
					fmt.Fprintf(w, "    %s\n", l)
				}
				field(w, "rule", ch.Citation)
				field(w, "remedy", ch.Remedy)
			}
			fmt.Fprintf(w, "\nCLIENT PROFILES\n")
			for _, p := range match.Profiles() {
				fmt.Fprintf(w, "\n%s", p.Name)
				if len(p.Aliases) > 0 {
					fmt.Fprintf(w, " (also: %s)", joinComma(p.Aliases))
				}
				fmt.Fprintf(w, "\n")
				field(w, "models", p.Title)
				field(w, "clients", p.Clients)
				field(w, "source", p.Source)
				if p.Hedged != "" {
					field(w, "hedged", p.Hedged)
				}
				for _, r := range p.Rules() {
					field(w, "rule", r)
				}
			}
			return nil
		},
	}
}

func field(w interface{ Write([]byte) (int, error) }, label, value string) {
	for i, l := range report.Wrap(value, 80-14) {
		if i == 0 {
			fmt.Fprintf(w, "    %-9s %s\n", label+":", l)
		} else {
			fmt.Fprintf(w, "    %-9s %s\n", "", l)
		}
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
