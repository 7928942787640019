package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// Flags are the flags every command takes: where the data folder and the config
// file are, and (for the commands that listen) the listen address.
type Flags struct {
	Data       string // --data; "" means GATEHOUSE_DATA, then the OS default
	ConfigFile string // --config; "" means DATA/config.toml
	Listen     string // --listen; "" means GATEHOUSE_LISTEN, then the config's
}

// NewFlagSet returns a flag set that prints errors to stderr and does not exit.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Add registers --data and --config (and --listen when withListen).
func (c *Flags) Add(fs *flag.FlagSet, withListen bool) {
	fs.StringVar(&c.Data, "data", "", "data folder (config, history); env GATEHOUSE_DATA")
	fs.StringVar(&c.ConfigFile, "config", "", "config file (default DATA/config.toml)")
	if withListen {
		fs.StringVar(&c.Listen, "listen", "", "listen address (default 127.0.0.1:8765); env GATEHOUSE_LISTEN")
	}
}

// Parse parses args, allowing positional arguments before, between and after
// flags ("keys set NAME --field F"), and returns the positional ones. A bad flag
// is a UsageError (the flag package has printed why).
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, UsageError{}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// DataDir resolves the data folder: --data, then GATEHOUSE_DATA, then the OS
// user config dir + /gatehouse. It creates the folder with mode 0700.
func (c *Flags) DataDir() (string, error) {
	d := c.Data
	if d == "" {
		d = os.Getenv("GATEHOUSE_DATA")
	}
	if d == "" {
		var err error
		if d, err = config.DefaultDataDir(); err != nil {
			return "", err
		}
	}
	d, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("resolve data folder: %w", err)
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	return d, nil
}

// ConfigPath is --config, or DATA/config.toml.
func (c *Flags) ConfigPath(dataDir string) string {
	if c.ConfigFile != "" {
		return c.ConfigFile
	}
	return filepath.Join(dataDir, "config.toml")
}

// LoadConfig loads the config file and applies --listen / GATEHOUSE_LISTEN.
func (c *Flags) LoadConfig(dataDir string) (*config.Config, error) {
	cfg, err := config.Load(c.ConfigPath(dataDir))
	if err != nil {
		return nil, err
	}
	c.ApplyListen(cfg)
	return cfg, nil
}

// ApplyListen overrides cfg.Listen with --listen, then GATEHOUSE_LISTEN.
func (c *Flags) ApplyListen(cfg *config.Config) {
	if c.Listen != "" {
		cfg.Listen = c.Listen
	} else if env := os.Getenv("GATEHOUSE_LISTEN"); env != "" {
		cfg.Listen = env
	}
}

// Args are the flags that make another launch use the same data and config
// (start at login uses them).
func (c Flags) Args() []string {
	var out []string
	if c.Data != "" {
		if abs, err := filepath.Abs(c.Data); err == nil {
			out = append(out, "--data", abs)
		}
	}
	if c.ConfigFile != "" {
		if abs, err := filepath.Abs(c.ConfigFile); err == nil {
			out = append(out, "--config", abs)
		}
	}
	if c.Listen != "" {
		out = append(out, "--listen", c.Listen)
	}
	return out
}
