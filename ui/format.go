package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// thousands writes n with comma separators: 1204 → "1,204".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// shortDuration prints d for people: "850 ms", "1.2 s", "2 min 5 s".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond: // history stores whole milliseconds: 0 means under one
		return "<1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return d.Round(time.Minute).String()
}

// tokens prints a token count, or "–" when unknown (negative).
func tokens(n int64) string {
	if n < 0 {
		return "–"
	}
	return thousands(n)
}

// byteSize prints n bytes as "512 B", "3.4 KiB", "1.2 MiB".
func byteSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// clock prints t as a time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t = t.Local()
	if y, m, d := now.Local().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04:05")
}

// startOfDay is local midnight of t's day.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.Local().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.Local)
}

// compact prints a count in at most about six characters: 1,204, 56.3k, 1.2M.
func compact(n int64) string {
	switch {
	case n < 100_000:
		return thousands(n)
	case n < 10_000_000:
		if n < 1_000_000 {
			return fmt.Sprintf("%.1fk", float64(n)/1e3)
		}
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fG", float64(n)/1e9)
}

// humanDuration prints a setting's duration the way people write it: "1m",
// "250ms", "8s", "30 days" (issue 16 §5: "1m0s", "720h0m0s").
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0s"
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

// parseHumanDuration reads what humanDuration writes, and Go durations:
// "250ms", "1m30s", "30 days", "30d", "2 weeks".
func parseHumanDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"weeks", 7 * 24 * time.Hour}, {"week", 7 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
		{"days", 24 * time.Hour}, {"day", 24 * time.Hour}, {"d", 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%q is not a duration like 250ms, 8s, 1m or 30 days", s)
			}
			return time.Duration(v) * u.unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 250ms, 8s, 1m or 30 days", s)
	}
	return d, nil
}
