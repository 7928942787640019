package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/sse"
)

const promptsUsage = `Usage:
  gatehouse prompts list [--json]
  gatehouse prompt run NAME [--var k=v ...] [--stream] [--token gh_...]
Prompts are the [[prompt]] tables of config.toml. "prompt run" calls the
running Gatehouse (POST /v1/prompts/NAME); --token (or GATEHOUSE_TOKEN) is a
client token, needed when require_client_token is on.
`

// varsFlag collects repeated --var k=v.
type varsFlag map[string]string

func (v varsFlag) String() string { return "" }
func (v varsFlag) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not name=value", s)
	}
	v[k] = val
	return nil
}

// PromptInfo is one row of `prompts list`.
type PromptInfo struct {
	Name      string   `json:"name"`
	Model     string   `json:"model"`
	Variables []string `json:"variables"`
}

// runPrompts is `gatehouse prompts list` and `gatehouse prompt run`.
func runPrompts(cmd string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{Usage: promptsUsage}
	}
	sub, rest := args[0], args[1:]
	fs := NewFlagSet(cmd+" "+sub, stderr)
	var cf Flags
	cf.Add(fs, false)
	vars := varsFlag{}
	fs.Var(vars, "var", "a variable, name=value (repeatable)")
	stream := fs.Bool("stream", false, "print the output as it arrives")
	token := fs.String("token", os.Getenv("GATEHOUSE_TOKEN"), "client token (env GATEHOUSE_TOKEN)")
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := Parse(fs, rest)
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(pos) == 0:
	case sub == "run" && len(pos) == 1:
	default:
		return UsageError{Usage: promptsUsage}
	}
	dataDir, cfg, err := cf.Open()
	if err != nil {
		return err
	}
	if sub == "list" {
		rows := make([]PromptInfo, 0, len(cfg.Prompts))
		for i := range cfg.Prompts {
			p := &cfg.Prompts[i]
			rows = append(rows, PromptInfo{Name: p.Name, Model: p.Model, Variables: p.Variables()})
		}
		if *asJSON {
			return writeJSONLines(stdout, rows)
		}
		if len(rows) == 0 {
			fmt.Fprintln(stdout, "no prompts: add a [[prompt]] table to "+cfg.Path)
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tMODEL\tVARIABLES")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Model, strings.Join(r.Variables, ", "))
		}
		return tw.Flush()
	}
	if _, ok := cfg.Prompt(pos[0]); !ok {
		return fmt.Errorf("no prompt %q in %s (gatehouse prompts list)", pos[0], cfg.Path)
	}
	c, ok := FindRunning(dataDir)
	if !ok {
		return errors.New("Gatehouse is not running: start it (gatehouse serve, or the app) to run a prompt")
	}
	return runPrompt(c, pos[0], vars, *stream, *token, stdout, stderr)
}

func runPrompt(c *Client, name string, vars map[string]string, stream bool, token string, stdout, stderr io.Writer) error {
	body, _ := json.Marshal(map[string]any{"variables": vars, "stream": stream}) // strings: cannot fail
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/prompts/"+url.PathEscape(name), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("prompt request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("run prompt %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct{ Error struct{ Message string } }
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("prompt %s: %d: %s", name, resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("prompt %s: %d: %s", name, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var res proxy.PromptResult
	if !stream {
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			return fmt.Errorf("prompt %s: read the answer: %w", name, err)
		}
		fmt.Fprintln(stdout, res.Output)
		printPromptCall(stderr, res)
		return nil
	}
	rd := sse.NewReader(resp.Body, sse.DefaultMaxEvent)
	bw := bufio.NewWriter(stdout)
	defer bw.Flush()
	for {
		ev, err := rd.Next()
		if err != nil {
			return fmt.Errorf("prompt %s: the stream ended early: %w", name, err)
		}
		switch string(ev.Name) {
		case "delta":
			var d struct{ Text string }
			if json.Unmarshal(ev.Data, &d) == nil {
				bw.WriteString(d.Text)
				bw.Flush()
			}
		case "error":
			var e struct{ Error string }
			_ = json.Unmarshal(ev.Data, &e)
			fmt.Fprintln(bw)
			return fmt.Errorf("prompt %s: %s", name, e.Error)
		case "done":
			fmt.Fprintln(bw)
			bw.Flush()
			if err := json.Unmarshal(ev.Data, &res); err == nil {
				printPromptCall(stderr, res)
			}
			return nil
		}
	}
}

func printPromptCall(w io.Writer, r proxy.PromptResult) {
	n := func(p *int64) string {
		if p == nil {
			return "?"
		}
		return fmt.Sprint(*p)
	}
	fmt.Fprintf(w, "call %s: %s tokens in, %s out (gatehouse history show %s)\n", r.CallID, n(r.Usage.InputTokens), n(r.Usage.OutputTokens), r.CallID)
}
