package main

import "github.com/urfave/cli/v2"

// proxyCommand is a placeholder until the command is built; it is hidden.
func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:   "proxy",
		Hidden: true,
		Usage:  "not built yet",
		Action: func(c *cli.Context) error {
			return usageErr("proxy: not built yet")
		},
	}
}
