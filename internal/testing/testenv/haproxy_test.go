package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFindHAProxy checks how $HAPROXY is read: an absolute path or a name
// is used as given (never PATH's haproxy instead), a relative path and a
// binary that does not say its version are refused with the reason.
func TestFindHAProxy(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755))
		return p
	}
	fake := script("fake-haproxy", "echo 'HAProxy version 3.0.11-1+deb13u5 2026/11/18 - https://haproxy.org/'\necho 'Status: long-term supported branch'\n")
	mute := script("mute-haproxy", "echo 'nginx version: nginx/1.22.1'\n")
	broken := script("broken-haproxy", "echo 'error while loading shared libraries' >&2\nexit 127\n")
	tests := []struct {
		name, env    string
		path, banner string
		version      HAProxyVersion
		err          string
	}{
		{name: "absolute path", env: fake, path: fake, banner: "HAProxy version 3.0.11-1+deb13u5 2026/11/18 - https://haproxy.org/", version: HAProxyVersion{3, 0}},
		{name: "relative path", env: "bin/haproxy", err: "HAPROXY=bin/haproxy: give an absolute path (make test makes it absolute)"},
		{name: "missing", env: filepath.Join(dir, "none"), err: "HAPROXY=" + filepath.Join(dir, "none") + ": exec: \"" + filepath.Join(dir, "none") + "\": stat " + filepath.Join(dir, "none") + ": no such file or directory"},
		{name: "no version", env: mute, err: mute + " -v does not say its version: \"nginx version: nginx/1.22.1\""},
		{name: "does not run", env: broken, err: broken + " -v: exit status 127: error while loading shared libraries\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := findHAProxy(tt.env)
			if tt.err != "" {
				require.EqualError(t, f.err, tt.err)
				return
			}
			require.NoError(t, f.err)
			assert.Equal(t, tt.path, f.path)
			assert.Equal(t, tt.banner, f.banner)
			assert.Equal(t, tt.version, f.version)
		})
	}
	v := HAProxyVersion{2, 8}
	assert.True(t, v.AtLeast(2, 6))
	assert.True(t, v.AtLeast(2, 8))
	assert.False(t, v.AtLeast(3, 0))
	assert.Equal(t, "2.8", v.String())
}
