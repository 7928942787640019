package ui

import (
	"bufio"
	"bytes"
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
// of 32 (issue 12: idle RSS ≤ 30 MB).
//
// Only mappings that are read-only and still exactly the file are dropped. A
// read-only mapping can hold pages the process changed before it was made
// read-only: the RELRO segment of a cgo build holds the GOT, filled in by the
// dynamic loader. Dropping it put the file's unrelocated bytes back, and the
// next call through it jumped to address 0 (the desktop app crashed in
// glfwPollEvents). smaps counts such changed pages as Anonymous.
func ReleaseImagePages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return
	}
	var start, end uint64 // the current mapping, when it is a candidate
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 6 && strings.Contains(f[0], "-") {
			// A mapping's header: address perms offset dev inode path.
			start, end = 0, 0
			if f[5] != exe || !strings.HasPrefix(f[1], "r-") || !strings.HasSuffix(f[1], "p") {
				continue
			}
			lo, hi, _ := strings.Cut(f[0], "-")
			s, err1 := strconv.ParseUint(lo, 16, 64)
			e, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil && e > s {
				start, end = s, e
			}
			continue
		}
		if end == 0 || !strings.HasPrefix(line, "Anonymous:") {
			continue
		}
		if strings.Fields(line)[1] == "0" {
			_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
		}
		start, end = 0, 0
	}
}
