package main

import "github.com/urfave/cli/v2"

// caCommand is a placeholder until the command is built; it is hidden.
func caCommand() *cli.Command {
	return &cli.Command{
		Name:   "ca",
		Hidden: true,
		Usage:  "not built yet",
		Action: func(c *cli.Context) error {
			return usageErr("ca: not built yet")
		},
	}
}
