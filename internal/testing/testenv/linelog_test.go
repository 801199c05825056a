package testenv

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLineLogWaitFor(t *testing.T) {
	pr, pw := io.Pipe()
	l := NewLineLog()
	go l.Read(pr)
	go func() {
		_, _ = io.WriteString(pw, "one\nready two\nthree\n")
		_ = pw.Close()
	}()
	i, line := l.WaitFor(t, 0, "three", 5*time.Second, "nothing")
	assert.Equal(t, 2, i)
	assert.Equal(t, "three", line)
	i, line = l.WaitFor(t, 0, "nothing", 5*time.Second, "ready")
	assert.Equal(t, 1, i, "any of the substrings, first line wins")
	assert.Equal(t, "ready two", line)
	i, _ = l.Find(2, "ready")
	assert.Equal(t, -1, i, "Find starts at from")
	assert.Equal(t, []string{"one", "ready two", "three"}, l.All())
	assert.Equal(t, 3, l.Len())
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, 5*time.Second, "the third call", func() (bool, string) {
		n++
		return n == 3, "not yet"
	})
	assert.Equal(t, 3, n)
}
