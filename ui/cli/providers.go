package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse/gatehouse/proxy/config"
)

const providersUsage = `Usage:
  gatehouse providers [--json]
  gatehouse providers add NAME --format F --base-url URL [--models GLOB,...] [--key-env VAR]
  gatehouse providers remove NAME
Every subcommand takes --data DIR and --config FILE.
`

// providerRow is one line of `providers --json`.
type providerRow struct {
	Name      string   `json:"name"`
	Format    string   `json:"format"`
	BaseURL   string   `json:"base_url"`
	Models    []string `json:"models"`
	KeySource string   `json:"key_source"` // keychain | env | none
	KeyEnv    string   `json:"key_env,omitempty"`
	Preset    bool     `json:"preset"`
}

// runProviders is `gatehouse providers ...`.
func runProviders(args []string, stdout, stderr io.Writer) error {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := NewFlagSet("providers "+sub, stderr)
	var cf Flags
	cf.Add(fs, false)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	format := fs.String("format", "", "wire format: openai, anthropic or gemini")
	baseURL := fs.String("base-url", "", "base URL, with the API version segment (https://host/v1)")
	models := fs.String("models", "", "comma-separated model globs routed to this provider")
	keyEnv := fs.String("key-env", "", "environment variable holding the key when the keychain has none")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case sub != "list" && sub != "add" && sub != "remove":
		return UsageError{Msg: fmt.Sprintf("unknown subcommand %q", sub), Usage: providersUsage}
	case sub == "list" && len(pos) != 0, sub != "list" && len(pos) != 1:
		return UsageError{Usage: providersUsage}
	}
	dataDir, err := cf.DataDir()
	if err != nil {
		return err
	}
	cfg, err := cf.LoadConfig(dataDir)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		p := config.Provider{Name: pos[0], Format: config.Format(*format), BaseURL: *baseURL, KeyEnv: *keyEnv}
		if *models != "" {
			for _, g := range strings.Split(*models, ",") {
				if g = strings.TrimSpace(g); g != "" {
					p.Models = append(p.Models, g)
				}
			}
		}
		return providersAdd(cfg, p, stdout)
	case "remove":
		return providersRemove(cfg, pos[0], stdout)
	}
	return providersList(cfg, *asJSON, stdout, stderr)
}

func providersAdd(cfg *config.Config, p config.Provider, stdout io.Writer) error {
	var problems []string
	var ee config.EntryError
	if err := p.CheckEntry(); errors.As(err, &ee) {
		for _, f := range ee {
			problems = append(problems, entryProblem(f))
		}
	}
	if _, ok := cfg.Provider(p.Name); ok {
		problems = append(problems, fmt.Sprintf("provider %q exists already (presets are changed by a [[provider]] entry of the same name in %s)", p.Name, cfg.Path))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	if err := config.EditFile(cfg.Path, func(src []byte) ([]byte, error) { return config.AddProvider(src, p) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added provider %s to %s; a running Gatehouse picks it up within seconds\n", p.Name, cfg.Path)
	fmt.Fprintf(stdout, "store its key with: gatehouse keys set %s\n", p.Name)
	return nil
}

// entryProblem words a bad field with the flag that set it.
func entryProblem(f *config.FieldError) string {
	switch f.Key {
	case "format":
		return fmt.Sprintf("--format %q %v", f.Value, f.Err)
	case "base_url":
		return fmt.Sprintf("--base-url %v", f.Err)
	}
	return f.Error()
}

func providersRemove(cfg *config.Config, name string, stdout io.Writer) error {
	p, ok := cfg.Provider(name)
	if !ok {
		return fmt.Errorf("no provider %q", name)
	}
	if !p.InFile {
		return fmt.Errorf("%s is a built-in preset and cannot be removed", name)
	}
	err := config.EditFile(cfg.Path, func(src []byte) ([]byte, error) { return config.RemoveProvider(src, name) })
	if errors.Is(err, config.ErrNotInFile) {
		return fmt.Errorf("%s is not in %s", name, cfg.Path)
	}
	if err != nil {
		return err
	}
	if p.Preset {
		fmt.Fprintf(stdout, "removed your settings for %s from %s; the built-in preset applies again\n", name, cfg.Path)
		return nil
	}
	fmt.Fprintf(stdout, "removed provider %s from %s\n", name, cfg.Path)
	if !p.NoKey {
		fmt.Fprintf(stdout, "its key stays in the keychain until: gatehouse keys delete %s\n", name)
	}
	return nil
}

func providersList(cfg *config.Config, asJSON bool, stdout, stderr io.Writer) error {
	keys := openKeysForCommand(cfg, stderr)
	rows := make([]providerRow, 0, len(cfg.Providers))
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		src := KeyStatusOf(keys, p).Source
		rows = append(rows, providerRow{Name: p.Name, Format: string(p.Format), BaseURL: providerBase(p),
			Models: p.Models, KeySource: src, KeyEnv: p.KeyEnv, Preset: p.Preset})
		if rows[i].Models == nil {
			rows[i].Models = []string{}
		}
	}
	if asJSON {
		return writeJSONLines(stdout, rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFORMAT\tBASE URL\tMODELS\tKEY")
	for i, r := range rows {
		key := r.KeySource
		if cfg.Providers[i].NoKey && key == SourceNone {
			key = "not needed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Format, r.BaseURL, strings.Join(r.Models, ","), key)
	}
	return tw.Flush()
}

// providerBase is the base URL shown for p: Azure's is built from its resource.
func providerBase(p *config.Provider) string {
	if p.Resource != "" {
		u := "https://" + p.Resource + ".openai.azure.com/openai"
		if p.Deployment != "" {
			u += "/deployments/" + p.Deployment
		}
		return u
	}
	return p.BaseURL
}
