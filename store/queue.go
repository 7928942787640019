package store

// QueueDepth is how many calls wait for the writer (for /metrics).
func (h *History) QueueDepth() int { return len(h.queue) }
