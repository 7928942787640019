package ui

import (
	"encoding/xml"
	"strings"
	"testing"
)

// The macOS login item must be a plist launchd can read, holding the exact
// arguments (paths with spaces and ampersands included).
func TestLaunchAgentPlist(t *testing.T) {
	exe := "/Applications/Gate & House.app/Contents/MacOS/gatehouse"
	p := launchAgentPlist(exe, []string{"--hidden", "--data", "/Users/a b/<gh>"})
	var doc struct {
		Dict struct {
			Inner string `xml:",innerxml"`
			Array struct {
				Strings []string `xml:"string"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(p, &doc); err != nil {
		t.Fatalf("plist does not parse: %v\n%s", err, p)
	}
	want := []string{exe, "--hidden", "--data", "/Users/a b/<gh>"}
	if strings.Join(doc.Dict.Array.Strings, "|") != strings.Join(want, "|") {
		t.Errorf("ProgramArguments %q, want %q", doc.Dict.Array.Strings, want)
	}
	for _, key := range []string{"<key>Label</key>", "<string>" + AppID + "</string>", "<key>RunAtLoad</key>", "<true/>"} {
		if !strings.Contains(string(p), key) {
			t.Errorf("plist lacks %s:\n%s", key, p)
		}
	}
}
