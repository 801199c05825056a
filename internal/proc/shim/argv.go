//go:build linux

package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/serve-launch/serve-launch/internal/proc/state"
)

// HAProxyArgs is haproxy's command line as the shim understands it: which
// configuration files it loads, which mode it runs in, and every other
// argument kept in order so the shim can hand it to the real haproxy
// untouched.
type HAProxyArgs struct {
	// Argv is the original argument list (without argv[0]).
	Argv []string
	// Configs lists every configuration file haproxy would load, in load
	// order: each `-f FILE`, the `*.cfg` files of each `-f DIR`, then the
	// files after `--`.
	Configs []ConfigArg
	// NoConfig is true when haproxy exits before loading any configuration
	// (-v, -vv, -h, -cc, -dK, or no -f at all): the shim passes such runs
	// straight to the real haproxy.
	NoConfig bool
	// Check is true for `-c` (check mode): the shim patches, then lets the
	// real haproxy check the patched copy.
	Check bool
	// MasterWorker is true when -W or -Ws is already present.
	MasterWorker bool
	// OldPIDs are the PIDs after -sf/-st (a reload).
	OldPIDs []string
	// SocketFrom is the -x argument (the old process's admin socket).
	SocketFrom string
	// DashIndex is the index of `--` in Argv, or -1.
	DashIndex int
}

// ConfigArg is one configuration file named on haproxy's command line.
type ConfigArg struct {
	// Path is the file as haproxy would open it (a directory entry is
	// DIR/NAME).
	Path string
	// ArgIndex is the index in Argv of the word that named it (the FILE or DIR
	// after -f, or the word after --). Files from one directory share it.
	ArgIndex int
	// FromDir is true when the file came from a `-f DIR`.
	FromDir bool
	// AfterDashes is true when the file was listed after `--`.
	AfterDashes bool
}

// ParseHAProxyArgs parses haproxy's argv (without argv[0]) the way haproxy's
// own init_args does (2.6 to 3.x): a flag is recognised by its first letters,
// -f/-C/-n/-N/-m/-L/-p/-x/-S/-cc consume the next word, -sf/-st consume every
// following word that does not start with '-', and `--` makes every remaining
// word a configuration file. Flags it does not know are passed through
// unchanged (haproxy itself will complain about them). Every configuration
// file must exist and be readable; the error names the file.
func ParseHAProxyArgs(argv []string) (*HAProxyArgs, error) {
	a := &HAProxyArgs{Argv: append([]string(nil), argv...), DashIndex: -1}
	early := false // haproxy exits before reading any configuration
	for i := 0; i < len(argv); i++ {
		w := argv[i]
		if !strings.HasPrefix(w, "-") || w == "-" {
			// haproxy prints its usage for a bare word; pass it through.
			continue
		}
		flag := w[1:]
		switch {
		case strings.HasPrefix(flag, "v"):
			// -v and -vv print the version and exit at once.
			early = true
		case flag == "h" || flag == "-help" || flag == "help":
			early = true
		case strings.HasPrefix(flag, "dK"):
			early = true
		case strings.HasPrefix(flag, "dt"):
			// 3.x: an optional trace specification follows.
			if i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
				i++
			}
		case strings.HasPrefix(flag, "d"), strings.HasPrefix(flag, "V"),
			strings.HasPrefix(flag, "D"), strings.HasPrefix(flag, "q"):
			// Single-word flags.
		case strings.HasPrefix(flag, "cc"):
			early = true
			i++
		case strings.HasPrefix(flag, "c"):
			a.Check = true
		case strings.HasPrefix(flag, "W"):
			a.MasterWorker = true
		case strings.HasPrefix(flag, "x"):
			if i+1 >= len(argv) {
				return nil, fmt.Errorf("haproxy argument %s needs a value", w)
			}
			i++
			a.SocketFrom = argv[i]
		case strings.HasPrefix(flag, "S"):
			if i+1 >= len(argv) {
				return nil, fmt.Errorf("haproxy argument %s needs a value", w)
			}
			i++
		case strings.HasPrefix(flag, "sf") || strings.HasPrefix(flag, "st"):
			for i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
				i++
				a.OldPIDs = append(a.OldPIDs, argv[i])
			}
		case flag == "-":
			a.DashIndex = i
			for j := i + 1; j < len(argv); j++ {
				if err := a.addConfig(argv[j], j, true); err != nil {
					return nil, err
				}
			}
			i = len(argv)
		default:
			// haproxy treats every other flag as taking one value and then
			// rejects the ones it does not know (C, n, m, N, L, f, p).
			if i+1 >= len(argv) {
				if strings.HasPrefix(flag, "f") {
					return nil, fmt.Errorf("haproxy argument %s needs a file", w)
				}
				continue
			}
			if !strings.HasPrefix(flag, "f") {
				if strings.ContainsRune("CnmNLp", rune(flag[0])) {
					i++
				}
				continue
			}
			i++
			if err := a.addConfig(argv[i], i, false); err != nil {
				return nil, err
			}
		}
	}
	a.NoConfig = early || len(a.Configs) == 0
	return a, nil
}

