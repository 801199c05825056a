package launch

import "syscall"

// RaiseFileLimit raises this process's soft limit of open files to its hard
// limit, for the command `run` starts to inherit. haproxy asks for about
// 2 x maxconn open files and can raise its own soft limit only as far as
// the hard one; Ray's other processes gain the same room.
//
// Go raises its own soft limit at start-up but gives a child the limit it
// found, unless the program sets the limit itself, as this does.
func RaiseFileLimit() error {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return err
	}
	r.Cur = r.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
}
