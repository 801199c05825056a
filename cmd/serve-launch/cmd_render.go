package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func renderCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "render",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("render: not yet implemented")
		},
	}
}
