package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// EnvHAProxy names the haproxy binary the tests run: `make test
// HAPROXY=/path/to/haproxy` runs the whole suite on that binary, and no test
// falls back to PATH's haproxy. Unset (or empty), the tests run PATH's.
const EnvHAProxy = "HAPROXY"

// HAProxyVersion is a haproxy's major.minor, as `haproxy -v` prints it.
type HAProxyVersion struct{ Major, Minor int }

func (v HAProxyVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast tells whether v is major.minor or newer.
func (v HAProxyVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// foundHAProxy is the haproxy of this test binary: where it is, its
// version and `haproxy -v`'s first line. It is looked up, and named on
// stderr, once per test binary: every test of a run uses the same binary,
// and the log says which (go test shows a package's stderr when a test
// fails, and always with -v).
type foundHAProxy struct {
	path, banner string
	version      HAProxyVersion
	err          error
}

var haproxyOnce = sync.OnceValue(func() foundHAProxy {
	f := findHAProxy(os.Getenv(EnvHAProxy))
	if f.err == nil {
		fmt.Fprintf(os.Stderr, "testenv: haproxy %s: %s\n", f.path, f.banner)
	}
	return f
})

var haproxyVersionRE = regexp.MustCompile(`(?i)^HA-?Proxy version (\d+)\.(\d+)`)

// findHAProxy resolves env (the value of $HAPROXY) or, when it is empty,
// PATH's haproxy, and runs its -v.
func findHAProxy(env string) foundHAProxy {
	var f foundHAProxy
	switch {
	case env == "":
		p, err := exec.LookPath("haproxy")
		if err != nil {
			f.err = fmt.Errorf("these tests run the real haproxy and never skip: install it (apt-get install -y haproxy, as .ci/run does) or set %s=/path/to/haproxy: %v", EnvHAProxy, err)
			return f
		}
		f.path = p
	case strings.Contains(env, "/") && !filepath.IsAbs(env):
		// go test runs each package in its own directory, so a relative
		// path would name a different file in each.
		f.err = fmt.Errorf("%s=%s: give an absolute path (make test makes it absolute)", EnvHAProxy, env)
		return f
	default:
		p, err := exec.LookPath(env)
		if err != nil {
			f.err = fmt.Errorf("%s=%s: %v", EnvHAProxy, env, err)
			return f
		}
		f.path = p
	}
	out, err := exec.Command(f.path, "-v").CombinedOutput()
	first, _, _ := bytes.Cut(out, []byte("\n"))
	f.banner = strings.TrimSpace(string(first))
	if err != nil {
		f.err = fmt.Errorf("%s -v: %v: %s", f.path, err, out)
		return f
	}
	m := haproxyVersionRE.FindStringSubmatch(f.banner)
	if m == nil {
		f.err = fmt.Errorf("%s -v does not say its version: %q", f.path, f.banner)
		return f
	}
	f.version.Major, _ = strconv.Atoi(m[1])
	f.version.Minor, _ = strconv.Atoi(m[2])
	return f
}

// HAProxy returns the haproxy the tests run: $HAPROXY when it is set, else
// the haproxy on PATH. It is the one way tests find haproxy. Tests that
// claim haproxy behaviour call it first: without haproxy they fail with the
// way to fix it, because a skip would let CI pass while proving nothing.
func HAProxy(t testing.TB) string {
	t.Helper()
	f := haproxyOnce()
	require.NoError(t, f.err)
	return f.path
}

// Version returns the major.minor of [HAProxy]'s binary, for the few
// assertions where haproxy versions behave differently: each version's
// behaviour is asserted, not the weaker of the two.
func Version(t testing.TB) HAProxyVersion {
	t.Helper()
	f := haproxyOnce()
	require.NoError(t, f.err)
	return f.version
}

// HAProxyDir returns a new directory holding only `haproxy`, a link to
// [HAProxy]'s binary. Put it first on the PATH of a child that runs plain
// `haproxy` (the shim looking for the real one, `serve-launch check`
// without --haproxy, a testscript scenario), so the child runs the tests'
// haproxy rather than whatever PATH holds.
func HAProxyDir(t testing.TB) string {
	t.Helper()
	real := HAProxy(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink(real, filepath.Join(dir, "haproxy")))
	return dir
}

// HAProxyPATH returns a "PATH=..." environment entry: [HAProxyDir] first,
// then this process's PATH. Append it to a child's environment (the last
// PATH wins in os/exec).
func HAProxyPATH(t testing.TB) string {
	t.Helper()
	return "PATH=" + HAProxyDir(t) + string(os.PathListSeparator) + os.Getenv("PATH")
}
