package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// autostartFile is the XDG autostart entry that starts Gatehouse at login.
func autostartFile() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find autostart folder: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", "gatehouse.desktop"), nil
}

// SetAutostart installs (on) or removes the autostart entry; args are the
// flags the app runs with (e.g. --data).
func SetAutostart(on bool, args []string) error {
	path, err := autostartFile()
	if err != nil {
		return err
	}
	return setAutostartFile(path, on, args, desktopEntry)
}

// desktopEntry is the XDG autostart entry that runs exe with args.
func desktopEntry(exe string, args []string) []byte {
	cmd := []string{desktopQuote(exe)}
	for _, a := range args {
		cmd = append(cmd, desktopQuote(a))
	}
	return []byte("[Desktop Entry]\nType=Application\nName=Gatehouse\nComment=Local LLM proxy\n" +
		"Exec=" + strings.Join(cmd, " ") + "\nIcon=" + AppID + "\nX-GNOME-Autostart-enabled=true\nTerminal=false\n")
}

// desktopQuote quotes an Exec argument per the desktop entry spec.
func desktopQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\$`") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(s) + `"`
}
