package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func checkCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("check: not yet implemented")
		},
	}
}
