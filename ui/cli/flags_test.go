package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDataDirWindowsFolders runs the Windows folder choice on this machine:
// DefaultFolders joins with `\`, which a Linux file name simply contains.
func TestDataDirWindowsFolders(t *testing.T) {
	base := t.TempDir()
	roaming, local := filepath.Join(base, "Roaming"), filepath.Join(base, "Local")
	env := func(k string) string {
		return map[string]string{"APPDATA": roaming, "LOCALAPPDATA": local}[k]
	}
	legacy, fresh := roaming+`\gatehouse`, local+`\gatehouse`
	if err := os.MkdirAll(legacy, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(legacy, "history.db"), []byte("old history"), 0o600); err != nil {
		t.Fatal(err)
	}

	var f Flags
	data, err := f.dataDir("windows", env)
	if err != nil {
		t.Fatal(err)
	}
	if data != fresh {
		t.Errorf("data folder %q, want %%LOCALAPPDATA%%: %q", data, fresh)
	}
	if got, want := f.ConfigPath(data), filepath.Join(legacy, "config.toml"); got != want {
		t.Errorf("config path %q, want it to stay in %%APPDATA%%: %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(fresh, "history.db")); err != nil || string(b) != "old history" {
		t.Errorf("history not moved to %%LOCALAPPDATA%%: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(legacy, "history.db")); !os.IsNotExist(err) {
		t.Errorf("history.db still in %%APPDATA%%: %v", err)
	}

	// When the history cannot move (on Windows: an older Gatehouse still runs
	// and holds it), it is used where it is.
	if err := os.WriteFile(filepath.Join(legacy, "history.db"), []byte("held history"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(fresh); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fresh, nil, 0o600); err != nil { // a file where the folder goes: the move fails
		t.Fatal(err)
	}
	var g Flags
	if data, err := g.dataDir("windows", env); err != nil || data != legacy {
		t.Errorf("data folder with an unmovable history = %q, %v; want %q", data, err, legacy)
	}
}

func TestDataDirFromFlagOrEnvironmentHoldsConfig(t *testing.T) {
	dir := t.TempDir()
	for name, f := range map[string]Flags{"--data": {Data: dir}} {
		data, err := f.dataDir("windows", func(string) string { return "" })
		if err != nil || data != dir || f.ConfigPath(data) != filepath.Join(dir, "config.toml") {
			t.Errorf("%s: data %q, config %q, %v; want both in %s", name, data, f.ConfigPath(data), err, dir)
		}
	}
	var f Flags
	env := func(k string) string { return map[string]string{"GATEHOUSE_DATA": dir, "APPDATA": `C:\x`}[k] }
	if data, err := f.dataDir("windows", env); err != nil || data != dir || f.ConfigPath(data) != filepath.Join(dir, "config.toml") {
		t.Errorf("GATEHOUSE_DATA: data %q, config %q, %v; want both in %s", data, f.ConfigPath(data), err, dir)
	}
}
