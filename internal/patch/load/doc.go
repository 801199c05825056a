// Package load reads an overrides directory into a [patch.Overrides]: its
// *.toml files in byte order of their names, each read only when it is a
// regular file (or a symlink to one) within snippet.MaxSize, and, like
// sshd's StrictModes, only when it and the directory are writable by their
// owner alone and owned by this user or root (the rule is package perm's).
//
// It is the file system side of the patch packages, which otherwise work
// on bytes; it imports patch, snippet, config and perm.
package load
