package main

import "github.com/urfave/cli/v2"

// pcapCommand is a placeholder until the command is built; it is hidden.
func pcapCommand() *cli.Command {
	return &cli.Command{
		Name:   "pcap",
		Hidden: true,
		Usage:  "not built yet",
		Action: func(c *cli.Context) error {
			return usageErr("pcap: not built yet")
		},
	}
}
