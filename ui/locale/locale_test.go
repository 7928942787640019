package locale

import (
	"os"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		env      map[string]string
		language string // LANGUAGE afterwards
	}{
		{map[string]string{"LANG": "C.UTF-8"}, "en"},
		{map[string]string{"LANG": "C"}, "en"},
		{map[string]string{"LC_ALL": "POSIX"}, "en"},
		{map[string]string{"LANG": "de_DE.UTF-8"}, ""},
		{map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}, ""},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "de"}, "de"},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
			t.Setenv(k, tt.env[k])
		}
		Normalize()
		if got := os.Getenv("LANGUAGE"); got != tt.language {
			t.Errorf("env %v: LANGUAGE %q, want %q", tt.env, got, tt.language)
		}
	}
}
