package store

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A day of stats (the app's 30 s refresh) and a search over every body read
// most of the file; afterwards the history must not stay resident in the
// process: idle memory is what the user sees in their task manager.
func TestLongScansGiveTheirPagesBack(t *testing.T) {
	now := time.Now()
	h := openTest(t, Options{QueueSize: 20_000, MaxAge: -1})
	const n = 20_000
	body := bytes.Repeat([]byte("lorem ipsum "), 40)
	for i := range n {
		c := callAt(now.Add(-time.Duration(n-i)*time.Second), OutcomeOK, "openai")
		for !h.Record(c, &Bodies{Request: RawMessage{Body: body}, Response: RawMessage{Body: body}}) {
			h.Flush()
		}
	}
	h.Flush()
	fi, err := os.Stat(h.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := h.Stats(StatsQuery{From: now.Add(-24 * time.Hour), To: now}); err != nil || st.Calls != n {
		t.Fatalf("stats: %d calls, %v", st.Calls, err)
	}
	statsRSS := mappedKB(t, h.Path())
	if p, err := h.List(Query{Search: "no such text", Limit: 10}); err != nil || len(p.Calls) != 0 {
		t.Fatalf("search: %v %v", p.Calls, err)
	}
	searchRSS := mappedKB(t, h.Path())
	t.Logf("history file %d KB; resident after a day of stats %d KB, after a full search %d KB", fi.Size()>>10, statsRSS, searchRSS)
	// Without the release both scans leave most of the file mapped in.
	limit := fi.Size() >> 10 / 10
	if statsRSS > limit || searchRSS > limit {
		t.Errorf("after long scans %d KB and %d KB of the %d KB history stay resident, want under %d KB",
			statsRSS, searchRSS, fi.Size()>>10, limit)
	}
}

// mappedKB is this process's resident memory mapped from path.
func mappedKB(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	var kb int64
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && strings.Join(f[5:], " ") == path
		case in && len(f) >= 2 && f[0] == "Rss:":
			v, _ := strconv.ParseInt(f[1], 10, 64)
			kb += v
		}
	}
	return kb
}

// The writer gives back the pages it touched: after a burst of recording and
// a second of idleness, the file is not resident in the process.
func TestWriterGivesItsPagesBack(t *testing.T) {
	h := openTest(t, Options{QueueSize: 20_000, MaxAge: -1, IdleAfter: 200 * time.Millisecond, FlushInterval: 20 * time.Millisecond})
	body := bytes.Repeat([]byte("lorem ipsum "), 400)
	for i := range 5000 {
		c := callAt(time.Now().Add(time.Duration(i)*time.Microsecond), OutcomeOK, "openai")
		for !h.Record(c, &Bodies{Request: RawMessage{Body: body}, Response: RawMessage{Body: body}}) {
			h.Flush()
		}
	}
	h.Flush()
	time.Sleep(time.Second)
	fi, err := os.Stat(h.Path())
	if err != nil {
		t.Fatal(err)
	}
	rss := mappedKB(t, h.Path())
	t.Logf("history file %d KB, resident %d KB", fi.Size()>>10, rss)
	if rss > fi.Size()>>10/10 {
		t.Errorf("%d KB of the %d KB history stay resident after recording, want under a tenth", rss, fi.Size()>>10)
	}
}
