//go:build !unix

package envmap

// rlimitNoFile returns 0 (unknown) where there is no RLIMIT_NOFILE; the
// maxconn check is then skipped.
func rlimitNoFile() uint64 { return 0 }
