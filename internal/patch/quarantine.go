package patch

import (
	"cmp"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// Quarantine is a snippet file that a patch left out, whole, and why.
//
// The shim never lets one bad file fail a haproxy start that Ray makes: Ray
// 2.55 takes the old haproxy answering `show info` for the new one being
// ready, so a start that fails after that leaves Ray tracking a dead process
// and every later reload of Ray's fails. Instead the file is left out, the
// others apply, and the instance is reported as degraded with these errors.
type Quarantine struct {
	// File is the snippet file's name.
	File string
	// Errs are the file's errors, each with its file:line.
	Errs config.ErrorList
}

// Error lists the file's errors, one a line.
func (q Quarantine) Error() string { return q.Errs.Error() }

// SplitByFile splits errs by the snippet file each names, in order of first
// appearance. An error that names no file (a problem of the overrides
// directory itself) is returned in rest.
func SplitByFile(errs config.ErrorList) (byFile []Quarantine, rest config.ErrorList) {
	idx := map[string]int{}
	for _, e := range errs {
		if e.Pos.File == "" {
			rest = append(rest, e)
			continue
		}
		name := filepath.Base(e.Pos.File)
		i, ok := idx[name]
		if !ok {
			i = len(byFile)
			idx[name] = i
			byFile = append(byFile, Quarantine{File: name})
		}
		byFile[i].Errs = append(byFile[i].Errs, e)
	}
	return byFile, rest
}

// SortByFile orders errs as the files apply: by snippet file name, then
// line and column. Errors of loading a file may name its path and those
// of applying it its name, so the name alone counts; ties keep their order.
func SortByFile(errs config.ErrorList) {
	slices.SortStableFunc(errs, func(x, y *config.Error) int {
		a, b := x.Pos, y.Pos
		return cmp.Or(strings.Compare(filepath.Base(a.File), filepath.Base(b.File)), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// Without returns o without the snippet files named in names.
func (o *Overrides) Without(names ...string) *Overrides {
	out := &Overrides{Dir: o.Dir}
	for _, sn := range o.Snippets {
		if !slices.Contains(names, sn.Name) {
			out.Snippets = append(out.Snippets, sn)
		}
	}
	return out
}

// ApplyEach parses generated and applies o to it file by file (the model
// keeps generated, which must not change afterwards): a snippet
// file whose edits fail is left out whole (never half applied), the files
// before and after it still apply, and every file left out is returned with
// its errors. The file returned holds the snippets that applied; err is set
// only when no file can be blamed (the generated config does not parse), and
// then f is nil.
//
// A failing file's errors may stem from an earlier file's edits, so only the
// first failing file (in application order) is left out at a time and the
// rest is tried again on a fresh parse; a clean run, the common case, costs
// one parse and one apply.
func (o *Overrides) ApplyEach(name string, generated []byte, opt ApplyOptions) (f *config.File, left []Quarantine, err error) {
	kept := o
	for {
		// Owned: the caller's generated config is never changed (the
		// shim's and render's), and every parse here shares it.
		f, err = config.ParseOwned(name, generated)
		if err != nil {
			return nil, left, err
		}
		err = kept.Apply(f, opt)
		if err == nil {
			return f, left, nil
		}
		var list config.ErrorList
		if !errors.As(err, &list) {
			return nil, left, err
		}
		first := firstFailing(kept, list)
		if first == "" {
			return nil, left, err
		}
		left = append(left, Quarantine{File: first, Errs: errorsOf(list, first)})
		kept = kept.Without(first)
	}
}

// firstFailing is the first snippet of o, in application order, that an
// error of list names; "" when none does.
func firstFailing(o *Overrides, list config.ErrorList) string {
	named := map[string]bool{}
	for _, e := range list {
		named[filepath.Base(e.Pos.File)] = true
	}
	for _, sn := range o.Snippets {
		if named[sn.Name] {
			return sn.Name
		}
	}
	return ""
}

// errorsOf is the errors of list that name the snippet file.
func errorsOf(list config.ErrorList, file string) config.ErrorList {
	var out config.ErrorList
	for _, e := range list {
		if filepath.Base(e.Pos.File) == file {
			out = append(out, e)
		}
	}
	return out
}
