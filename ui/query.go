package ui

import (
	"bytes"
	"strings"

	"github.com/gatehouse/gatehouse/proxy"
)

// Failed reports whether a call counts as failed: anything but a clean ok.
func Failed(c *proxy.Call) bool { return c.Outcome != proxy.OutcomeOK }

// Matches reports whether c passes q's filters (the cursor and limit aside).
// Search looks into bodies, so a summary without bodies never matches a search.
func (q Query) Matches(c *proxy.Call) bool {
	if q.FailedOnly && !Failed(c) {
		return false
	}
	if q.Outcome != "" && c.Outcome != q.Outcome {
		return false
	}
	if q.Provider != "" && c.Provider != q.Provider {
		return false
	}
	if q.Model != "" && !strings.EqualFold(c.Model, q.Model) && !strings.EqualFold(c.UpstreamModel, q.Model) {
		return false
	}
	if q.Search != "" {
		s := []byte(strings.ToLower(q.Search))
		if !bytes.Contains(bytes.ToLower(c.Request.Body), s) && !bytes.Contains(bytes.ToLower(c.Response.Body), s) {
			return false
		}
	}
	return true
}

// limit is the page size q asks for.
func (q Query) limit() int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}
