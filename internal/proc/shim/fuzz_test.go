//go:build linux

package shim_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/serve-launch/serve-launch/internal/proc/shim"
)

// FuzzParseHAProxyArgs feeds arbitrary haproxy command lines (words separated
// by NUL) to the parser. It must not panic, and when it accepts a command
// line, rewriting every configuration file must keep every other argument,
// in order: the shim may only touch what names a configuration.
func FuzzParseHAProxyArgs(f *testing.F) {
	dir := f.TempDir()
	file := filepath.Join(dir, "a.cfg")
	cfgDir := filepath.Join(dir, "conf.d")
	if err := os.MkdirAll(filepath.Join(cfgDir, "sub.cfg"), 0o755); err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(cfgDir, "1.cfg"), filepath.Join(cfgDir, "2.cfg"), filepath.Join(cfgDir, "notes.txt")} {
		if err := os.WriteFile(p, []byte("global\n"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	for _, seed := range [][]string{
		{"-f", "FILE", "-p", "/tmp/pid", "-sf", "1", "2"},
		{"-W", "-db", "-f", "DIR", "-x", "/tmp/sock", "-sf", "12"},
		{"-c", "-f", "FILE", "--", "FILE", "DIR"},
		{"-vv"},
		{"-Ws", "-fFILE", "-f", "FILE", "-L", "x", "-st"},
		{"-f"},
		{"-S", "a", "-dt", "x", "-cc", "1", "-C", "/", "-N", "2", "-m", "3", "-n", "4", "--"},
		{"-f", "MISSING"},
		{"bare", "-", "-f", "DIR", "-sf", "-f", "FILE"},
	} {
		f.Add(strings.Join(seed, "\x00"))
	}
	f.Fuzz(func(t *testing.T, line string) {
		var argv []string
		if line != "" {
			argv = strings.Split(line, "\x00")
		}
		// FILE and DIR stand for a real file and directory, so the fuzzer
		// reaches the paths that accept a command line.
		for i, w := range argv {
			switch w {
			case "FILE":
				argv[i] = file
			case "DIR":
				argv[i] = cfgDir
			}
		}
		orig := append([]string(nil), argv...)
		a, err := shim.ParseHAProxyArgs(argv)
		if !reflect.DeepEqual(argv, orig) {
			t.Fatalf("ParseHAProxyArgs changed its input: %q -> %q", orig, argv)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(a.Argv, argv) {
			t.Fatalf("Argv %q, want %q", a.Argv, argv)
		}
		for _, c := range a.Configs {
			if st, err := os.Stat(c.Path); err != nil || !st.Mode().IsRegular() {
				t.Fatalf("config %q is not a regular file (argv %q)", c.Path, argv)
			}
		}
		const mark = "\x01NEW:"
		replace := map[string]string{}
		for _, c := range a.Configs {
			replace[c.Path] = mark + c.Path
		}
		out := a.RewriteArgv(replace, false)

		// What must stay: argv without the words that named configurations
		// (with their -f flag word) and without the list after "--".
		drop := map[int]bool{}
		for _, c := range a.Configs {
			if !c.AfterDashes {
				drop[c.ArgIndex-1], drop[c.ArgIndex] = true, true
			}
		}
		var want []string
		for i, w := range argv {
			if a.DashIndex >= 0 && i > a.DashIndex {
				break
			}
			if !drop[i] {
				want = append(want, w)
			}
		}
		var got, configs []string
		for i := 0; i < len(out); i++ {
			if out[i] == "-f" && i+1 < len(out) && strings.HasPrefix(out[i+1], mark) {
				configs = append(configs, out[i+1])
				i++
				continue
			}
			if strings.HasPrefix(out[i], mark) {
				configs = append(configs, out[i])
				continue
			}
			got = append(got, out[i])
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("other arguments changed\nargv: %q\nout:  %q\ngot:  %q\nwant: %q", argv, out, got, want)
		}
		var wantConfigs []string
		for _, c := range a.Configs {
			if !c.AfterDashes {
				wantConfigs = append(wantConfigs, mark+c.Path)
			}
		}
		for _, c := range a.Configs {
			if c.AfterDashes {
				wantConfigs = append(wantConfigs, mark+c.Path)
			}
		}
		if !reflect.DeepEqual(configs, wantConfigs) {
			t.Fatalf("configs %q, want %q in load order (argv %q)", configs, wantConfigs, argv)
		}
	})
}
