package assets

import (
	"bytes"
	"image/png"
	"testing"
)

func TestIconsDecode(t *testing.T) {
	check := func(name string, b []byte, size int) {
		t.Helper()
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if got := img.Bounds().Dx(); got != size {
			t.Errorf("%s: width %d, want %d", name, got, size)
		}
	}
	check("icon", Icon.Content(), 512)
	seen := map[string]bool{}
	for _, dark := range []bool{false, true} {
		for _, st := range []TrayState{TrayRunning, TrayFailures, TrayPaused} {
			r := Tray(st, dark)
			check(r.Name(), r.Content(), 64)
			if seen[r.Name()] {
				t.Errorf("Tray(%d, %v) reuses %s", st, dark, r.Name())
			}
			seen[r.Name()] = true
		}
	}
}
