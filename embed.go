// Package servelaunch holds the files of this repository that the programs
// ship inside themselves: the example snippets of overrides.d, which
// `serve-launch init` writes into a new overrides directory, so that an
// installed serve-launch (a wheel, a release binary, `go install`) has them
// without a checkout.
//
// The package sits at the module root because go:embed reaches only the
// directory of its package and those below: a Go file inside overrides.d
// would itself be a file in an overrides directory, which serve-launch
// warns about ("not a .toml file") every time the checkout's overrides.d
// is used.
package servelaunch

import "embed"

// Overrides is the repository's overrides.d: the snippets that cover the
// gaps of Ray's variables (*.toml) and the disabled examples
// (*.toml.example), under the directory name "overrides.d".
//
//go:embed overrides.d/*.toml overrides.d/*.toml.example
var Overrides embed.FS
