// Package hardening holds tests only: bad inputs too large or too binary for
// the CLI's testscript corpus (cmd/serve-launch/testdata/script/bad_*.txtar),
// and a live run showing that a haproxy under the launcher stays up and
// unchanged while bad snippets arrive by hot reload and by `serve-launch
// reload`.
package hardening
