//go:build unix

package envmap

import "syscall"

// rlimitNoFile returns the hard RLIMIT_NOFILE of this process, the most a
// haproxy started from here can raise its own limit to, or 0 if unknown.
func rlimitNoFile() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Max)
}
