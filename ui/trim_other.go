//go:build !linux

package ui

// trimCHeap has nothing to do where the C heap is not glibc's.
func trimCHeap() {}
