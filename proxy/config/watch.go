package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"
)

// emptyGrace is how long an empty config file must stay empty before Watch
// applies it (the defaults).
const emptyGrace = time.Second

// Watch polls from.Path every interval until ctx is done. When the file's
// content differs from what from was parsed from, it is loaded: a good file is
// passed to apply, a bad one to fail (the caller keeps its last good config).
// Starting from the parsed bytes, not a fresh read, means an edit made between
// Load and Watch is not missed. Polling, not inotify, because editors replace
// files by rename and watches on the old inode go quiet.
//
// Each tick only stats the file; it is opened only when its size or time
// changed, or its time is too recent to tell (racyWindow). On Windows a file
// held open, even briefly, cannot be renamed over, which made config saves fail
// with "Access denied" when a tick and a save met (issue 18).
func Watch(ctx context.Context, from *Config, interval time.Duration, apply func(*Config), fail func(error)) {
	w := watcher{stat: os.Stat, read: os.ReadFile, now: time.Now}
	w.run(ctx, from, interval, apply, fail)
}

// racyWindow is how recent a modification time must be for an unchanged stat
// to prove nothing: file systems keep times as coarsely as 2 s (FAT) or 1 s
// (HFS+), so a same-size write within that time keeps size and time (git calls
// such an index entry racily clean).
const racyWindow = 2 * time.Second

// watcher is Watch with its file system and clock injectable for tests.
type watcher struct {
	stat func(string) (os.FileInfo, error)
	read func(string) ([]byte, error)
	now  func() time.Time
}

func (w watcher) run(ctx context.Context, from *Config, interval time.Duration, apply func(*Config), fail func(error)) {
	path := from.Path
	if path == "" {
		return
	}
	last := from.source
	var seen os.FileInfo // the stat of the last content compared; nil: read on the next tick
	var seenAt time.Time
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := w.stat(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fi = nil
		case err != nil:
			continue
		case seen != nil && fi.Size() == seen.Size() && fi.ModTime().Equal(seen.ModTime()) &&
			seenAt.Sub(fi.ModTime()) > racyWindow:
			continue
		}
		var cur []byte
		if fi != nil {
			now := w.now()
			if cur, err = w.read(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				continue
			}
			seen, seenAt = fi, now
		} else {
			seen = nil
		}
		if bytes.Equal(cur, last) {
			continue
		}
		// An empty file is often one being rewritten (truncated, not yet
		// written, for a while on a busy machine): it counts only once it has
		// stayed empty for emptyGrace. Read it again next time.
		if err == nil && len(cur) == 0 && w.now().Sub(fi.ModTime()) < emptyGrace {
			seen = nil
			continue
		}
		last = cur
		var c *Config
		if cur == nil {
			c = Default()
			c.Path = path
		} else if c, err = Parse(cur, path); err != nil {
			fail(err)
			continue
		}
		apply(c)
	}
}
