package config

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func TestDefaultFolders(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name, goos string
		getenv     func(string) string
		want       Folders
		wantErr    bool
	}{
		{"windows: history leaves the roaming profile", "windows",
			env("APPDATA", `C:\Users\ann\AppData\Roaming`, "LOCALAPPDATA", `C:\Users\ann\AppData\Local\`),
			Folders{Config: `C:\Users\ann\AppData\Roaming\gatehouse`, Data: `C:\Users\ann\AppData\Local\gatehouse`,
				Legacy: `C:\Users\ann\AppData\Roaming\gatehouse`}, false},
		{"windows without LOCALAPPDATA keeps everything roaming", "windows",
			env("APPDATA", `C:\Users\ann\AppData\Roaming`),
			Folders{Config: `C:\Users\ann\AppData\Roaming\gatehouse`, Data: `C:\Users\ann\AppData\Roaming\gatehouse`}, false},
		{"windows without APPDATA", "windows", env("LOCALAPPDATA", `C:\x`), Folders{}, true},
		{"macOS", "darwin", env("HOME", "/Users/ann"),
			Folders{Config: "/Users/ann/Library/Application Support/gatehouse", Data: "/Users/ann/Library/Application Support/gatehouse"}, false},
		{"linux", "linux", env("HOME", "/home/ann"),
			Folders{Config: "/home/ann/.config/gatehouse", Data: "/home/ann/.config/gatehouse"}, false},
		{"linux XDG_CONFIG_HOME", "linux", env("HOME", "/home/ann", "XDG_CONFIG_HOME", "/cfg"),
			Folders{Config: "/cfg/gatehouse", Data: "/cfg/gatehouse"}, false},
		{"linux relative XDG_CONFIG_HOME", "linux", env("HOME", "/home/ann", "XDG_CONFIG_HOME", "cfg"), Folders{}, true},
		{"linux no HOME", "linux", env(), Folders{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultFolders(tt.goos, tt.getenv)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("DefaultFolders(%s) = %+v, %v; want %+v, error %v", tt.goos, got, err, tt.want, tt.wantErr)
			}
		})
	}
	// On this machine the folders are where Gatehouse always kept them.
	if runtime.GOOS != "windows" {
		dir, err := os.UserConfigDir()
		got, ferr := DefaultFolders(runtime.GOOS, os.Getenv)
		if err == nil && (ferr != nil || got.Data != filepath.Join(dir, "gatehouse") || got.Config != got.Data) {
			t.Errorf("DefaultFolders here = %+v, %v; want both in %s", got, ferr, filepath.Join(dir, "gatehouse"))
		}
	}
}

func TestMoveFiles(t *testing.T) {
	from, to := t.TempDir(), filepath.Join(t.TempDir(), "new")
	for _, n := range []string{"history.db", "config.toml", "admin.token"} {
		if err := os.WriteFile(filepath.Join(from, n), []byte("old "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := MoveFiles(from, to, "history.db", "absent.db")
	if err != nil || !slices.Equal(moved, []string{"history.db"}) {
		t.Fatalf("MoveFiles = %q, %v; want [history.db]", moved, err)
	}
	if b, err := os.ReadFile(filepath.Join(to, "history.db")); err != nil || string(b) != "old history.db" {
		t.Fatalf("moved history.db = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(from, "history.db")); !os.IsNotExist(err) {
		t.Fatalf("history.db is still in the old folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(from, "config.toml")); err != nil {
		t.Fatalf("config.toml, not named, moved: %v", err)
	}
	// A file already in the new folder is never overwritten.
	if err := os.WriteFile(filepath.Join(from, "history.db"), []byte("older"), 0o600); err != nil {
		t.Fatal(err)
	}
	if moved, err := MoveFiles(from, to, "history.db"); err != nil || len(moved) != 0 {
		t.Fatalf("second MoveFiles = %q, %v; want nothing moved", moved, err)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "history.db")); string(b) != "old history.db" {
		t.Fatalf("history.db overwritten: %q", b)
	}
}
