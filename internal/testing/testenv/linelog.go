package testenv

import (
	"bufio"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// LineLog collects a child's output lines as they arrive and lets a test
// wait, bounded, for one; a closed channel tells waiters of every new line,
// so no waiter polls.
type LineLog struct {
	mu      sync.Mutex
	lines   []string
	eof     bool
	changed chan struct{}
}

// NewLineLog returns an empty log; feed it with Read.
func NewLineLog() *LineLog { return &LineLog{changed: make(chan struct{})} }

// Read adds rd's lines (up to 1 MiB each) until EOF, then closes rd and
// marks the log ended. Run it in its own goroutine.
func (l *LineLog) Read(rd io.ReadCloser) {
	defer rd.Close()
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		l.notifyLocked()
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.eof = true
	l.notifyLocked()
	l.mu.Unlock()
}

func (l *LineLog) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// All returns a copy of the lines so far.
func (l *LineLog) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Len returns how many lines have arrived: pass it as from to WaitFor to
// wait only for what comes after an action.
func (l *LineLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// Find returns the index and text of the first line at or after index from
// that contains any of subs, or -1 and "".
func (l *LineLog) Find(from int, subs ...string) (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := from; i < len(l.lines); i++ {
		for _, s := range subs {
			if strings.Contains(l.lines[i], s) {
				return i, l.lines[i]
			}
		}
	}
	return -1, ""
}

// WaitFor waits for a line at or after index from containing sub or any of
// more, and returns its index and text. It fails the test when the output
// ends first or after timeout.
func (l *LineLog) WaitFor(t testing.TB, from int, sub string, timeout time.Duration, more ...string) (int, string) {
	t.Helper()
	subs := append([]string{sub}, more...)
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		ch, eof := l.changed, l.eof
		l.mu.Unlock()
		if i, line := l.Find(from, subs...); i >= 0 {
			return i, line
		}
		if eof {
			t.Fatalf("the output ended without a line containing %q", subs)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no line containing %q within %s", subs, timeout)
		}
	}
}
