package config

import (
	"errors"

	"golang.org/x/sys/windows"
)

// renameHeld reports whether a rename failed because another process has the
// target (or the temp file) open: a sharing or lock violation, or the "Access is
// denied" MoveFileEx gives for a file open without FILE_SHARE_DELETE.
func renameHeld(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED)
}
