package envmap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary env files to Load. It must not panic, and every
// diagnostic about the file must name it, with the line for anything but a
// file that cannot be read at all.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"RAY_SERVE_HAPROXY_MAXCONN=2000\n",
		"# comment\n\nexport RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S=60\nRAY_SERVE_HAPROXY_MAXCONN=\n",
		"RAY_SERVE_HAPROXY_MAXCON=2000\nRAY_SERVE_HAPROXY_MAXCONN=lots\n",
		"RAY_SERVE_HAPROXY_HTTP_PORT=8000\nRAY_SERVE_HAPROXY_METRICS_PORT=8000\n",
		"KEY='unterminated\n",
		"KEY=\"a\\\"b\"\r\nOTHER=1 # trailing\n",
		"\x00\xff\xfe=\x01\n=x\n",
		"RAY_SERVE_HAPROXY_SOCKET_PATH=" + strings.Repeat("a", 200) + "\n",
		"RAY_SERVE_ENABLE_HA_PROXY=1\nRAY_SERVE_HAPROXY_SYSLOG_PORT=70000\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.env")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		env, err := Load(Options{EnvFiles: []string{path}, NoFileLimit: bigLimit})
		if env == nil {
			t.Fatalf("Load returned no Env (err %v)", err)
		}
		for _, d := range env.Diagnostics() {
			if d.Source.File == "" {
				continue // about a default value
			}
			if d.Source.File != path || d.Source.Line < 1 {
				t.Fatalf("diagnostic without FILE:LINE: %q\nfile:\n%q", d.String(), data)
			}
		}
		_ = env.ChildEnviron([]string{"PATH=/bin"})
	})
}
