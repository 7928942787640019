package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"time"
)

// Watch polls the file at path every interval until ctx is done. When its content
// changes it is loaded: a good file is passed to apply, a bad one to fail (the
// caller keeps its last good config). Polling, not inotify, because editors
// replace files by rename and watches on the old inode go quiet.
func Watch(ctx context.Context, path string, interval time.Duration, apply func(*Config), fail func(error)) {
	if path == "" {
		return
	}
	last, _ := os.ReadFile(path)
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
