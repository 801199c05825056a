// Package hugepage allocates the few large slices of a patch (the bytes of
// Ray's file, its lines) so that the kernel may back them with transparent
// huge pages.
//
// The shim touches every page of those slices once, and each first touch of
// a 4 KiB page is a page fault. On a virtual machine that shadows the
// guest's page tables a fault costs about 10 µs: at 16384 servers the
// shim's 2200 faults were half of its 45 ms (BENCHMARKS.md). A 2 MiB huge
// page is one fault for 512 pages. Go's heap does not ask for huge pages
// (the runtime marks only some of its own metadata), and the kernel gives
// them, when its setting is "madvise", the default of most distributions,
// only to memory marked with madvise(MADV_HUGEPAGE).
//
// Make places the slice at a 2 MiB boundary and marks the huge pages it
// fills at least half of, so a page fault in them brings in 2 MiB. The
// part of the allocation before the boundary and past the last marked
// page is never touched (the runtime does not clear memory fresh from the
// kernel), so it is address space, not memory; the resident memory grows
// by less than half a huge page, the tail of the last one, at most. The
// mark is a hint: where the kernel has no huge page to give, or its
// setting is "never", the pages fault in 4 KiB at a time as before.
package hugepage

import "unsafe"

// Size is the size of a huge page on the platforms serve-launch ships for
// (amd64 and arm64 with 4 KiB base pages).
const Size = 2 << 20

// Make returns a slice of n zero values of T, placed and marked for huge
// pages when it is half a huge page or more; a smaller slice is an
// ordinary make.
func Make[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	bytes := n * size
	if size == 0 || bytes < Size/2 {
		return make([]T, n)
	}
	pages := (bytes + Size/2) / Size // the huge pages filled half or more
	// Room for the slice or the pages, whichever is longer, from the first
	// boundary (less than Size in), and for the element that straddles it.
	s := make([]T, (max(bytes, pages*Size)+Size)/size+2)
	all := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*size)
	lo := (Size - int(uintptr(unsafe.Pointer(unsafe.SliceData(all)))%Size)) % Size
	advise(all[lo : lo+pages*Size])
	k := (lo + size - 1) / size // the first element at or past the boundary
	return s[k : k+n : k+n]
}
