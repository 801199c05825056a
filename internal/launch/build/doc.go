// Package build makes the configuration a haproxy runs from the one Ray
// generated: it loads the overrides directory, applies the snippets file by
// file, leaves out (quarantines) a file that fails to load, to apply or to
// pass `haproxy -c`, and remembers which sets of snippet lines haproxy
// accepted, so that a Ray reload that only moves servers runs no check
// ([Builder], [Verdicts]). The shim and a hot reload use the same [Builder],
// so both give haproxy the same thing; [ShimMain] is the shim program's
// main.
//
// It is the one package that ties the snippet engine (package patch) to the
// process side (package proc/shim's [shim.Patcher]); it imports neither the
// launcher's CLI nor its HTTP server, so the shim links little.
package build
