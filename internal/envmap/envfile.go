package envmap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-envparse"
)

// assignment is one KEY=VALUE from a file or the environment.
type assignment struct {
	key    string
	value  string
	source Source
}

// maxEnvFileSize bounds one env file: far more than any real one, so a larger
// file is a mistake (a binary or log given as --env-file), reported at once.
const maxEnvFileSize = 1 << 20

// maxEnvLineSize bounds one line, below go-envparse's own limit (which
// would say only "token too long").
const maxEnvLineSize = 32 << 10

var errTooLarge = errors.New("file too large")

// readLimited reads name, or fails with errTooLarge past limit bytes without
// reading the rest (the file may be a device or a huge log).
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// readEnvFile returns the assignments of one env file with their lines. Each
// line is parsed by go-envparse on its own: the format has no multi-line
// values, so this gives the same values as parsing the whole file while
// keeping the line number and the empty values go-envparse would not report
// reliably.
func readEnvFile(name string) ([]assignment, []Diagnostic) {
	data, err := readLimited(name, maxEnvFileSize)
	if errors.Is(err, errTooLarge) {
		return nil, []Diagnostic{{Severity: Error, Source: Source{File: name}, Message: fmt.Sprintf("env file is larger than the limit of %d bytes", maxEnvFileSize)}}
	}
	if err != nil {
		msg := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			msg = "cannot read env file: " + pe.Err.Error()
		}
		return nil, []Diagnostic{{Severity: Error, Source: Source{File: name}, Message: msg}}
	}
	// A file saved by a Windows editor may start with a UTF-8 byte order
	// mark; docker --env-file skips it, and so does this, rather than
	// reading it as part of the first name ("found 'ï'").
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []assignment
	var diags []Diagnostic
	sc := bufio.NewScanner(bytes.NewReader(data))
	// Larger than the file limit, so no line is ever too long for the scanner.
	sc.Buffer(make([]byte, 0, 64*1024), maxEnvFileSize+1)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		src := Source{File: name, Line: n}
		if len(line) > maxEnvLineSize {
			diags = append(diags, Diagnostic{Severity: Error, Source: src, Message: fmt.Sprintf("line of %d bytes is longer than the limit of %d", len(line), maxEnvLineSize)})
			continue
		}
		m, err := envparse.Parse(strings.NewReader(line))
		if err != nil {
			var pe *envparse.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			diags = append(diags, Diagnostic{Severity: Error, Source: src, Message: "not an env line: " + err.Error()})
			continue
		}
		for k, v := range m { // exactly one key
			out = append(out, assignment{key: k, value: v, source: src})
		}
		if len(m) == 0 {
			// A key with an empty value: recover its name for "KEY=".
			k := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.SplitN(trimmed, "=", 2)[0]), "export "))
			out = append(out, assignment{key: k, value: "", source: src})
		}
	}
	if err := sc.Err(); err != nil {
		diags = append(diags, Diagnostic{Severity: Error, Source: Source{File: name}, Message: "cannot read env file: " + err.Error()})
	}
	return out, diags
}
