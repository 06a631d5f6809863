package main

import "github.com/urfave/cli/v2"

// explainErrorCommand is a placeholder until the command is built; it is hidden.
func explainErrorCommand() *cli.Command {
	return &cli.Command{
		Name:   "explain-error",
		Hidden: true,
		Usage:  "not built yet",
		Action: func(c *cli.Context) error {
			return usageErr("explain-error: not built yet")
		},
	}
}
