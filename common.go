package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// commonFlags are the flags every command takes.
type commonFlags struct {
	data       string
	configFile string
	listen     string
}

// newFlagSet returns a flag set that prints errors to stderr and does not exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// addCommon registers --data and --config (and --listen when withListen).
func (c *commonFlags) addCommon(fs *flag.FlagSet, withListen bool) {
	fs.StringVar(&c.data, "data", "", "data folder (config, history); env GATEHOUSE_DATA")
	fs.StringVar(&c.configFile, "config", "", "config file (default DATA/config.toml)")
	if withListen {
		fs.StringVar(&c.listen, "listen", "", "listen address (default 127.0.0.1:8765); env GATEHOUSE_LISTEN")
	}
}

// dataDir resolves the data folder: --data, then GATEHOUSE_DATA, then the OS
// user config dir + /gatehouse. It creates the folder with mode 0700.
func (c *commonFlags) dataDir() (string, error) {
	d := c.data
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

// configPath is --config, or DATA/config.toml.
func (c *commonFlags) configPath(dataDir string) string {
	if c.configFile != "" {
		return c.configFile
	}
	return filepath.Join(dataDir, "config.toml")
}

// loadConfig loads the config file and applies --listen / GATEHOUSE_LISTEN.
func (c *commonFlags) loadConfig(dataDir string) (*config.Config, error) {
	cfg, err := config.Load(c.configPath(dataDir))
	if err != nil {
		return nil, err
	}
	c.applyListen(cfg)
	return cfg, nil
}

// applyListen overrides cfg.Listen with --listen, then GATEHOUSE_LISTEN.
func (c *commonFlags) applyListen(cfg *config.Config) {
	if c.listen != "" {
		cfg.Listen = c.listen
	} else if env := os.Getenv("GATEHOUSE_LISTEN"); env != "" {
		cfg.Listen = env
	}
}
