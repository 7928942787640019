package config

import (
	"strings"
	"testing"
	"time"
)

// TestSetChangedWritesOnlyWhatChanged: saving the Settings screen with one
// change writes that key alone, keeps the file's comments, and a value the
// user puts back to its default that the file never had stays out.
func TestSetChangedWritesOnlyWhatChanged(t *testing.T) {
	src := []byte("# my config\nlisten = \"127.0.0.1:9000\" # moved\n\n[retry]\nattempts = 2\n")
	old, err := Parse(src, "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	upd, _ := Parse(src, "c.toml")
	upd.Retry.FirstByteTimeout.Duration = 0 // "0s": off, not the default
	upd.Retry.OnStatus = []int{429, 503}
	upd.Retry.CircuitCooldown.Duration = time.Minute
	off := false
	upd.App.Notifications = &off
	out, changed, err := SetChanged(src, old, upd, AppFields)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range changed {
		names = append(names, f.String())
	}
	if got := strings.Join(names, ","); got != "retry.on_status,retry.first_byte_timeout,retry.circuit_cooldown,app.notifications" {
		t.Errorf("changed %s", got)
	}
	for _, want := range []string{"# my config", `listen = "127.0.0.1:9000" # moved`, "attempts = 2", `first_byte_timeout = "0s"`,
		"on_status = [429, 503]", `circuit_cooldown = "1m0s"`, "notifications = false"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("file lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"max_age", "base_delay", "body_cap_bytes", "start_at_login"} {
		if strings.Contains(string(out), unwanted) {
			t.Errorf("file got the untouched default %s:\n%s", unwanted, out)
		}
	}
	got, err := Parse(out, "c.toml")
	if err != nil || got.Retry.FirstByteTimeout.Duration != 0 || got.App.NotificationsEnabled() {
		t.Errorf("reloaded: %v, first byte %v", err, got.Retry.FirstByteTimeout)
	}
	if _, err := old.Value(Field{"retry", "nope"}); err == nil {
		t.Error("Value of an unknown key gave no error")
	}
}

func TestSetRoutesReplacesTheRouteTables(t *testing.T) {
	src := []byte("listen = \"127.0.0.1:8765\"\n\n[[route]]\nmodel = \"smart\"\ntargets = [\"openai/gpt-4o\"]\n\n[retry]\nattempts = 2\n\n[[route]]\nmodel = \"old\"\ntargets = [\"x/y\"]\n")
	out, err := SetRoutes(src, []Route{{Model: "smart", Targets: []string{"anthropic/claude-x", "openai/gpt-4o"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(out, "c.toml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(c.Routes) != 1 || strings.Join(c.Routes[0].Targets, ",") != "anthropic/claude-x,openai/gpt-4o" || c.Retry.Attempts != 2 {
		t.Errorf("routes %+v, attempts %d:\n%s", c.Routes, c.Retry.Attempts, out)
	}
	if strings.Contains(string(out), "old") || strings.Contains(string(out), "\n\n\n") {
		t.Errorf("left-overs:\n%s", out)
	}
}
