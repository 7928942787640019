package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
	"github.com/tidwall/gjson"
	"golang.org/x/term"
)

const keysUsage = `Usage:
  gatehouse keys set NAME [--field F]   secret from stdin (no echo on a terminal)
  gatehouse keys list [--json]
  gatehouse keys delete NAME [--field F]
  gatehouse keys test NAME
Every subcommand takes --data DIR and --config FILE.
`

// runKeys is `gatehouse keys ...`.
func runKeys(args []string, stdin io.Reader, stdout, stderr io.Writer, version string) error {
	if len(args) == 0 {
		return UsageError{Usage: keysUsage}
	}
	sub, rest := args[0], args[1:]
	fs := NewFlagSet("keys "+sub, stderr)
	var cf Flags
	cf.Add(fs, false)
	field := fs.String("field", "", "part of a multi-part credential (secret, password, ...)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := Parse(fs, rest)
	if err != nil {
		return err
	}
	if *field != "" && !config.ValidName(*field) {
		return UsageError{Msg: fmt.Sprintf("--field %q must match [a-z0-9-]+", *field)}
	}
	needName := sub == "set" || sub == "delete" || sub == "test"
	switch {
	case sub != "list" && !needName:
		return UsageError{Msg: fmt.Sprintf("unknown subcommand %q", sub), Usage: keysUsage}
	case needName && len(pos) != 1, !needName && len(pos) != 0:
		return UsageError{Usage: keysUsage}
	}
	dataDir, cfg, err := cf.Open()
	if err != nil {
		return err
	}
	if sub == "list" {
		return keysList(cfg, *asJSON, stdout, stderr)
	}
	p, ok := cfg.Provider(pos[0])
	if !ok {
		return fmt.Errorf("no provider %q (see `gatehouse providers`)", pos[0])
	}
	switch sub {
	case "set":
		return keysSet(dataDir, p, *field, stdin, stdout, stderr)
	case "delete":
		return keysDelete(dataDir, p, *field, stdout, stderr)
	}
	return keysTest(p, stdout, stderr, version)
}

func keysSet(dataDir string, p *config.Provider, field string, stdin io.Reader, stdout, stderr io.Writer) error {
	if p.NoKey && field == "" {
		return fmt.Errorf("%s is a local server that needs no key", p.Name)
	}
	secret, err := readSecret(stdin, stderr, store.Account(p.Name, field))
	if err != nil {
		return err
	}
	keys := store.NewKeys()
	if err := keys.Set(p.Name, field, secret); err != nil {
		if errors.Is(err, store.ErrKeychainUnavailable) {
			return fmt.Errorf("%w\nnothing was stored: Gatehouse keeps keys only in the OS keychain", err)
		}
		return err
	}
	what := "key"
	if field != "" {
		what = field
	}
	fmt.Fprintf(stdout, "stored the %s of %s in the keychain (%s)\n", what, p.Name, proxy.MaskKey(secret))
	tellRunning(dataDir, p.Name, field, stdout, stderr)
	return nil
}

func keysDelete(dataDir string, p *config.Provider, field string, stdout, stderr io.Writer) error {
	fields := []string{field}
	if field == "" {
		// A provider's every part goes, including fields of a scheme it used before.
		fields = []string{"", "secret", "password"}
	}
	keys := store.NewKeys()
	var deleted []string
	for _, f := range fields {
		found, err := keys.Delete(p.Name, f)
		if err != nil {
			return err
		}
		if found {
			deleted = append(deleted, store.Account(p.Name, f))
		}
	}
	if len(deleted) == 0 {
		fmt.Fprintf(stdout, "no key of %s was in the keychain\n", p.Name)
		return nil
	}
	fmt.Fprintf(stdout, "deleted %s from the keychain\n", strings.Join(deleted, ", "))
	tellRunning(dataDir, p.Name, field, stdout, stderr)
	return nil
}

// tellRunning makes a running instance re-read the provider's keys, so that its
// cache never serves a stale key.
func tellRunning(dataDir, provider, field string, stdout, stderr io.Writer) {
	c, ok := FindRunning(dataDir)
	if !ok {
		return
	}
	q := url.Values{"provider": {provider}}
	if field != "" {
		q.Set("field", field)
	}
	status, body, err := c.Do("POST", "keys/reload?"+q.Encode(), nil)
	if err != nil || status != 200 {
		msg := gjson.GetBytes(body, "error").String()
		if err != nil {
			msg = err.Error()
		}
		Warn(stderr, "keys", "the running Gatehouse could not reload the key (%s); restart it to use the change", msg)
		return
	}
	fmt.Fprintln(stdout, "the running Gatehouse uses the change now")
}

// readSecret reads a secret from stdin: without echo from a terminal, otherwise
// the first line.
func readSecret(stdin io.Reader, stderr io.Writer, account string) (string, error) {
	if why := noConsoleInput(); why != "" {
		return "", errors.New("cannot read the secret for " + account + ": " + why)
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Secret for %s (input hidden): ", account)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read secret from the terminal: %w", err)
		}
		return validSecret(string(b))
	}
	r := bufio.NewReaderSize(io.LimitReader(stdin, store.MaxSecretBytes*2+2), 4096)
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read secret from stdin: %w", err)
	}
	return validSecret(line)
}

func validSecret(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("no secret on stdin (pipe it in, e.g. `printenv OPENAI_API_KEY | gatehouse keys set openai`)")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("the secret contains control characters")
	}
	return s, nil
}

func keysList(cfg *config.Config, asJSON bool, stdout, stderr io.Writer) error {
	keys := openKeysForCommand(cfg, stderr)
	var rows []KeyStatus
	for i := range cfg.Providers {
		rows = append(rows, KeyStatusOf(keys, &cfg.Providers[i]))
	}
	if asJSON {
		return writeJSONLines(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSOURCE\tKEY")
	for i, r := range rows {
		mask := r.Mask
		if cfg.Providers[i].NoKey && r.Source == SourceNone {
			mask = "(no key needed)"
		} else if r.Source == SourceEnv {
			mask += " (" + cfg.Providers[i].KeyEnv + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Provider, r.Source, mask)
	}
	return tw.Flush()
}

// writeJSONLines writes each row as one line of JSON.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// openKeysForCommand reads cfg's keys for a listing. Without a keychain it says
// why on stderr and returns the cache anyway (env keys still show).
func openKeysForCommand(cfg *config.Config, stderr io.Writer) *store.Keys {
	keys := store.NewKeys()
	if err := keys.Load(KeyAccounts(cfg)); err != nil {
		Warn(stderr, "", "keychain unavailable, showing key_env variables only: %v", err)
	}
	return keys
}

// keysTest makes one cheap authenticated call to p and reports the outcome.
func keysTest(p *config.Provider, stdout, stderr io.Writer, version string) error {
	keys := store.NewKeys()
	if err := keys.Load(providerAccounts(p, "")); err != nil {
		Warn(stderr, "keys test", "keychain unavailable, trying key_env only: %v", err)
	}
	err := CheckKey(p, keys, version)
	if errors.Is(err, ErrNoKey) {
		msg := fmt.Sprintf("%s: no key: run `gatehouse keys set %s`", p.Name, p.Name)
		if p.KeyEnv != "" {
			msg += " or set " + p.KeyEnv
		}
		return errors.New(msg)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	st := KeyStatusOf(keys, p)
	fmt.Fprintf(stdout, "ok: %s accepted the key from %s %s\n", p.Name, st.Source, st.Mask)
	return nil
}
