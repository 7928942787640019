//go:build !windows

package store

// initialMmapSize is the address space mapped at open: past the default
// 512 MiB history cap, so a file within its cap is never remapped.
const initialMmapSize = 1 << 30
