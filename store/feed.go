package store

import "sync"

// feed fans newly committed calls out to subscribers.
type feed struct {
	mu   sync.Mutex
	subs map[chan Call]struct{}
}

// Subscribe returns a channel receiving each call (summary only) once it is
// committed, and a function that ends the subscription and closes the channel.
// Delivery never blocks the writer: a subscriber whose buffer (size buf, at least
// 1) is full misses calls. The channel is closed when the History closes.
func (h *History) Subscribe(buf int) (<-chan Call, func()) {
	if buf < 1 {
		buf = 1
	}
	ch := make(chan Call, buf)
	f := &h.feed
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[chan Call]struct{}{}
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, ok := f.subs[ch]; ok {
				delete(f.subs, ch)
				close(ch)
			}
		})
	}
}

func (f *feed) publish(c *Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- *c:
		default:
		}
	}
}

func (f *feed) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}
