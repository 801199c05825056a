//go:build linux

package hotreload

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// drainPipes reads whatever is waiting in the pipes on pid's stdout and
// stderr and copies it to w, without blocking.
//
// Why: Ray 2.55 starts haproxy with both pipes and never reads them after
// startup. In master-worker mode every SIGUSR2 reload makes the master and
// the old worker print about 440 bytes of NOTICE/WARNING lines (measured on
// 2.6.12), so after roughly 150 hot reloads the 64 KiB pipe would be full
// and haproxy would block in write(2). `-q` would silence them, but also the
// ALERT lines Ray shows when haproxy fails to start. Opening
// /proc/PID/fd/N of a pipe opens that pipe, so the launcher can be the
// reader Ray never is. Regular files and terminals are left alone.
func drainPipes(pid int, w io.Writer) error {
	var errs []error
	seen := map[string]bool{}
	for _, fd := range []int{1, 2} {
		link := filepath.Join("/proc", strconv.Itoa(pid), "fd", strconv.Itoa(fd))
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, "pipe:") || seen[target] {
			continue
		}
		seen[target] = true
		// Raw syscalls: an *os.File would park the read in Go's poller
		// and wait for data instead of returning EAGAIN.
		fd, err := syscall.Open(link, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("drain %s: %w", link, err))
			continue
		}
		buf := make([]byte, 64*1024)
		for {
			n, err := syscall.Read(fd, buf)
			if n > 0 {
				w.Write(buf[:n])
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				if err != nil && !errors.Is(err, syscall.EAGAIN) {
					errs = append(errs, fmt.Errorf("drain %s: %w", link, err))
				}
				break
			}
		}
		syscall.Close(fd)
	}
	return errors.Join(errs...)
}
