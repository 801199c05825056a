//go:build linux

package shim

// Unexported pieces the tests (package shim_test) exercise on their own.
var (
	WithMorePIDs = withMorePIDs
	OlderMasters = olderMasters
)
