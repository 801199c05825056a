package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/require"
)

// commandReference is docs/reference.md's block between the commands
// markers: the --help of the program and of every command, so the
// reference and --help cannot drift apart.
func commandReference(t *testing.T) string {
	var b strings.Builder
	help := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"serve-launch"}, args...), &stdout, &stderr)
		require.Equal(t, 0, code, "%v: %s", args, stderr.String())
		return strings.TrimRight(stdout.String(), "\n")
	}
	b.WriteString("```text\n" + help("--help") + "\n```\n")
	for _, c := range newApp(newOutput(nil, nil)).Commands {
		b.WriteString("\n### serve-launch " + c.Name + "\n\n```text\n" + help(c.Name, "--help") + "\n```\n")
	}
	return b.String()
}

func TestCommandReference(t *testing.T) {
	testenv.GoldenSection(t, "../../docs/reference.md", "<!-- commands:begin -->\n", "<!-- commands:end -->", commandReference(t))
}
