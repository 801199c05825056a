package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func statusCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("status: not yet implemented")
		},
	}
}
