package ui

/*
#include <malloc.h>
*/
import "C"

// trimCHeap returns the free memory in glibc's heaps to the OS: Mesa and GLFW
// free more than they keep once the window's first frames are drawn.
func trimCHeap() { C.malloc_trim(0) }
