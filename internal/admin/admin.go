// Package admin is a small client for haproxy's admin (stats) unix socket.
//
// It talks to the socket the way Ray Serve's HAProxyApi does: one connection
// per command, the command followed by a newline, then everything haproxy
// writes until it closes the connection. The emulator, the launcher and the
// tests use it to ask a running haproxy what it is doing.
package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// defaultTimeout bounds a command when the caller's context has no deadline;
// Ray uses the same 5 s for connecting and for reading the answer.
const defaultTimeout = 5 * time.Second

// Command sends cmd to the admin socket at path socket and returns the whole
// answer. It opens one connection per command, as Ray does, and is bounded by
// ctx (or by 5 s when ctx has no deadline).
func Command(ctx context.Context, socket, cmd string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return "", fmt.Errorf("admin socket %s: %s: %w", socket, cmd, err)
	}
	defer conn.Close()
	// Closing the connection when ctx ends unblocks a pending read or write;
	// a deadline alone would miss a cancellation without one.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("admin socket %s: %s: write: %w", socket, cmd, ctxErr(ctx, err))
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, conn); err != nil {
		return "", fmt.Errorf("admin socket %s: %s: read: %w", socket, cmd, ctxErr(ctx, err))
	}
	return buf.String(), nil
}

// ctxErr prefers the context's error, which says why the I/O was cut short.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ShowInfo runs `show info` and returns its "Key: value" lines as a map
// (Pid, Maxconn, ConnRateLimit, SessRateLimit, ...).
func ShowInfo(ctx context.Context, socket string) (map[string]string, error) {
	out, err := Command(ctx, socket, "show info")
	if err != nil {
		return nil, err
	}
	info := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		info[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(info) == 0 {
		return nil, fmt.Errorf("admin socket %s: show info: unexpected answer %q", socket, truncate(out))
	}
	return info, nil
}

// ShowStat runs `show stat` and returns one map per CSV row, keyed by the
// header's field names (pxname, svname, status, scur, qcur, slim, ...).
func ShowStat(ctx context.Context, socket string) ([]map[string]string, error) {
	out, err := Command(ctx, socket, "show stat")
	if err != nil {
		return nil, err
	}
	rows, err := ParseStat(out)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: show stat: %w", socket, err)
	}
	return rows, nil
}

// ParseStat parses the CSV that `show stat` prints: a header line starting
// with "# " and then one line per proxy or server, each ending in a comma.
func ParseStat(out string) ([]map[string]string, error) {
	if !strings.HasPrefix(out, "# ") {
		return nil, fmt.Errorf("unexpected answer %q", truncate(out))
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# ")))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row := make(map[string]string, len(header))
		for i, name := range header {
			if name == "" || i >= len(rec) {
				continue
			}
			row[name] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ShowServersState runs `show servers state`, the text Ray saves to the
// server-state file before a reload.
func ShowServersState(ctx context.Context, socket string) (string, error) {
	return Command(ctx, socket, "show servers state")
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
