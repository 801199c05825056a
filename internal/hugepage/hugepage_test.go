package hugepage

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type line struct {
	raw string
	n   [8]int64 // 80 bytes a value, as config.Line: no divisor of Size
}

func TestMakeIsAZeroSliceOfN(t *testing.T) {
	for _, n := range []int{0, 1, 1000, Size/2/80 - 1, Size/2/80 + 1, Size / 80, 3*Size/80 + 7} {
		s := Make[line](n)
		assert.Len(t, s, n)
		assert.Equal(t, n, cap(s), "an append must not reach past the slice")
		for i := range s {
			if s[i] != (line{}) {
				t.Fatalf("n=%d: element %d is not zero", n, i)
			}
		}
	}
	assert.Len(t, Make[struct{}](5), 5)
}

// TestMakeMarksItsWholeHugePages reads the kernel's flags for the memory
// of a large slice: it starts within an element of a 2 MiB boundary, and
// the huge pages it fills are in a mapping marked "hg" (MADV_HUGEPAGE).
func TestMakeMarksItsWholeHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("madvise(MADV_HUGEPAGE) is Linux's")
	}
	b := Make[line](4*Size/80 + Size/80*3/4) // 4.75 huge pages
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	first := start / Size * Size
	assert.Less(t, start-first, unsafe.Sizeof(line{}), "the slice starts within an element of a boundary")
	for _, at := range []uintptr{first, first + Size, first + 4*Size} {
		flags := vmFlags(t, at)
		assert.Contains(t, flags, "hg", "the mapping at %#x has flags %v", at, flags)
	}
	runtime.KeepAlive(b)
}

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-"); ok && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Fields(strings.TrimPrefix(line, "VmFlags:"))
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}
