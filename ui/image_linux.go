package ui

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

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
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	// Collect first, drop after: the scan must not allocate its way into a
	// garbage collection between the two (the collector reads type and stack
	// data all over the image, and would bring much of it back at once).
	var drop [][2]uint64
	var start, end uint64 // the current mapping, when it is a candidate
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if f := bytes.Fields(line); len(f) == 6 && bytes.IndexByte(f[0], '-') > 0 {
			// A mapping's header: address perms offset dev inode path.
			start, end = 0, 0
			if string(f[5]) != exe || !bytes.HasPrefix(f[1], []byte("r-")) || !bytes.HasSuffix(f[1], []byte("p")) {
				continue
			}
			lo, hi, _ := bytes.Cut(f[0], []byte("-"))
			s, err1 := strconv.ParseUint(string(lo), 16, 64)
			e, err2 := strconv.ParseUint(string(hi), 16, 64)
			if err1 == nil && err2 == nil && e > s {
				start, end = s, e
			}
			continue
		}
		if end == 0 || !bytes.HasPrefix(line, []byte("Anonymous:")) {
			continue
		}
		if f := bytes.Fields(line); len(f) > 1 && string(f[1]) == "0" {
			drop = append(drop, [2]uint64{start, end})
		}
		start, end = 0, 0
	}
	for _, m := range drop {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(m[0]), uintptr(m[1]-m[0]), unix.MADV_DONTNEED)
	}
}
