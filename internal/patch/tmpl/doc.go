// Package tmpl is the template language of snippet values: Go's
// text/template held to what one line of a config needs. It parses and
// checks a line's template (the functions a snippet may call, no range,
// define or block, a bounded number of parts), and runs one with the
// functions bound to a Budget that all the evaluations of one patch share,
// so that no template can loop, flood memory or stall a haproxy start.
//
// The snippet loader parses (Parse); the patch engine runs (Execute). It
// imports nothing of serve-launch's.
package tmpl
