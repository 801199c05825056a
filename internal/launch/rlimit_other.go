//go:build !unix

package launch

// RaiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func RaiseFileLimit() error { return nil }
