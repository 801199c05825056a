package main

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func migrateCommand(out *output) *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "not yet implemented",
		Action: func(*cli.Context) error {
			return errors.New("migrate: not yet implemented")
		},
	}
}
