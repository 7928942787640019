//go:build !unix

package store

import bolt "go.etcd.io/bbolt"

// releasePages is a no-op where the history is not mapped with madvise support.
func releasePages(*bolt.Tx) {}
