package dist

import (
	"fmt"
	"regexp"
	"strings"
)

// describeRE splits what `git describe --tags` adds after a tag: the
// number of commits since it and the abbreviated commit ("-5-gabc1234").
var describeRE = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]{4,64})$`)

// hashRE is `git describe --always` without any tag: the commit alone,
// abbreviated to 7 hex digits at least. It is checked before tagRE, since
// a commit can be all digits (1234567); a tag that looks like a commit
// should start with "v".
var hashRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// tagRE is a release tag: v1.2.3, 1.2, v1.2.3-rc.1, v2.0.0beta2, ...
var tagRE = regexp.MustCompile(`^v?([0-9]+(?:\.[0-9]+)*)(?:[-._]?(a|alpha|b|beta|c|rc|pre|preview)[-._]?([0-9]+)?)?$`)

// preRelease maps a tag's pre-release word to PEP 440's spelling.
var preRelease = map[string]string{"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}

// PEP440 maps the output of `git describe --tags --always --dirty` to the
// PEP 440 version of the wheel. The binaries keep describe's own string
// (`serve-launch --version`); the wheel needs a version pip orders:
//
//	v1.2.3                  -> 1.2.3
//	v1.2.3-rc.1             -> 1.2.3rc1 (alpha, beta, rc and their short forms)
//	v1.2.3-5-gabc1234       -> 1.2.3.post5+gabc1234
//	v1.2.3-5-gabc1234-dirty -> 1.2.3.post5+gabc1234.dirty
//	v1.2.3-dirty            -> 1.2.3+dirty
//	abc1234 (no tag yet)    -> 0.0.0.dev0+gabc1234
//	dev or "" (no git)      -> 0.0.0.dev0
//
// Commits after a tag are .postN, N commits after it, rather than a .dev
// of a guessed next version: the tag is what is known. The commit and
// "dirty" go in the local version (after "+"), which pip installs from a
// file but no package index accepts: only a build of a tag, clean, is a
// version to publish.
func PEP440(describe string) (string, error) {
	d := strings.TrimSpace(describe)
	if d == "" || d == "dev" {
		return "0.0.0.dev0", nil
	}
	var local []string
	d, dirty := strings.CutSuffix(d, "-dirty")
	if hashRE.MatchString(d) {
		local = append(local, "g"+d)
		if dirty {
			local = append(local, "dirty")
		}
		return "0.0.0.dev0+" + strings.Join(local, "."), nil
	}
	tag, post := d, ""
	if m := describeRE.FindStringSubmatch(d); m != nil {
		tag, post = m[1], ".post"+m[2]
		local = append(local, "g"+m[3])
	}
	if dirty {
		local = append(local, "dirty")
	}
	m := tagRE.FindStringSubmatch(tag)
	if m == nil {
		return "", fmt.Errorf("version %q: the tag %q is not a release (v1.2.3, optionally -alpha.N, -beta.N or -rc.N)", describe, tag)
	}
	v := m[1]
	if m[2] != "" {
		n := m[3]
		if n == "" {
			n = "0"
		}
		v += preRelease[m[2]] + n
	}
	v += post
	if len(local) > 0 {
		v += "+" + strings.Join(local, ".")
	}
	return v, nil
}

// fileVersion is the version in the tarballs' names: describe's, without
// the leading "v" (serve-launch_1.2.3_linux_amd64.tar.gz, as Go projects
// usually name them).
func fileVersion(describe string) string {
	v := strings.TrimPrefix(strings.TrimSpace(describe), "v")
	if v == "" {
		return "dev"
	}
	return v
}
