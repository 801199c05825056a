package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func reloadCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "reload",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("reload: not yet implemented")
		},
	}
}
