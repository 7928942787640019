package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
)

const clientsUsage = `Usage:
  gatehouse clients add NAME [--models GLOB,...] [--providers P,...] [--daily-tokens N] [--daily-usd X] [--expires 30d]
  gatehouse clients list [--json]
  gatehouse clients remove NAME
  gatehouse clients rotate NAME
A client token ("gh_...") is printed once; tools send it as their API key.
Every subcommand takes --data DIR.
`

// runClients is `gatehouse clients ...`. With an instance running it goes
// through the admin API (the instance edits the file and uses the change at
// once); otherwise it edits the data folder's clients file.
func runClients(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return UsageError{Usage: clientsUsage}
	}
	sub, rest := args[0], args[1:]
	fs := NewFlagSet("clients "+sub, stderr)
	var cf Flags
	cf.Add(fs, false)
	models := fs.String("models", "", "comma-separated model globs the token may call (default: any)")
	providers := fs.String("providers", "", "comma-separated providers its calls may go to (default: any)")
	dailyTokens := fs.Int64("daily-tokens", 0, "tokens per local day (0: no limit)")
	dailyUSD := fs.Float64("daily-usd", 0, "US dollars per local day, priced with the price table (0: no limit)")
	expires := fs.String("expires", "", "the token stops working after this long (30d, 12h; default never)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := Parse(fs, rest)
	if err != nil {
		return err
	}
	needName := sub == "add" || sub == "remove" || sub == "rotate"
	switch {
	case sub != "list" && !needName:
		return UsageError{Msg: fmt.Sprintf("unknown subcommand %q", sub), Usage: clientsUsage}
	case needName && len(pos) != 1, !needName && len(pos) != 0:
		return UsageError{Usage: clientsUsage}
	}
	dataDir, err := cf.DataDir()
	if err != nil {
		return err
	}
	var cl clientsAccess = localClients{ClientBook{DataDir: dataDir}, cf}
	if c, ok := FindRunning(dataDir); ok {
		cl = remoteClients{c}
	}
	switch sub {
	case "list":
		rows, err := cl.list()
		if err != nil {
			return err
		}
		return printClients(rows, *asJSON, stdout)
	case "remove":
		if err := cl.remove(pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed client %s: its token no longer works\n", pos[0])
		return nil
	case "rotate":
		tok, err := cl.rotate(pos[0])
		if err != nil {
			return err
		}
		return printToken(stdout, pos[0], tok, "the old token no longer works")
	}
	spec := ClientSpec{Name: pos[0], Models: SplitList(*models), Providers: SplitList(*providers), DailyTokens: *dailyTokens, DailyUSD: *dailyUSD}
	if *expires != "" {
		if spec.Expires, err = parseDays(*expires); err != nil {
			return UsageError{Msg: "--expires: " + err.Error()}
		}
	}
	if err := spec.Check(); err != nil {
		return UsageError{Msg: err.Error()}
	}
	tok, err := cl.add(spec)
	if err != nil {
		return err
	}
	return printToken(stdout, spec.Name, tok, "")
}

func printToken(w io.Writer, name, tok, note string) error {
	fmt.Fprintf(w, "%s\n\nThe token of client %s, shown only this once: tools send it as their API key\n(OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY).", tok, name)
	if note != "" {
		fmt.Fprintf(w, " %s.", strings.ToUpper(note[:1])+note[1:])
	}
	fmt.Fprintln(w)
	return nil
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func printClients(rows []ClientStatus, asJSON bool, w io.Writer) error {
	if asJSON {
		return writeJSONLines(w, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no client tokens (gatehouse clients add NAME)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODELS\tPROVIDERS\tTOKENS TODAY\tUSD TODAY\tLAST USED\tEXPIRES")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, orAny(r.Models), orAny(r.Providers),
			TokensOfBudget(r.TokensToday, r.DailyTokens), USDOfBudget(r.USDToday, r.DailyUSD), when(r.LastUsed, "never"), when(r.Expires, "never"))
	}
	return tw.Flush()
}

// TokensOfBudget shows a day's tokens against the budget ("1200 / 100000").
func TokensOfBudget(used, budget int64) string {
	if budget <= 0 {
		return fmt.Sprint(used)
	}
	return fmt.Sprintf("%d / %d", used, budget)
}

// USDOfBudget shows a day's spend against the budget ("$0.12 / $2.00").
func USDOfBudget(used, budget float64) string {
	if budget <= 0 {
		return FormatUSD(used)
	}
	return FormatUSD(used) + " / " + FormatUSD(budget)
}

func orAny(l []string) string {
	if len(l) == 0 {
		return "any"
	}
	return strings.Join(l, ",")
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Local().Format("2006-01-02 15:04")
}

// clientsAccess is the clients file, directly or through the running instance.
type clientsAccess interface {
	list() ([]ClientStatus, error)
	add(ClientSpec) (string, error)
	remove(name string) error
	rotate(name string) (string, error)
}

type localClients struct {
	b  ClientBook
	cf Flags
}

func (l localClients) list() ([]ClientStatus, error) {
	list, err := l.b.List()
	if err != nil || len(list) == 0 {
		return ClientStatuses(list, nil), err
	}
	usage := map[string]proxy.ClientUsage{}
	// The history holds today's usage; it is closed unless Gatehouse runs.
	if h, err := store.OpenHistory(l.b.DataDir, store.Options{MaxAge: -1, MaxSize: -1, NoRetention: true}); err == nil {
		usage, err = UsageFromHistory(h, time.Now(), 30*24*time.Hour)
		_ = h.Close()
		if err != nil {
			return nil, err
		}
	}
	return ClientStatuses(list, usage), nil
}

func (l localClients) add(s ClientSpec) (string, error) { return l.b.Add(s) }
func (l localClients) remove(name string) error         { return l.b.Remove(name) }
func (l localClients) rotate(name string) (string, error) {
	return l.b.Rotate(name)
}

type remoteClients struct{ c *Client }

func (r remoteClients) list() ([]ClientStatus, error) {
	var out []ClientStatus
	status, body, err := r.c.Do(http.MethodGet, "clients", nil)
	return out, decodeAdmin(status, body, err, &out)
}

func (r remoteClients) add(s ClientSpec) (string, error) {
	b, _ := json.Marshal(s) // plain struct: cannot fail
	return r.token(r.c.Do(http.MethodPost, "clients", b))
}

func (r remoteClients) remove(name string) error {
	_, err := r.token(r.c.Do(http.MethodPost, "clients/remove?name="+url.QueryEscape(name), nil))
	return err
}

func (r remoteClients) rotate(name string) (string, error) {
	return r.token(r.c.Do(http.MethodPost, "clients/rotate?name="+url.QueryEscape(name), nil))
}

func (r remoteClients) token(status int, body []byte, err error) (string, error) {
	var t newToken
	err = decodeAdmin(status, body, err, &t)
	return t.Token, err
}
