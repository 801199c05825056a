package hapcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/serve-launch/serve-launch/internal/patch/config"
)

// Message is one ALERT or WARNING from haproxy -c, mapped back to its source.
type Message struct {
	// Level is "ALERT" or "WARNING".
	Level string
	// Text is haproxy's own words.
	Text string
	// Line is the line of the patched file haproxy named, 0 when none.
	Line int
	// Source is where that line came from: the generated file's line, or the
	// snippet file:line that wrote it.
	Source config.Position
	// FromSnippet tells whether Source is a snippet.
	FromSnippet bool
}

func (m Message) String() string {
	if m.Line == 0 {
		return fmt.Sprintf("haproxy %s: %s", strings.ToLower(m.Level), m.Text)
	}
	if m.FromSnippet {
		return fmt.Sprintf("%s: haproxy %s on the line this snippet wrote: %s", m.Source, strings.ToLower(m.Level), m.Text)
	}
	return fmt.Sprintf("%s: haproxy %s: %s", m.Source, strings.ToLower(m.Level), m.Text)
}

// Result is the outcome of haproxy -c on a patched file.
type Result struct {
	OK       bool
	Messages []Message
	// Output is haproxy's full output, for logs.
	Output string
}

// haproxyMsgRE matches "[ALERT]    (123) : config : parsing [FILE:LINE] : TEXT",
// "... : config : [FILE:LINE] : TEXT" (what haproxy says about a server's
// arguments once the file is parsed, such as "inter 0") and both without
// the position.
// Compiled on first use, since package init runs on every shim start.
var haproxyMsgRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\[(ALERT|WARNING)\]\s*(?:\(\d+\)\s*)?:\s*(?:config\s*:\s*)?(?:(?:parsing )?\[(.*):(\d+)\]\s*:\s*)?(.*)$`)
})

// Check writes f to a temporary file and runs `haproxy -c -f` on it, mapping
// every message that names a line back to the generated file or the snippet
// that wrote the line.
func Check(ctx context.Context, haproxy string, f *config.File) (*Result, error) {
	dir, err := os.MkdirTemp("", "serve-launch-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "patched.cfg")
	if err := os.WriteFile(path, f.Render(), 0o600); err != nil {
		return nil, err
	}
	return CheckPath(ctx, haproxy, f, path)
}

// CheckPath is [Check] on a file already written at path with f's bytes.
func CheckPath(ctx context.Context, haproxy string, f *config.File, path string) (*Result, error) {
	out, err := exec.CommandContext(ctx, haproxy, "-c", "-f", path).CombinedOutput()
	if cerr := ctx.Err(); cerr != nil {
		// Killed for the deadline: its verdict is unknown, not a refusal.
		return nil, fmt.Errorf("running %s -c: %v", haproxy, cerr)
	}
	res := &Result{OK: err == nil, Output: string(out)}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("running %s -c: %v", haproxy, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		m := haproxyMsgRE().FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		msg := Message{Level: m[1], Text: strings.TrimSpace(m[4])}
		if m[3] != "" && m[2] == path {
			msg.Line, _ = strconv.Atoi(m[3])
			if l := f.LineAt(msg.Line); l != nil {
				msg.Source = l.Pos
				msg.FromSnippet = l.Pos.File != f.Name
			}
		}
		// The summary lines repeat the temp path; they add nothing.
		if strings.Contains(msg.Text, path) || strings.HasPrefix(msg.Text, "Fatal errors found") {
			continue
		}
		res.Messages = append(res.Messages, msg)
	}
	return res, nil
}
