//go:build race

package proxy

// raceEnabled: the race detector makes bulk byte work 10-20x slower.
const raceEnabled = true
