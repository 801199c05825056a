// Package patch holds the lossless HAProxy configuration model and the override
// snippet engine that edits it.
//
// The model keeps every line of a configuration file as its exact bytes, so that
// Render(Parse(x)) == x for any input, valid HAProxy or not. Each line is also
// tokenized the way HAProxy's own parser splits it into words, and each directive
// line gets a key that says which other lines it replaces when a snippet sets it.
// Edits replace, insert or delete whole lines; untouched lines stay byte-identical.
package patch
