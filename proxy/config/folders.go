package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Folders are where Gatehouse keeps its files when no --data folder is given.
type Folders struct {
	// Config holds config.toml.
	Config string
	// Data holds the history (up to 512 MB), instance.json and the admin token.
	Data string
	// Legacy is where Gatehouse kept Data before it moved out of Config (Windows
	// only; "" elsewhere): history found there is moved to Data.
	Legacy string
}

// DefaultFolders chooses the folders for goos from the environment. On Windows
// config.toml stays in %APPDATA% (Roaming, it follows the user) and the rest
// goes to %LOCALAPPDATA%: a roaming profile would copy the history at every
// logon and logoff (issue 18). macOS and Linux keep both in the user config
// folder, as os.UserConfigDir finds it.
func DefaultFolders(goos string, getenv func(string) string) (Folders, error) {
	if goos == "windows" {
		roaming, local := getenv("APPDATA"), getenv("LOCALAPPDATA")
		if roaming == "" {
			return Folders{}, errors.New("find the config folder: %APPDATA% is not set (or pass --data DIR)")
		}
		cfg := strings.TrimRight(roaming, `\/`) + `\gatehouse`
		if local == "" {
			return Folders{Config: cfg, Data: cfg}, nil
		}
		return Folders{Config: cfg, Data: strings.TrimRight(local, `\/`) + `\gatehouse`, Legacy: cfg}, nil
	}
	var dir string
	switch goos {
	case "darwin", "ios":
		if dir = getenv("HOME"); dir == "" {
			return Folders{}, errors.New("find the config folder: $HOME is not set (or pass --data DIR)")
		}
		dir += "/Library/Application Support"
	default:
		dir = getenv("XDG_CONFIG_HOME")
		switch {
		case dir == "":
			if dir = getenv("HOME"); dir == "" {
				return Folders{}, errors.New("find the config folder: neither $XDG_CONFIG_HOME nor $HOME is set (or pass --data DIR)")
			}
			dir += "/.config"
		case !strings.HasPrefix(dir, "/"):
			return Folders{}, fmt.Errorf("find the config folder: $XDG_CONFIG_HOME %q is not an absolute path", dir)
		}
	}
	d := dir + "/gatehouse"
	return Folders{Config: d, Data: d}, nil
}

// MoveFiles moves each named file that exists in from and not yet in to, and
// returns the names it moved. It stops at the first rename that fails (on
// Windows: the file is open, e.g. by a Gatehouse still running from before).
func MoveFiles(from, to string, names ...string) ([]string, error) {
	var moved []string
	for _, n := range names {
		src, dst := filepath.Join(from, n), filepath.Join(to, n)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := os.MkdirAll(to, 0o700); err != nil {
			return moved, fmt.Errorf("move %s to %s: %w", n, to, err)
		}
		if err := os.Rename(src, dst); err != nil {
			return moved, fmt.Errorf("move %s to %s: %w", n, to, err)
		}
		moved = append(moved, n)
	}
	return moved, nil
}
