package starter

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serve-launch/serve-launch/internal/envmap"
	"github.com/serve-launch/serve-launch/internal/patch/snippet"
	"github.com/serve-launch/serve-launch/internal/perm"
)

// TestSnippetsAreTheRepositorys checks that init writes the repository's
// overrides.d, every file of it, each headed by a comment and otherwise
// byte for byte, and that each loads as a snippet.
func TestSnippetsAreTheRepositorys(t *testing.T) {
	files, err := Files("v1.2.3")
	require.NoError(t, err)
	repo, err := filepath.Glob("../../overrides.d/*.toml*")
	require.NoError(t, err)
	require.NotEmpty(t, repo)
	written := map[string][]byte{}
	for _, f := range files {
		written[f.Path] = f.Data
	}
	for _, p := range repo {
		name := "overrides.d/" + filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(p)
			require.NoError(t, err)
			got, ok := written[name]
			require.True(t, ok, "init does not write %s", name)
			head, body, ok := bytes.Cut(got, []byte("\n#\n"))
			require.True(t, ok, "no header")
			assert.Equal(t, string(want), string(body))
			assert.Contains(t, string(head), "# Written by serve-launch init (v1.2.3) from its example "+name)
			_, err = snippet.Load(filepath.Base(name), got)
			require.NoError(t, err)
		})
		delete(written, name)
	}
	delete(written, EnvFile)
	assert.Empty(t, written, "init writes files the repository's overrides.d lacks")
}

// TestEveryGapHasItsSnippet checks envmap's gap table against what init
// writes: each gap's snippet is written and says it covers that gap, so
// `serve-launch env`, which names the snippets, points at files the user
// has after init.
func TestEveryGapHasItsSnippet(t *testing.T) {
	files, err := Files("dev")
	require.NoError(t, err)
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Data)
	}
	for _, g := range envmap.Gaps(envmap.DefaultRelease) {
		data, ok := byPath[g.Snippet]
		if assert.True(t, ok, "gap %q: init writes no %s", g.Setting, g.Snippet) {
			assert.Contains(t, data, "#   - "+g.Setting+" ("+g.Section+"; ")
		}
	}
	for path, fix := range hardening {
		if assert.Contains(t, byPath, path) {
			assert.Contains(t, strings.ReplaceAll(byPath[path], "\n# ", " "), fix)
		}
	}
}

// TestSnippetHeaderNeedsAPurpose: a snippet that covers no gap and fixes no
// audit finding is an error, not a file with an empty header.
func TestSnippetHeaderNeedsAPurpose(t *testing.T) {
	_, err := snippetHeader("overrides.d/55-new.toml", "dev")
	require.EqualError(t, err, "overrides.d/55-new.toml: covers no gap of envmap.Gaps(2.55) and fixes no audit finding")
}

var envLineRE = regexp.MustCompile(`(?m)^#([A-Z][A-Z0-9_]*)=(.*)$`)

// TestEnvFile checks serve.env: every variable of envmap's table once,
// commented out; loaded as is it sets nothing, and with every line
// uncommented it still loads without errors (the defaults and examples it
// shows are values Ray takes).
func TestEnvFile(t *testing.T) {
	text := envFile("dev")
	for _, l := range strings.Split(text, "\n") {
		assert.True(t, l == "" || strings.HasPrefix(l, "#"), "an uncommented line: %q", l)
	}
	var names []string
	for _, m := range envLineRE.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	var want []string
	for _, v := range envmap.Table() {
		want = append(want, v.Name)
	}
	assert.Equal(t, want, names, "serve.env lists envmap.Table(), in its order")

	dir := t.TempDir()
	load := func(name, text string) *envmap.Env {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		env, err := envmap.Load(envmap.Options{EnvFiles: []string{p}, NoFileLimit: 1 << 20})
		require.NoError(t, err)
		return env
	}
	env := load("as-written.env", text)
	for _, s := range env.Settings() {
		assert.False(t, s.Set, "%s is set by the file as written", s.Var.Name)
	}
	env = load("uncommented.env", envLineRE.ReplaceAllString(text, "$1=$2"))
	for _, v := range envmap.Table() {
		s, ok := env.Setting(v.Name)
		if assert.True(t, ok, v.Name) {
			assert.True(t, s.Set, "%s: its line does not load", v.Name)
		}
	}
}

// TestWriteModes: whatever the umask, init's files pass the check that
// `check` and `run` make, and group and others cannot write them.
func TestWriteModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "new", "conf")
	written, err := Write(dir, "dev")
	require.NoError(t, err)
	require.Len(t, written, 7)
	pc := perm.New(nil, "")
	for _, d := range []string{dir, filepath.Join(dir, OverridesDir)} {
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, DirMode, st.Mode().Perm(), d)
		assert.Nil(t, pc.CheckPath(d, "directory"))
	}
	for _, p := range written {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, FileMode, st.Mode().Perm(), p)
	}
	assert.Nil(t, pc.CheckFile(filepath.Join(dir, EnvFile), "env file"))
}

// TestWriteRefuses: an existing overrides.d or serve.env, of any kind,
// stops init before it writes anything.
func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(dir string) error
		exists []string
	}{
		{"overrides.d", func(d string) error { return os.Mkdir(filepath.Join(d, OverridesDir), 0o755) }, []string{OverridesDir}},
		{"serve.env", func(d string) error { return os.WriteFile(filepath.Join(d, EnvFile), nil, 0o644) }, []string{EnvFile}},
		{"dangling symlink", func(d string) error { return os.Symlink("nowhere", filepath.Join(d, EnvFile)) }, []string{EnvFile}},
		{"both", func(d string) error {
			return errors.Join(os.Mkdir(filepath.Join(d, OverridesDir), 0o755), os.WriteFile(filepath.Join(d, EnvFile), nil, 0o644))
		}, []string{OverridesDir, EnvFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, tc.setup(dir))
			before, err := os.ReadDir(dir)
			require.NoError(t, err)
			_, err = Write(dir, "dev")
			var exists *ExistsError
			require.ErrorAs(t, err, &exists)
			var want []string
			for _, n := range tc.exists {
				want = append(want, filepath.Join(dir, n))
			}
			assert.Equal(t, want, exists.Paths)
			after, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, len(before), len(after), "init wrote something")
		})
	}
}
