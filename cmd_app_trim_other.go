//go:build !linux

package main

// trimCHeap has nothing to do where the C heap is not glibc's.
func trimCHeap() {}
