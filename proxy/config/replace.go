package config

import (
	"os"
	"time"
)

// replaceWait bounds how long replaceFile waits for another program to let go
// of the file it replaces: antivirus scanners and indexers hold a file for well
// under a second; a save should not hang on one that never lets go.
const replaceWait = 3 * time.Second

// replaceFile renames tmp over path. On Windows a file that another program has
// open without FILE_SHARE_DELETE (Go's os.Open, antivirus scanners, indexers)
// cannot be replaced until it is closed: the rename fails with a sharing
// violation or "Access is denied". Those are retried for up to replaceWait
// (issue 18); on other systems the rename never fails that way.
func replaceFile(tmp, path string) error {
	return retryRename(os.Rename, renameHeld, tmp, path, replaceWait, time.Sleep)
}

// retryRename calls rename until it succeeds, fails with an error held does not
// claim, or the sleeps between tries add up to wait. The sleeps double from
// 5 ms up to 250 ms.
func retryRename(rename func(string, string) error, held func(error) bool, tmp, path string, wait time.Duration, sleep func(time.Duration)) error {
	delay := 5 * time.Millisecond
	var slept time.Duration
	for {
		err := rename(tmp, path)
		if err == nil || !held(err) || slept >= wait {
			return err
		}
		d := min(delay, wait-slept)
		sleep(d)
		slept += d
		delay = min(2*delay, 250*time.Millisecond)
	}
}
