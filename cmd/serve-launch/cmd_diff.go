package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func diffCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "diff",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("diff: not yet implemented")
		},
	}
}
