package ui

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseImagePages drops the pages of Gatehouse's own executable file from the
// process's resident memory: start-up (package initialisation of the GUI,
// telemetry and SDK libraries) touches about 30 MB of it that an idle proxy
// never reads again. The pages stay in the kernel's page cache; those still in
// use fault back in at once, so an idle serve keeps about 15 MB of them instead
// of 32 (issue 12: idle RSS ≤ 30 MB). Only read-only mappings are dropped: a
// private writable page may hold changes that dropping it would lose.
func ReleaseImagePages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for line := range strings.SplitSeq(string(maps), "\n") {
		// address perms offset dev inode path
		f := strings.Fields(line)
		if len(f) != 6 || f[5] != exe || !strings.HasPrefix(f[1], "r-") || !strings.HasSuffix(f[1], "p") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
