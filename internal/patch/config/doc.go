// Package config is the lossless model of an HAProxy configuration file,
// and what the rest of serve-launch knows of HAProxy's reading of one.
//
// The model keeps every line of a file as its exact bytes, so that
// Render(Parse(x)) == x for any input, valid HAProxy or not. Each line is
// also tokenized the way HAProxy's own parser splits it into words, and
// each directive line gets a key that says which other lines it replaces
// when a snippet sets it. Beside the model are the facts of HAProxy's
// language that more than one package needs: which words open a section,
// which keys are ordered rule lists, how server and bind parameters split,
// which global keywords keep their first line (GlobalFirstWins), how many
// replicas the server lines make (ServerCount), and what running a
// configuration needs to know of it (Facts).
//
// It is the bottom of the patch packages: it reads and writes no file and
// imports nothing of serve-launch's, only the standard library.
package config