// addConfig records a configuration file or directory named on the command
// line. A directory contributes its non-hidden regular `*.cfg` files in byte
// order, which is what haproxy's scandir with alphasort gives in the C locale.
func (a *HAProxyArgs) addConfig(name string, idx int, dashed bool) error {
	st, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("haproxy config %s: %w", name, state.CleanPathErr(err))
	}
	if !st.IsDir() {
		if err := checkReadable(name); err != nil {
			return err
		}
		a.Configs = append(a.Configs, ConfigArg{Path: name, ArgIndex: idx, AfterDashes: dashed})
		return nil
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		return fmt.Errorf("haproxy config directory %s: %w", name, state.CleanPathErr(err))
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".cfg") {
			continue
		}
		p := filepath.Join(name, n)
		fst, err := os.Stat(p)
		if err != nil || !fst.Mode().IsRegular() {
			continue // haproxy skips what is not a regular file
		}
		files = append(files, n)
	}
	sort.Strings(files)
	for _, n := range files {
		p := filepath.Join(name, n)
		if err := checkReadable(p); err != nil {
			return err
		}
		a.Configs = append(a.Configs, ConfigArg{Path: p, ArgIndex: idx, FromDir: true, AfterDashes: dashed})
	}
	return nil
}

func checkReadable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("haproxy config %s: %w", name, state.CleanPathErr(err))
	}
	f.Close()
	return nil
}

// RewriteArgv returns the argv for the real haproxy: the word after each
// `-f` that named a configuration file or directory becomes one `-f NEW` per
// file it contributed (replace maps a [ConfigArg] Path to its new path), the
// list after `--` is rewritten the same way, -W is put first when
// addMasterWorker is set and no -W/-Ws is present, and every other word is
// kept in order.
func (a *HAProxyArgs) RewriteArgv(replace map[string]string, addMasterWorker bool) []string {
	newPath := func(p string) string {
		if r, ok := replace[p]; ok {
			return r
		}
		return p
	}
	byIdx := map[int][]string{}
	var dashed []string
	for _, c := range a.Configs {
		if c.AfterDashes {
			dashed = append(dashed, newPath(c.Path))
			continue
		}
		byIdx[c.ArgIndex] = append(byIdx[c.ArgIndex], newPath(c.Path))
	}
	var out []string
	if addMasterWorker && !a.MasterWorker {
		out = append(out, "-W")
	}
	for i, w := range a.Argv {
		if i == a.DashIndex {
			out = append(out, "--")
			out = append(out, dashed...)
			break
		}
		if paths, ok := byIdx[i]; ok {
			out = out[:len(out)-1] // the -f flag word
			for _, p := range paths {
				out = append(out, "-f", p)
			}
			continue
		}
		out = append(out, w)
	}
	return out
}
