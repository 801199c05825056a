package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func envCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "env",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("env: not yet implemented")
		},
	}
}
