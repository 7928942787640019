package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// keyCheckMissing reports whether a key check failed because the provider has
// no such endpoint: many OpenAI-compatible servers lack /models. The checker
// (cli.CheckKey) says so in its message only, "404 key check endpoint not
// found …".
func keyCheckMissing(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "404 ")
}

// completionTest checks p's key with a one-token completion sent through the
// proxy at addr, which adds the key as for any call (issue 16 §5: Test failed
// where /v1/models does not exist). The call shows in History.
func completionTest(ctx context.Context, addr string, p config.Provider) error {
	model := ""
	for _, m := range p.Models {
		if !strings.ContainsAny(m, "*?") {
			model = m
			break
		}
	}
	if model == "" {
		return fmt.Errorf("%s has no key check endpoint (404) and no model to test a completion with: name one model without * in Models, or set Key check", p.Name)
	}
	body := `{"model":"` + p.Name + "/" + model + `","max_tokens":1,"messages":[{"role":"user","content":"Say ok."}]}`
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatehouse-key-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("test completion: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg := gjson.GetBytes(b, "error.message").String()
	if msg == "" {
		msg = strings.TrimSpace(string(b))
	}
	return fmt.Errorf("test completion with %s: %d %s", model, resp.StatusCode, msg)
}
