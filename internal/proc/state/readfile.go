//go:build linux

package state

import (
	"io"
	"os"

	"github.com/serve-launch/serve-launch/internal/hugepage"
)

// ReadLimited reads r to its end or to limit+1 bytes, whichever is first, so
// a caller can tell a file over the limit from one at it. When r is a
// regular file its size sizes the buffer: a generated config of thousands of
// servers is read in one allocation instead of io.ReadAll's dozen doublings
// and copies, on every haproxy start the shim makes. A FIFO or a file that
// grows while read still works, with the buffer growing as it must.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	size := int64(512)
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			size = min(fi.Size(), limit) + 1 // +1 to see EOF without growing
		}
	}
	// Ray's file at 16384 servers is 2 MB, read in whole pages.
	data := hugepage.Make[byte](int(size))[:0]
	lr := io.LimitReader(r, limit+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := lr.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return data, err
		}
	}
}
