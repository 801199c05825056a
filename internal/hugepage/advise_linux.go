package hugepage

import "syscall"

// advise marks b, whole aligned huge pages, MADV_HUGEPAGE. An error (a
// kernel without transparent huge pages) leaves the memory as it was,
// which is all a hint can do: it is not reported.
func advise(b []byte) {
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}
