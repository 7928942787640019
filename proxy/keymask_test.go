package proxy

import "testing"

func TestMaskKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "…"},
		{"abcdefgh", "…gh"},
		{"sk-proj-abcdefghijklmnopqrstuvwxyz1234", "sk-…1234"},
		{"sk-ant-api03-xxxxxxxxxxxxxxxxxxxxwxyz", "sk-…wxyz"},
		{"AIzaSyA-abcdefghijklmnop", "…mnop"},
		{"gsk_abcdefghijklmnop9876", "…9876"},
	}
	for _, tt := range tests {
		if got := MaskKey(tt.in); got != tt.want {
			t.Errorf("MaskKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
