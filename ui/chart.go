package ui

import (
	"image"
	"image/color"
	"image/draw"
	"time"
)

// Chart geometry: calls and failures per 5 minutes over the last 24 hours.
const (
	chartStep  = 5 * time.Minute
	chartRange = 24 * time.Hour
)

// drawActivity draws one bar per bucket into a w×h image: calls in ok, the
// failed part of each bar in bad, on a transparent background with a baseline.
func drawActivity(buckets []Bucket, w, h int, ok, bad, axis color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 2 || len(buckets) == 0 {
		return img
	}
	maxCalls := 1
	for _, b := range buckets {
		maxCalls = max(maxCalls, b.Calls)
	}
	draw.Draw(img, image.Rect(0, h-1, w, h), image.NewUniform(axis), image.Point{}, draw.Src)
	usable := float64(h - 2)
	for i, b := range buckets {
		if b.Calls == 0 {
			continue
		}
		x0 := i * w / len(buckets)
		x1 := max((i+1)*w/len(buckets)-1, x0+1)
		total := max(int(float64(b.Calls)/float64(maxCalls)*usable+0.5), 1)
		fail := 0
		if b.Failed > 0 {
			fail = max(int(float64(b.Failed)/float64(maxCalls)*usable+0.5), 1)
		}
		draw.Draw(img, image.Rect(x0, h-1-total, x1, h-1-fail), image.NewUniform(ok), image.Point{}, draw.Src)
		if fail > 0 {
			draw.Draw(img, image.Rect(x0, h-1-fail, x1, h-1), image.NewUniform(bad), image.Point{}, draw.Src)
		}
	}
	return img
}
