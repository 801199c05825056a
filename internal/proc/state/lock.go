//go:build linux

package state

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// LockWait bounds how long [ReadLocked] waits for Ray's writer to release
// the lock. Ray holds it only while rewriting one small file, so a longer
// wait means something is stuck, and the shim's time counts against Ray's
// 5 s readiness check.
const LockWait = 3 * time.Second

// MaxConfigSize bounds one configuration file the shim reads, like the CLI's
// limit: a larger file is a mistake, not something to patch in memory.
const MaxConfigSize = 64 << 20

// ReadLocked reads the configuration file at path while holding a shared
// flock on `<path>.lock`, the file Ray's writer locks exclusively before it
// rewrites the configuration in place (open(cfg, "w"), no rename). Holding
// the lock means a concurrent rewrite can never hand us a truncated or
// half-written file. The lock file is created when missing; the wait is
// bounded by [LockWait].
func ReadLocked(path string) ([]byte, error) {
	return readLocked(path, LockWait, nil)
}

// readLocked is ReadLocked with the wait and a hook that tests use to learn
// that the reader found the lock busy.
func readLocked(path string, wait time.Duration, onBusy func()) ([]byte, error) {
	lock, err := LockFile(path+".lock", syscall.LOCK_SH, wait, onBusy)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, CleanPathErr(err))
	}
	defer f.Close()
	data, err := ReadLimited(f, MaxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, CleanPathErr(err))
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("haproxy config %s is larger than the limit of %d bytes", path, MaxConfigSize)
	}
	return data, nil
}

// errLockGone says that a lock file was removed (or replaced) while we
// waited for it: the lock taken is on a file nobody else will open. A hot
// reload prunes a dead instance's directory holding the instance lock, and
// a shim that waited for that lock must not go on in a removed directory.
var errLockGone = errors.New("the lock file was removed while waiting for it")

// stillAt reports whether name still is the file f has open.
func stillAt(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(name)
	return err == nil && os.SameFile(a, b)
}

// LockFile takes a flock of kind how (LOCK_SH or LOCK_EX) on name, creating
// the file when missing, and polls until wait has passed. It falls back to a
// read-only open when the directory or file is not writable by us, since
// flock works on any open descriptor. onBusy, when set, runs once the first
// time the lock is found held. Closing the file returned releases the lock.
func LockFile(name string, how int, wait time.Duration, onBusy func()) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil && (errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		f, err = os.OpenFile(name, os.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, CleanPathErr(err))
	}
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if onBusy != nil {
			onBusy()
			onBusy = nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: still held by another process after %s", name, wait)
		}
		// A polling wait (rather than a blocking flock) keeps the bound exact
		// without a helper goroutine stuck in the kernel.
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}
