package hapcheck

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/hapkw"
	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// fakeHAProxy writes a stand-in haproxy: -v prints a 2.6 banner, -c -f PATH
// prints what haproxy 2.6 prints about lines 3 and 5 of PATH and fails.
func fakeHAProxy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy")
	script := `#!/bin/sh
if [ "$1" = "-v" ]; then echo "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/"; exit 0; fi
f="$3"
echo "[NOTICE]   (1) : haproxy version is 2.6.12"
echo "[WARNING]  (1) : config : parsing [$f:3] : a 'http-request' rule placed after a 'use_backend' rule will still be processed before."
echo "[ALERT]    (1) : config : parsing [$f:5] : unknown keyword 'stats-file' in 'global' section"
echo "[ALERT]    (1) : config : Error(s) found in configuration file : $f"
echo "[ALERT]    (1) : config : Fatal errors found in configuration."
exit 1
`
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

// patched is a config whose lines 3 and 5 (as rendered) came from the
// generated file and from a snippet.
func patched(t *testing.T) *config.File {
	t.Helper()
	f, err := config.Parse("ray.cfg", []byte("global\n    maxconn 10\nfrontend f\n    bind :80\n"))
	require.NoError(t, err)
	f.Sections[0].Body = append(f.Sections[0].Body, config.NewLine("    stats-file /x\n", config.Position{File: "10-x.toml", Line: 4}))
	return f
}

// TestCheckMapsLines: each message naming a line points at where the line
// came from; haproxy's summary lines, which repeat the temporary path, are
// left out.
func TestCheckMapsLines(t *testing.T) {
	f := patched(t)
	require.Equal(t, "    stats-file /x\n", f.LineAt(3).Raw)
	res, err := Check(context.Background(), fakeHAProxy(t), f)
	require.NoError(t, err)
	assert.False(t, res.OK)
	require.Len(t, res.Messages, 2, "%+v", res.Messages)
	assert.Equal(t, Message{Level: "WARNING", Text: "a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
		Line: 3, Source: config.Position{File: "10-x.toml", Line: 4}, FromSnippet: true}, res.Messages[0])
	assert.Equal(t, "10-x.toml:4: haproxy warning on the line this snippet wrote: a 'http-request' rule placed after a 'use_backend' rule will still be processed before.", res.Messages[0].String())
	assert.Equal(t, Message{Level: "ALERT", Text: "unknown keyword 'stats-file' in 'global' section",
		Line: 5, Source: config.Position{File: "ray.cfg", Line: 4}}, res.Messages[1])
	assert.Equal(t, "ray.cfg:4: haproxy alert: unknown keyword 'stats-file' in 'global' section", res.Messages[1].String())
	assert.Contains(t, res.Output, "Fatal errors found")
}

// TestCheckCannotRun: a haproxy that cannot run gives an error, not a
// verdict.
func TestCheckCannotRun(t *testing.T) {
	_, err := Check(context.Background(), filepath.Join(t.TempDir(), "nothing"), patched(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "running ")
}

// TestVersionExplainer: an alert on a snippet's line that an older haproxy
// gives for a keyword the target has is explained; other messages are not.
func TestVersionExplainer(t *testing.T) {
	hap := fakeHAProxy(t)
	f := patched(t)
	explain := VersionExplainer(hap, f, hapkw.Version{Major: 3, Minor: 0})
	msg := Message{Level: "ALERT", Text: "unknown keyword 'stats-file' in 'global' section", Line: 3, Source: config.Position{File: "10-x.toml", Line: 4}, FromSnippet: true}
	got := explain(msg)
	assert.Contains(t, got, "10-x.toml:4: this haproxy is 2.6; HAProxy 3.0 (--haproxy-version) has ")
	assert.Contains(t, got, "(haproxy 2.6 said: unknown keyword 'stats-file' in 'global' section)")
	msg.FromSnippet = false
	assert.Empty(t, explain(msg), "Ray's own lines are not explained")
}
