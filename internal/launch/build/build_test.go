package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/patch"
	"github.com/serve-launch/serve-launch/internal/patch/load"
	"github.com/serve-launch/serve-launch/internal/proc/shim"
	"github.com/serve-launch/serve-launch/internal/proc/state"
	"github.com/serve-launch/serve-launch/internal/testing/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// builderFixture is a generated config haproxy -c accepts, and a haproxy
// wrapper that counts its runs, so a test can tell a cached verdict from a
// check.
type builderFixture struct {
	gen     []byte
	haproxy string
	runs    string
	scratch string
}

func newBuilderFixture(t *testing.T) builderFixture {
	t.Helper()
	dir := t.TempDir()
	f := builderFixture{
		gen: []byte("global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n" +
			"frontend http_frontend\n    bind 127.0.0.1:1\n    default_backend app\nbackend app\n    server s1 127.0.0.1:2\n"),
		runs:    filepath.Join(dir, "runs"),
		haproxy: filepath.Join(dir, "haproxy"),
		scratch: filepath.Join(dir, "check.cfg"),
	}
	script := "#!/bin/sh\necho run >> " + f.runs + "\nexec " + testenv.HAProxy(t) + " \"$@\"\n"
	require.NoError(t, os.WriteFile(f.haproxy, []byte(script), 0o755))
	return f
}

func (f builderFixture) checks(t *testing.T) int {
	data, err := os.ReadFile(f.runs)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(data), "run\n")
}

func writeSnippets(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return dir
}

// TestBuilderQuarantines: each way a snippet file can fail leaves that file
// out, whole, with its file:line, and every other file applies: a file that
// does not load, one whose selector matches nothing, and one whose line
// haproxy -c refuses (found by running it, and mapped back to the snippet).
func TestBuilderQuarantines(t *testing.T) {
	f := newBuilderFixture(t)
	dir := writeSnippets(t, map[string]string{
		"10-good.toml":     "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 500\"]\n",
		"20-broken.toml":   "[[edit]\n",
		"30-nomatch.toml":  "[[edit]]\nsection = \"backend no-such-app\"\nset = [\"retries 2\"]\n",
		"40-refused.toml":  "[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue forever\"]\n",
		"50-good-too.toml": "[[edit]]\nsection = \"defaults\"\nset = [\"timeout http-request 30s\"]\n",
	})
	verdicts := filepath.Join(t.TempDir(), "verdicts")
	o, loadErr := load.Dir(dir, load.Options{})
	require.Error(t, loadErr)
	b := &Builder{Load: func() (*patch.Overrides, error) { return o, loadErr }, Apply: patch.ApplyOptions{Getenv: lookup(nil)},
		HAProxy: f.haproxy, Verdicts: verdicts}
	res := b.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: f.gen, Scratch: f.scratch})

	assert.Empty(t, res.Unpatched)
	var names []string
	for _, q := range res.Quarantined {
		names = append(names, q.Name)
	}
	assert.Equal(t, []string{"20-broken.toml", "30-nomatch.toml", "40-refused.toml"}, names)
	assert.Contains(t, res.Quarantined[1].Error, "30-nomatch.toml:1")
	assert.Contains(t, res.Quarantined[2].Error, "40-refused.toml:3: haproxy -c refuses the line this snippet wrote")
	assert.Contains(t, res.Quarantined[2].Error, "timeout")
	var applied []string
	for _, sn := range res.Snippets {
		applied = append(applied, sn.Name)
	}
	assert.Equal(t, []string{"10-good.toml", "50-good-too.toml"}, applied)
	assert.Contains(t, string(res.Bytes()), "maxconnrate 500")
	assert.Contains(t, string(res.Bytes()), "timeout http-request 30s")
	assert.NotContains(t, string(res.Bytes()), "forever")
	assert.Equal(t, "haproxy -c", res.Checked)
	assert.Equal(t, 2, f.checks(t), "one -c refused 40-refused.toml, one accepted the rest")

	// The same snippet lines again (Ray's reload moved a server): the set
	// haproxy refused is checked again (only acceptance is remembered), the
	// set it accepted is not.
	moved := []byte(strings.Replace(string(f.gen), "127.0.0.1:2", "127.0.0.1:3", 1))
	res = b.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: moved, Scratch: f.scratch})
	assert.Equal(t, "cached", res.Checked)
	assert.Equal(t, 3, f.checks(t), "the accepted set's verdict was remembered")
	assert.Len(t, res.Quarantined, 3, "40-refused.toml is still left out")

	// With the refused file fixed, one -c judges the whole set, once.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "40-refused.toml"), []byte("[[edit]]\nsection = \"defaults\"\nset = [\"timeout queue 60s\"]\n"), 0o600))
	o, loadErr = load.Dir(dir, load.Options{})
	for range 2 {
		res = b.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: moved, Scratch: f.scratch})
		assert.Len(t, res.Quarantined, 2)
		assert.Contains(t, string(res.Bytes()), "timeout queue 60s")
	}
	assert.Equal(t, 4, f.checks(t))
}

