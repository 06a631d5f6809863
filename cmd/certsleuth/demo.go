package main

import "github.com/urfave/cli/v2"

// demoCommand is a placeholder until the command is built; it is hidden.
func demoCommand() *cli.Command {
	return &cli.Command{
		Name:   "demo",
		Hidden: true,
		Usage:  "not built yet",
		Action: func(c *cli.Context) error {
			return usageErr("demo: not built yet")
		},
	}
}
