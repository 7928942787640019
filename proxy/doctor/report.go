package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Status is a check's outcome.
type Status string

// The outcomes of a check.
const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but something needs attention
	Fail Status = "fail"
	Skip Status = "skip" // not run: an earlier check failed, or it does not apply
)

// Check is the outcome of one step, in words a user reads.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what was seen: addresses, times, versions, the provider's answer.
	Detail string `json:"detail"`
	// Fix says what to do, when the check failed or warns.
	Fix string `json:"fix,omitempty"`
	// Millis is how long the step took (network steps only).
	Millis int64 `json:"ms,omitempty"`
}

// Report is the outcome of every check of one provider (and model).
type Report struct {
	Provider string  `json:"provider"`
	Model    string  `json:"model,omitempty"`
	Checks   []Check `json:"checks"`
	// Verdict is the one sentence to read: the first failing check and its fix,
	// or that all passed.
	Verdict string `json:"verdict"`
	Failed  bool   `json:"failed"`
}

// The checks' names, in the order they run.
const (
	CheckConfig    = "configuration"
	CheckProxy     = "proxy"
	CheckDNS       = "DNS"
	CheckTCP       = "TCP connect"
	CheckTLS       = "TLS"
	CheckHTTP      = "HTTP"
	CheckAuth      = "authentication"
	CheckModel     = "model"
	CheckRateLimit = "rate limits"
)

// Failure returns the first failed check, if any.
func (r *Report) Failure() (Check, bool) {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return c, true
		}
	}
	return Check{}, false
}

// finish sets Verdict and Failed from the checks.
func (r *Report) finish() {
	what := r.Provider
	if r.Model != "" {
		what += " (" + r.Model + ")"
	}
	if c, ok := r.Failure(); ok {
		r.Failed = true
		r.Verdict = fmt.Sprintf("%s: %s fails: %s", what, c.Name, c.Detail)
		if c.Fix != "" {
			r.Verdict += ". Fix: " + c.Fix
		}
		return
	}
	var warns []string
	for _, c := range r.Checks {
		if c.Status == Warn {
			warns = append(warns, c.Name+": "+c.Detail)
		}
	}
	if len(warns) > 0 {
		r.Verdict = fmt.Sprintf("%s works, but: %s", what, strings.Join(warns, "; "))
		return
	}
	r.Verdict = what + ": every check passed"
}

// Write prints r as `gatehouse doctor` shows it: one line per check, the fix
// under a failed or warning one, then the verdict.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	what := r.Provider
	if r.Model != "" {
		what += " (" + r.Model + ")"
	}
	fmt.Fprintf(&b, "%s\n", what)
	for _, c := range r.Checks {
		took := ""
		if c.Millis > 0 {
			took = fmt.Sprintf(" (%d ms)", c.Millis)
		}
		fmt.Fprintf(&b, "  %-4s  %-14s  %s%s\n", strings.ToUpper(string(c.Status)), c.Name, c.Detail, took)
		if c.Fix != "" && (c.Status == Fail || c.Status == Warn) {
			fmt.Fprintf(&b, "  %-4s  %-14s  fix: %s\n", "", "", c.Fix)
		}
	}
	fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
