// Command dist is `make dist`: it writes the release artifacts into a
// directory (dist/ by default) with package internal/dist: the static
// binaries of serve-launch and serve-launch-shim for linux/amd64 and
// linux/arm64, a tarball of each pair, the manylinux wheels that install
// both into a virtualenv's bin/, and SHA256SUMS. It runs from the
// module's root and downloads nothing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serve-launch/serve-launch/internal/dist"
)

func main() {
	out := flag.String("out", "dist", "output `DIR` (must not exist, or be empty)")
	version := flag.String("version", "", "version stamped into the binaries (default: git describe --tags --always --dirty, else dev)")
	arches := flag.String("arch", "amd64,arm64", "GOARCH values to build, comma-separated")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *out, *version, *arches); err != nil {
		fmt.Fprintf(os.Stderr, "dist: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, version, arches string) error {
	if version == "" {
		version = git("describe", "--tags", "--always", "--dirty")
	}
	if version == "" {
		version = "dev"
	}
	var platforms []dist.Platform
	for _, a := range strings.Split(arches, ",") {
		p, err := dist.PlatformOf(strings.TrimSpace(a))
		if err != nil {
			return err
		}
		platforms = append(platforms, p)
	}
	mtime, err := modTime()
	if err != nil {
		return err
	}
	a, err := dist.Build(ctx, dist.Options{
		Root: ".", Out: out, Version: version, Platforms: platforms,
		ModTime: mtime, Go: os.Getenv("GO"), Log: os.Stderr,
	})
	if err != nil {
		return err
	}
	fmt.Printf("dist: %s (wheel version %s) in %s:\n", a.Version, a.PyVersion, out)
	for _, group := range [][]string{a.Binaries, a.Tarballs, a.Wheels, {a.Sums}} {
		for _, name := range group {
			st, err := os.Stat(out + "/" + name)
			if err != nil {
				return err
			}
			fmt.Printf("  %-90s %6.1f MB\n", name, float64(st.Size())/1e6)
		}
	}
	return nil
}

// modTime is the archives' date: SOURCE_DATE_EPOCH when set (the
// reproducible-builds convention), else the commit's time, so that two
// builds of one commit give the same bytes.
func modTime() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s = git("log", "-1", "--format=%ct")
	}
	if s == "" {
		return time.Time{}, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// git runs git and returns its trimmed output, or "" when it fails (no
// git, no repository).
func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
