// Package patch is the snippet engine: it applies compiled snippets
// (package snippet) to a parsed config (package config), in place, bytes
// in and bytes out. Snippets apply in order, each one's new sections
// first, then its edits; an edit replaces, inserts or deletes whole lines,
// merges server and bind parameters, and runs its values' templates
// (package tmpl) against the config, so untouched lines stay
// byte-identical. Guards refuse an edit that removes what Ray needs, or
// adds what takes over from it, unless it says force = true. ApplyEach
// leaves a failing snippet file out whole (Quarantine) for the shim, which
// must never fail a start Ray makes.
//
// It reads no file and no environment: the env template function sees
// only what ApplyOptions.Getenv gives. Loading overrides.d is package
// load's, and running haproxy -c package hapcheck's. It imports config,
// snippet and tmpl.
package patch
