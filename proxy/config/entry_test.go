package config

import (
	"errors"
	"strings"
	"testing"
)

// The command line and the providers screen share this check: each bad field is
// named, and every problem is reported at once.
func TestCheckEntry(t *testing.T) {
	tests := []struct {
		name string
		p    Provider
		want []string // the keys at fault
	}{
		{"good", Provider{Name: "gw", Format: FormatOpenAI, BaseURL: "https://x/v1"}, nil},
		{"bad name", Provider{Name: "My_GW", Format: FormatOpenAI, BaseURL: "https://x/v1"}, []string{"name"}},
		{"bad format", Provider{Name: "gw", Format: "soap", BaseURL: "https://x/v1"}, []string{"format"}},
		{"bad url", Provider{Name: "gw", Format: FormatGemini, BaseURL: "ftp://x"}, []string{"base_url"}},
		{"all bad", Provider{Name: "", Format: "", BaseURL: ""}, []string{"name", "format", "base_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.CheckEntry()
			var ee EntryError
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckEntry(%+v) = %v, want nil", tt.p, err)
				}
				return
			}
			if !errors.As(err, &ee) {
				t.Fatalf("CheckEntry(%+v) = %v, want an EntryError", tt.p, err)
			}
			var got []string
			for _, f := range ee {
				got = append(got, f.Key)
				if !strings.Contains(err.Error(), f.Key) {
					t.Errorf("message %q does not name %s", err, f.Key)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("CheckEntry(%+v) faults %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}