// TestBuilderPassthrough: with on-patch-error=passthrough any failing file
// leaves every snippet out.
func TestBuilderPassthrough(t *testing.T) {
	f := newBuilderFixture(t)
	dir := writeSnippets(t, map[string]string{
		"10-good.toml":    "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 500\"]\n",
		"30-nomatch.toml": "[[edit]]\nsection = \"backend no-such-app\"\nset = [\"retries 2\"]\n",
	})
	o, err := load.Dir(dir, load.Options{})
	require.NoError(t, err)
	b := &Builder{Load: func() (*patch.Overrides, error) { return o, nil }, Policy: shim.OnPatchErrorPassthrough, HAProxy: f.haproxy}
	res := b.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: f.gen, Scratch: f.scratch})
	assert.Contains(t, res.Unpatched, "on-patch-error=passthrough: 30-nomatch.toml:1")
	assert.Equal(t, string(f.gen), string(res.Bytes()))
}

// TestBuilderRayConfigRefused: when haproxy refuses Ray's own lines, no
// snippet is to blame: none is quarantined, and the reason says so. The
// verdict cache does not answer for Ray's file: with a cache that accepted
// a config without snippet lines before, the reason is the same.
func TestBuilderRayConfigRefused(t *testing.T) {
	f := newBuilderFixture(t)
	gen := append(append([]byte{}, f.gen...), "    bogus-ray-line 1\n"...)
	dir := writeSnippets(t, map[string]string{"10-good.toml": "[[edit]]\nsection = \"global\"\nset = [\"maxconnrate 500\"]\n"})
	o, err := load.Dir(dir, load.Options{})
	require.NoError(t, err)
	for _, verdicts := range []string{"", filepath.Join(t.TempDir(), VerdictsFile)} {
		if verdicts != "" {
			empty := &Builder{Load: func() (*patch.Overrides, error) { return &patch.Overrides{}, nil }, HAProxy: f.haproxy, Verdicts: verdicts}
			warm := empty.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: f.gen, Scratch: f.scratch})
			require.Empty(t, warm.Unpatched)
		}
		b := &Builder{Load: func() (*patch.Overrides, error) { return o, nil }, HAProxy: f.haproxy, Verdicts: verdicts}
		res := b.Patch(context.Background(), shim.PatchRequest{Name: "haproxy.cfg", Generated: gen, Scratch: f.scratch})
		assert.Empty(t, res.Quarantined)
		assert.Contains(t, res.Unpatched, "haproxy -c refuses Ray's generated config itself", "verdicts %q", verdicts)
		assert.Contains(t, res.Unpatched, "bogus-ray-line")
	}
}

// lookup is a getenv over a KEY=VALUE list, as the launcher hands Ray's
// environment to the snippets.
func lookup(environ []string) func(string) (string, bool) {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// TestVerdictsRefuse: a refusal is read back by name and hash, survives the
// trim of old signatures, and a refusal that cannot be written is an error
// (without it Ray's next start would include the file), while a signature
// that cannot be written is not.
func TestVerdictsRefuse(t *testing.T) {
	v := Verdicts{Path: filepath.Join(t.TempDir(), VerdictsFile)}
	sn := state.Snippet{Name: "70-extra.toml", SHA256: "abc"}
	require.NoError(t, v.Refuse([]state.Snippet{sn}, "bind failed\nport in use"))
	for i := range maxVerdicts + 10 {
		v.Add(fmt.Sprintf("sig%d", i))
	}
	assert.Equal(t, map[string]string{"70-extra.toml abc": "bind failed; port in use"}, v.Refused())
	assert.True(t, v.Has(fmt.Sprintf("sig%d", maxVerdicts+9)), "the newest signature stays")
	assert.False(t, v.Has("sig0"), "the oldest signatures go")

	gone := Verdicts{Path: filepath.Join(t.TempDir(), "missing", VerdictsFile)}
	assert.Error(t, gone.Refuse([]state.Snippet{sn}, "x"))
	gone.Add("sig") // a cache: nothing to report
	assert.False(t, gone.Has("sig"))
}
