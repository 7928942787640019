package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// printWires writes each attempt as it went over the wire (issue 16): the
// request line, headers and body Gatehouse sent, the upstream's status,
// headers and body, the timings, the key used, and the circuit breaker's events.
func printWires(w io.Writer, c *store.Call) {
	for i := range c.Attempts {
		a := &c.Attempts[i]
		fmt.Fprintf(w, "\nAttempt %d · %s %s", i+1, a.Provider, a.Model)
		if a.Skipped() {
			fmt.Fprintf(w, " · skipped\n  %s\n", circuitEvent("circuit open", a))
			continue
		}
		status := "no response"
		if a.Status != 0 {
			status = fmt.Sprint(a.Status)
		}
		fmt.Fprintf(w, " · %s", status)
		if a.ErrorClass != "" {
			fmt.Fprintf(w, " %s", a.ErrorClass)
		}
		fmt.Fprintf(w, "\n  waited %d ms · connect %d ms · first byte %d ms · total %d ms",
			a.DelayMS, a.ConnectMS, a.FirstByteMS, a.DurationMS)
		if a.KeySource != "" {
			fmt.Fprintf(w, " · key %s %s", a.KeySource, a.KeyMask)
		}
		fmt.Fprintln(w)
		if a.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", a.Error)
		}
		if a.CircuitOpened {
			fmt.Fprintf(w, "  %s\n", circuitEvent("circuit opened", a))
		}
		if a.Method == "" {
			fmt.Fprintln(w, "  not sent")
			continue
		}
		fmt.Fprintf(w, "  → %s %s\n", a.Method, a.URL)
		wire := a.Wire
		if wire == nil {
			wire = &store.Wire{}
		}
		printSide(w, wire.Request, wire.RequestSameAsClient, "the client's request body")
		if a.Status == 0 && wire.Response == nil {
			continue
		}
		fmt.Fprintf(w, "  ← %s\n", status)
		printSide(w, wire.Response, wire.ResponseSameAsClient, "what the client received")
	}
}

// circuitEvent words a circuit breaker event of attempt a.
func circuitEvent(what string, a *store.Attempt) string {
	if a.CircuitUntil.IsZero() {
		return what + ": " + a.Provider + " skipped while its probe runs"
	}
	return fmt.Sprintf("%s: %s skipped until %s", what, a.Provider, a.CircuitUntil.Local().Format(time.TimeOnly))
}

// printSide writes the headers and body of one side of a wire record,
// indented; a body equal to the client's is named instead of repeated.
func printSide(w io.Writer, m *store.Message, same bool, client string) {
	if m == nil {
		fmt.Fprintln(w, "    (not recorded)")
		return
	}
	for _, h := range m.Headers {
		fmt.Fprintf(w, "    %s: %s\n", h.Name, h.Value)
	}
	note := ""
	if m.Truncated {
		note = ", truncated"
	}
	switch {
	case same:
		fmt.Fprintf(w, "    body: %d bytes, the same as %s%s\n", len(m.Body), client, note)
	case m.Body == "":
		fmt.Fprintln(w, "    body: empty")
	default:
		fmt.Fprintf(w, "    body (%d bytes%s):\n%s\n", len(m.Body), note, indent(m.Body, "    "))
	}
}

// indent puts prefix before every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
