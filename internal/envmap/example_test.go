package envmap_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serve-launch/serve-launch/internal/envmap"
)

// A launcher loads the env files, refuses to start on errors, and starts Ray
// with ChildEnviron.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "envmap")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "serve.env")
	_ = os.WriteFile(file, []byte("RAY_SERVE_HAPROXY_MAXCONN=2000\nRAY_SERVE_HAPROXY_NBTHREAD=\n"), 0o644)

	base := []string{"PATH=/usr/bin", "RAY_SERVE_HAPROXY_NBTHREAD=8"}
	env, err := envmap.Load(envmap.Options{
		EnvFiles:    []string{file},
		Environ:     base,
		EnvFileWins: true,
		NoFileLimit: 20000,
	})
	var errs envmap.Errors
	if errors.As(err, &errs) {
		fmt.Println("refusing to start:", errs)
		return
	}
	maxconn, _ := env.Setting("RAY_SERVE_HAPROXY_MAXCONN")
	nbthread, _ := env.Setting("RAY_SERVE_HAPROXY_NBTHREAD")
	fmt.Println("maxconn", maxconn.Value, "nbthread", nbthread.Value)
	fmt.Println(env.ChildEnviron(base))
	// Output:
	// maxconn 2000 nbthread 4
	// [PATH=/usr/bin RAY_SERVE_HAPROXY_MAXCONN=2000]
}
