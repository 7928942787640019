package ui

import (
	"bytes"
	"encoding/xml"
)

// launchAgentLabel names Gatehouse's macOS LaunchAgent (and its plist file).
const launchAgentLabel = AppID

// launchAgentPlist is the LaunchAgent that starts Gatehouse at login on macOS:
// ~/Library/LaunchAgents/<label>.plist, read by launchd when the user logs in.
// It is plain text, so it is built (and tested) on every platform.
func launchAgentPlist(exe string, args []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>`)
	xmlText(&b, launchAgentLabel)
	b.WriteString("</string>\n\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>")
		xmlText(&b, a)
		b.WriteString("</string>\n")
	}
	b.WriteString("\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n\t<key>ProcessType</key>\n\t<string>Interactive</string>\n</dict>\n</plist>\n")
	return b.Bytes()
}

func xmlText(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}
