package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/gatehouse/gatehouse/store"
)

// Flags are the flags every command takes: where the data folder and the config
// file are, and (for the commands that listen) the listen address.
type Flags struct {
	Data       string // --data; "" means GATEHOUSE_DATA, then the OS default
	ConfigFile string // --config; "" means DATA/config.toml
	Listen     string // --listen; "" means GATEHOUSE_LISTEN, then the config's
	// AllowRemote is --allow-remote; GATEHOUSE_ALLOW_REMOTE=1 (or true) and
	// the config's allow_remote also turn sharing on (ApplyListen).
	AllowRemote bool

	configDir string // where config.toml is by default, set by DataDir
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
	fs.StringVar(&c.ConfigFile, "config", "", "config file (default DATA/config.toml; on Windows %APPDATA%\\gatehouse\\config.toml)")
	if withListen {
		fs.StringVar(&c.Listen, "listen", "", "listen address (default 127.0.0.1:8765); env GATEHOUSE_LISTEN")
		fs.BoolVar(&c.AllowRemote, "allow-remote", false, "share on the network: allow a --listen address other than loopback; other machines need a client token (env GATEHOUSE_ALLOW_REMOTE=1)")
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

// DataDir resolves the data folder: --data, then GATEHOUSE_DATA (both also
// hold config.toml), then the OS default (config.DefaultFolders: on Windows
// config.toml in %APPDATA%, the rest in %LOCALAPPDATA%). It creates the folders
// with mode 0700.
func (c *Flags) DataDir() (string, error) {
	return c.dataDir(runtime.GOOS, os.Getenv)
}

func (c *Flags) dataDir(goos string, getenv func(string) string) (string, error) {
	d := c.Data
	if d == "" {
		d = getenv("GATEHOUSE_DATA")
	}
	cfgDir := d
	if d == "" {
		f, err := config.DefaultFolders(goos, getenv)
		if err != nil {
			return "", err
		}
		d, cfgDir = migrateData(f), f.Config
	}
	var err error
	if d, err = filepath.Abs(d); err != nil {
		return "", fmt.Errorf("resolve data folder: %w", err)
	}
	if c.configDir, err = filepath.Abs(cfgDir); err != nil {
		return "", fmt.Errorf("resolve config folder: %w", err)
	}
	for _, dir := range []string{d, c.configDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create data folder: %w", err)
		}
	}
	return d, nil
}

// migrateData moves the history an older Gatehouse kept in f.Legacy to f.Data
// and returns the folder to use: f.Legacy while that fails, which on Windows
// means an older Gatehouse still runs from there and holds the file (the
// next start moves it).
func migrateData(f config.Folders) string {
	if f.Legacy == "" || f.Legacy == f.Data {
		return f.Data
	}
	if _, err := config.MoveFiles(f.Legacy, f.Data, store.FileName); err != nil {
		return f.Legacy
	}
	return f.Data
}

// ConfigPath is --config, or config.toml in the config folder (the data folder
// unless DataDir chose the OS default).
func (c *Flags) ConfigPath(dataDir string) string {
	if c.ConfigFile != "" {
		return c.ConfigFile
	}
	if c.configDir != "" {
		return filepath.Join(c.configDir, "config.toml")
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

// Open resolves the data folder and loads its config: what every command that
// works on providers or keys starts with.
func (c *Flags) Open() (dataDir string, cfg *config.Config, err error) {
	if dataDir, err = c.DataDir(); err != nil {
		return "", nil, err
	}
	cfg, err = c.LoadConfig(dataDir)
	return dataDir, cfg, err
}

// ApplyListen overrides cfg.Listen with --listen, then GATEHOUSE_LISTEN, and
// turns cfg.AllowRemote on for --allow-remote or GATEHOUSE_ALLOW_REMOTE. The
// proxy reads the config only, so the flag must land there (issue 13: it
// did not, and every remote request got 403).
func (c *Flags) ApplyListen(cfg *config.Config) {
	if c.Listen != "" {
		cfg.Listen = c.Listen
	} else if env := os.Getenv("GATEHOUSE_LISTEN"); env != "" {
		cfg.Listen = env
	}
	if env := strings.ToLower(os.Getenv("GATEHOUSE_ALLOW_REMOTE")); c.AllowRemote || env == "1" || env == "true" || env == "yes" {
		cfg.AllowRemote = true
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
	if c.AllowRemote {
		out = append(out, "--allow-remote")
	}
	return out
}
