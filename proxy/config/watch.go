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
func Watch(ctx context.Context, from *Config, interval time.Duration, apply func(*Config), fail func(error)) {
	path := from.Path
	if path == "" {
		return
	}
	last := from.source
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if bytes.Equal(cur, last) {
			continue
		}
		// An empty file is often one being rewritten (truncated, not yet
		// written, for a while on a busy machine): it counts only once it has
		// stayed empty for emptyGrace.
		if err == nil && len(cur) == 0 {
			if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) < emptyGrace {
				continue
			}
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
