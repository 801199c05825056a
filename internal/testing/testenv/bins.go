package testenv

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvCoverDir, set by `make cover`, has the binaries built with -cover,
// writing their counters there.
const EnvCoverDir = "SERVE_LAUNCH_COVERDIR"

// Binaries says where MainWithBinaries built serve-launch and raysim.
type Binaries struct {
	dir string
	// installed, when set, holds the serve-launch and serve-launch-shim
	// to run instead of dir's (see [Binaries.InstalledIn]).
	installed string
}

// Launcher is the serve-launch binary.
func (b Binaries) Launcher() string { return filepath.Join(b.programDir(), "serve-launch") }

// Shim is the serve-launch-shim binary, which the launcher finds beside
// serve-launch.
func (b Binaries) Shim() string { return filepath.Join(b.programDir(), "serve-launch-shim") }

// Raysim is the raysim binary (Ray Serve's haproxy contract, emulated).
func (b Binaries) Raysim() string { return filepath.Join(b.dir, "raysim") }

// InstalledIn returns b with serve-launch and serve-launch-shim taken from
// dir, where something installed them (a virtualenv's bin/), and raysim
// still b's: [Start] then runs the installed programs.
func (b Binaries) InstalledIn(dir string) Binaries {
	b.installed = dir
	return b
}

func (b Binaries) programDir() string {
	if b.installed != "" {
		return b.installed
	}
	return b.dir
}

// MainWithBinaries is the body of a TestMain whose tests run the real
// serve-launch, serve-launch-shim and raysim commands: it builds them into a temporary
// directory, sets *bins (the one thing TestMain must set), runs the tests
// and removes the directory. It returns the code for os.Exit. name prefixes
// its messages and the directory. Only listing the tests (-test.list, as
// `make fuzz` does) builds nothing.
func MainWithBinaries(m *testing.M, name string, bins *Binaries) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "serve-launch-"+name+"-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// `go test` puts its own go first on PATH. One `go build` for both
	// commands: the packages compile in parallel.
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	// `make cover` counts what these binaries run too: built with -cover,
	// they write their counters into GOCOVERDIR, which every process the
	// tests start inherits.
	if cover := os.Getenv(EnvCoverDir); cover != "" {
		args = append(args, "-cover", "-coverpkg=github.com/serve-launch/serve-launch/...")
		os.Setenv("GOCOVERDIR", cover)
	}
	args = append(args,
		"github.com/serve-launch/serve-launch/cmd/serve-launch",
		"github.com/serve-launch/serve-launch/cmd/serve-launch-shim",
		"github.com/serve-launch/serve-launch/internal/testing/raysim/cmd/raysim")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: building serve-launch and raysim: %v\n", name, err)
		return 1
	}
	*bins = Binaries{dir: dir}
	return m.Run()
}
