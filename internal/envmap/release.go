package envmap

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultRelease is the Ray serve-launch targets unless told otherwise
// (--ray-version): the user story runs Ray 2.55.
const DefaultRelease = Release255

// RayVersion is a name the --ray-version flag accepts, and the [Release] it
// means.
type RayVersion struct {
	// Name is what the user writes, and what messages call the release.
	Name string
	// Release is the release it means.
	Release Release
	// Doc says which Ray it is, for --help.
	Doc string
}

// RayVersions returns the names --ray-version accepts, oldest first. The
// masters are states of Ray's main branch, not releases: "master" is the
// newest this table knows, so that the name keeps meaning "Ray's main
// branch" when a newer state is added.
func RayVersions() []RayVersion {
	return []RayVersion{
		{Name: "v1", Release: ReleaseV1, Doc: "the first open-source HAProxy mode, Ray PR #60586 of February 2026"},
		{Name: "2.55", Release: Release255, Doc: "Ray 2.55"},
		{Name: "master-may", Release: ReleaseMaster, Doc: "Ray's master of late May 2026"},
		{Name: "master", Release: ReleaseMasterJune, Doc: "Ray's master of early June 2026, #63622: the newest known"},
	}
}

// ParseRayVersion returns the release a --ray-version value names; the
// release's own spelling (master-june) is accepted too.
func ParseRayVersion(s string) (Release, error) {
	// Names first: "master" is the newest master, whatever the release
	// of late May is spelt.
	for _, v := range RayVersions() {
		if s == v.Name {
			return v.Release, nil
		}
	}
	for _, v := range RayVersions() {
		if s == string(v.Release) {
			return v.Release, nil
		}
	}
	return "", fmt.Errorf("unknown Ray version %q: the versions known are %s", s, rayVersionList())
}

// rayVersionList names the versions: "v1, 2.55, master-may and master".
func rayVersionList() string {
	var names []string
	for _, v := range RayVersions() {
		names = append(names, v.Name)
	}
	return joinAnd(names)
}

// Name returns what messages and --ray-version call r; an unknown release
// is named by its own string.
func (r Release) Name() string {
	for _, v := range RayVersions() {
		if v.Release == r {
			return v.Name
		}
	}
	return string(r)
}

// releaseOrDefault is r, or [DefaultRelease] for the zero value.
func releaseOrDefault(r Release) Release {
	if r == "" {
		return DefaultRelease
	}
	return r
}

// Readers says which Ray releases read the variable, for messages: "Ray
// master", "Ray master-may and later", "Ray v1 and 2.55"; "" when Ray
// itself reads it in none (RAY_SERVE_HAPROXY_BINARY, the wheel's).
func (v Var) Readers() string {
	return readersText(v.ReadBy)
}

func readersText(by []Release) string {
	if len(by) == 0 {
		return ""
	}
	if len(by) > 1 && slices.Equal(by, releasesFrom(by[0])) {
		return "Ray " + by[0].Name() + " and later"
	}
	var names []string
	for _, r := range by {
		names = append(names, r.Name())
	}
	return "Ray " + joinAnd(names)
}

// IgnoredBy reports whether Ray release r leaves the variable unread,
// though some release of Ray reads it. A variable no Ray reads (the
// wheel's) is not Ray's to ignore.
func (v Var) IgnoredBy(r Release) bool {
	return len(v.ReadBy) > 0 && !v.ReadIn(releaseOrDefault(r))
}

// NotRead is what a row of a variable that release r does not read says
// instead of a directive: "not read by Ray 2.55 (Ray master reads it)".
func (v Var) NotRead(r Release) string {
	who := v.Readers()
	verb := "read"
	if len(v.ReadBy) == 1 {
		verb = "reads"
	}
	return fmt.Sprintf("not read by Ray %s (%s %s it)", releaseOrDefault(r).Name(), who, verb)
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
