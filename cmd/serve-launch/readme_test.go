package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the README's command reference: go test ./cmd/serve-launch -update
var update = flag.Bool("update", false, "rewrite the README's generated command reference")

// commandReference is the README block between the commands markers: the
// --help of the program and of every command, so README and --help cannot
// drift apart.
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

func TestREADMECommandReference(t *testing.T) {
	const begin, end = "<!-- commands:begin -->\n", "<!-- commands:end -->"
	path := "../../README.md"
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "README.md lacks the commands markers")
	want := commandReference(t)
	if *update {
		s = s[:i+len(begin)] + want + s[j:]
		require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
		return
	}
	assert.Equal(t, want, s[i+len(begin):j], "README's command reference is stale: go test ./cmd/serve-launch -run README -update")
}
