//go:build ignore

// gen_icons draws Gatehouse's icons: the app icon and the tray icon in three
// states (running, recent failures, paused), each for light and dark panels.
// Run with `go generate ./assets`.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

type shape func(x, y float64) bool // x, y in [0,1]

// gate is an arch: two pillars joined by a half ring, with a bar across.
func gate(x, y float64) bool {
	const cx, top, outer, inner, bottom = 0.5, 0.42, 0.34, 0.20, 0.86
	if y >= top && y <= bottom {
		if (x >= cx-outer && x <= cx-inner) || (x >= cx+inner && x <= cx+outer) {
			return true
		}
		// a portcullis: two bars down and one across
		inGate := x >= cx-inner && x <= cx+inner
		if inGate && ((x >= cx-0.095 && x <= cx-0.045) || (x >= cx+0.045 && x <= cx+0.095)) {
			return true
		}
		if inGate && y >= 0.56 && y <= 0.61 {
			return true
		}
	}
	if y < top {
		d := math.Hypot(x-cx, y-top)
		if d <= outer && d >= inner {
			return true
		}
		barX := (x >= cx-0.095 && x <= cx-0.045) || (x >= cx+0.045 && x <= cx+0.095)
		return barX && d < inner
	}
	return false
}

func roundedSquare(x, y float64) bool {
	const r, m = 0.2, 0.04
	dx := math.Max(math.Max(m+r-x, x-(1-m-r)), 0)
	dy := math.Max(math.Max(m+r-y, y-(1-m-r)), 0)
	return math.Hypot(dx, dy) <= r
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return math.Hypot(x-cx, y-cy) <= r }
}

func rect(x0, y0, x1, y1 float64) shape {
	return func(x, y float64) bool { return x >= x0 && x <= x1 && y >= y0 && y <= y1 }
}

type layer struct {
	s shape
	c color.NRGBA
}

// paint renders layers in order with 4×4 supersampling.
func paint(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if l.s(x, y) {
							la := float64(l.c.A) / 255
							cr = cr*(1-la) + float64(l.c.R)*la
							cg = cg*(1-la) + float64(l.c.G)*la
							cb = cb*(1-la) + float64(l.c.B)*la
							ca = ca*(1-la) + la
						}
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(a / n * 255)})
		}
	}
	return img
}

func save(name string, img image.Image) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func not(s shape) shape { return func(x, y float64) bool { return !s(x, y) } }

func and(a, b shape) shape { return func(x, y float64) bool { return a(x, y) && b(x, y) } }

func main() {
	indigo := color.NRGBA{0x3a, 0x4b, 0xd6, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	save("icon.png", paint(512, []layer{{roundedSquare, indigo}, {gate, white}}))

	glyphs := map[string]color.NRGBA{
		"light": {0x20, 0x21, 0x24, 0xff}, // dark glyph for light panels
		"dark":  {0xf1, 0xf3, 0xf4, 0xff}, // light glyph for dark panels
	}
	badge := circle(0.76, 0.76, 0.22)
	ring := circle(0.76, 0.76, 0.29)
	states := map[string][]layer{
		"running":  {{badge, color.NRGBA{0x1e, 0xa4, 0x4f, 0xff}}},
		"failures": {{badge, color.NRGBA{0xd9, 0x30, 0x25, 0xff}}, {rect(0.735, 0.63, 0.785, 0.80), white}, {circle(0.76, 0.855, 0.03), white}},
		"paused":   {{badge, color.NRGBA{0xe3, 0x8b, 0x00, 0xff}}, {rect(0.68, 0.65, 0.73, 0.87), white}, {rect(0.79, 0.65, 0.84, 0.87), white}},
	}
	for panel, glyph := range glyphs {
		for state, extra := range states {
			layers := []layer{{and(gate, not(ring)), glyph}}
			layers = append(layers, extra...)
			save("tray-"+state+"-"+panel+".png", paint(64, layers))
		}
	}
}
