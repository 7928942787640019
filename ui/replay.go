package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

// callIDHeader is the header in which the proxy names the call it recorded.
const callIDHeader = "X-Gatehouse-Call"

// Replay sends c's request through the proxy at addr again and returns the new
// call's ID. Headers that may carry a secret are left out: the proxy adds the
// key. With bypass, the proxy tries providers whose circuit is open too.
func Replay(ctx context.Context, addr string, c *store.Call, bypass bool) (string, error) {
	if c.Method == "" || c.Path == "" || c.Request == nil {
		return "", errors.New("replay: the call has no method, path or stored request")
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, "http://"+addr+c.Path, strings.NewReader(c.Request.Body))
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	if bypass {
		req.Header.Set(proxy.BypassCircuitHeader, "1")
	}
	for _, h := range c.Request.Headers {
		if skipHeaders[strings.ToLower(h.Name)] || secretish(h.Name) {
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	req.Header.Set("User-Agent", "gatehouse-replay/"+strings.TrimPrefix(c.ClientUA, "gatehouse-replay/"))
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // the proxy records the call once it is complete
	id := resp.Header.Get(callIDHeader)
	if id == "" {
		return "", fmt.Errorf("replay: the proxy answered %s without naming the new call", resp.Status)
	}
	return id, nil
}

// waitForCall polls history until id is recorded (writes are queued) or ctx ends.
func waitForCall(ctx context.Context, h History, id string) (*store.Call, error) {
	delay := 20 * time.Millisecond
	for {
		c, err := h.Call(ctx, id)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("call %s was not recorded: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}
