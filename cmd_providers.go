package main

import (
	"encoding/json"
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
func runProviders(args []string, stdout, stderr io.Writer) int {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := newFlagSet("providers "+sub, stderr)
	var cf commonFlags
	cf.addCommon(fs, false)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	format := fs.String("format", "", "wire format: openai, anthropic or gemini")
	baseURL := fs.String("base-url", "", "base URL, with the API version segment (https://host/v1)")
	models := fs.String("models", "", "comma-separated model globs routed to this provider")
	keyEnv := fs.String("key-env", "", "environment variable holding the key when the keychain has none")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	switch {
	case sub != "list" && sub != "add" && sub != "remove":
		fmt.Fprintf(stderr, "gatehouse providers: unknown subcommand %q\n\n%s", sub, providersUsage)
		return 2
	case sub == "list" && len(pos) != 0, sub != "list" && len(pos) != 1:
		fmt.Fprint(stderr, providersUsage)
		return 2
	}
	dataDir, err := cf.dataDir()
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse providers: %v\n", err)
		return 1
	}
	cfg, err := cf.loadConfig(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse providers: %v\n", err)
		return 1
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
		return providersAdd(cfg, p, stdout, stderr)
	case "remove":
		return providersRemove(cfg, pos[0], stdout, stderr)
	}
	return providersList(cfg, *asJSON, stdout, stderr)
}

func providersAdd(cfg *config.Config, p config.Provider, stdout, stderr io.Writer) int {
	var problems []string
	if !config.ValidName(p.Name) {
		problems = append(problems, fmt.Sprintf("name %q must match [a-z0-9-]+", p.Name))
	}
	if !p.Format.Valid() {
		problems = append(problems, fmt.Sprintf("--format %q must be openai, anthropic or gemini", p.Format))
	}
	if err := config.ValidBaseURL(p.BaseURL); err != nil {
		problems = append(problems, "--base-url "+err.Error())
	}
	if _, ok := cfg.Provider(p.Name); ok {
		problems = append(problems, fmt.Sprintf("provider %q exists already (presets are changed by a [[provider]] entry of the same name in %s)", p.Name, cfg.Path))
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "gatehouse providers add: %s\n", strings.Join(problems, "; "))
		return 1
	}
	if err := config.EditFile(cfg.Path, func(src []byte) ([]byte, error) { return config.AddProvider(src, p) }); err != nil {
		fmt.Fprintf(stderr, "gatehouse providers add: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "added provider %s to %s; a running Gatehouse picks it up within seconds\n", p.Name, cfg.Path)
	fmt.Fprintf(stdout, "store its key with: gatehouse keys set %s\n", p.Name)
	return 0
}

func providersRemove(cfg *config.Config, name string, stdout, stderr io.Writer) int {
	p, ok := cfg.Provider(name)
	if !ok {
		fmt.Fprintf(stderr, "gatehouse providers remove: no provider %q\n", name)
		return 1
	}
	if !p.InFile {
		fmt.Fprintf(stderr, "gatehouse providers remove: %s is a built-in preset and cannot be removed\n", name)
		return 1
	}
	err := config.EditFile(cfg.Path, func(src []byte) ([]byte, error) { return config.RemoveProvider(src, name) })
	if errors.Is(err, config.ErrNotInFile) {
		fmt.Fprintf(stderr, "gatehouse providers remove: %s is not in %s\n", name, cfg.Path)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse providers remove: %v\n", err)
		return 1
	}
	if p.Preset {
		fmt.Fprintf(stdout, "removed your settings for %s from %s; the built-in preset applies again\n", name, cfg.Path)
		return 0
	}
	fmt.Fprintf(stdout, "removed provider %s from %s\n", name, cfg.Path)
	if !p.NoKey {
		fmt.Fprintf(stdout, "its key stays in the keychain until: gatehouse keys delete %s\n", name)
	}
	return 0
}

func providersList(cfg *config.Config, asJSON bool, stdout, stderr io.Writer) int {
	keys := openKeysForCommand(cfg, stderr)
	rows := make([]providerRow, 0, len(cfg.Providers))
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		src := keyStatusOf(keys, p).Source
		rows = append(rows, providerRow{Name: p.Name, Format: string(p.Format), BaseURL: providerBase(p),
			Models: p.Models, KeySource: src, KeyEnv: p.KeyEnv, Preset: p.Preset})
		if rows[i].Models == nil {
			rows[i].Models = []string{}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintf(stderr, "gatehouse providers: %v\n", err)
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFORMAT\tBASE URL\tMODELS\tKEY")
	for i, r := range rows {
		key := r.KeySource
		if cfg.Providers[i].NoKey && key == "none" {
			key = "not needed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Format, r.BaseURL, strings.Join(r.Models, ","), key)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "gatehouse providers: %v\n", err)
		return 1
	}
	return 0
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
