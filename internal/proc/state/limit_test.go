//go:build linux

package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLockedLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: the limit must stop the read, not the machine's memory.
	if err := f.Truncate(MaxConfigSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = ReadLocked(path)
	if err == nil || !strings.Contains(err.Error(), path+" is larger than the limit of 67108864 bytes") {
		t.Fatalf("ReadLocked error %v, want the size limit naming %s", err, path)
	}
}
