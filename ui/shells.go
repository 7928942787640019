package ui

import (
	"strings"
	"unicode/utf8"
)

// Snippets and Copy as curl are written for the shell a user of each OS types
// into: a POSIX shell on Linux and macOS; PowerShell and cmd on Windows, whose
// quoting and variables differ (issue 18).

// snippetsFor is snippets(addr) for goos: on Windows every shell snippet comes
// as a PowerShell and a cmd variant, and home-relative files are named from
// %USERPROFILE%.
func snippetsFor(addr, goos string) []snippet {
	all := snippets(addr)
	if goos != "windows" {
		return all
	}
	out := make([]snippet, 0, 2*len(all))
	for _, s := range all {
		if s.Where != "shell" {
			if rest, ok := strings.CutPrefix(s.Where, "~/"); ok {
				s.Where = `%USERPROFILE%\` + strings.ReplaceAll(rest, "/", `\`)
			}
			out = append(out, s)
			continue
		}
		out = append(out,
			snippet{Tool: s.Tool + " (PowerShell)", Where: "PowerShell", Text: powerShellLines(s.Text)},
			snippet{Tool: s.Tool + " (cmd)", Where: "cmd", Text: cmdLines(s.Text)})
	}
	return out
}

// splitExport parses a snippet line `export K=V   # note` into K, V and note.
func splitExport(line string) (key, value, note string, ok bool) {
	rest, ok := strings.CutPrefix(line, "export ")
	if !ok {
		return "", "", "", false
	}
	if i := strings.Index(rest, "#"); i >= 0 {
		rest, note = rest[:i], strings.TrimSpace(rest[i+1:])
	}
	key, value, ok = strings.Cut(strings.TrimSpace(rest), "=")
	return key, value, note, ok
}

// powerShellLines turns `export K=V   # note` lines into `$env:K = 'V'   # note`.
func powerShellLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		k, v, note, ok := splitExport(l)
		if !ok {
			continue
		}
		lines[i] = "$env:" + k + " = " + psQuote(v)
		if note != "" {
			lines[i] += "   # " + note
		}
	}
	return strings.Join(lines, "\n")
}

// cmdLines turns `export K=V   # note` lines into `set K=V`, the note on a
// `rem` line above it: cmd would keep text after the value as part of it.
func cmdLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		k, v, note, ok := splitExport(l)
		if !ok {
			out = append(out, l)
			continue
		}
		if note != "" {
			out = append(out, "rem "+note)
		}
		out = append(out, "set "+k+"="+v)
	}
	return strings.Join(out, "\n")
}

// psQuote quotes s for PowerShell: single quotes, inside which nothing expands
// and a quote is doubled. PowerShell also takes the typographic single quotes
// for quotes, so they are doubled too.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '‘', '’', '‚', '‛':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// asciiJSON escapes every non-ASCII character of a JSON text as \uXXXX (a
// surrogate pair above U+FFFF): the same JSON, in bytes Windows PowerShell 5.1
// pipes to curl.exe unchanged (it pipes in ASCII). Outside strings valid JSON
// has no such characters, so only string contents change.
func asciiJSON(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	u := func(r rune) {
		b.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			b.WriteByte(hex[(r>>shift)&0xf])
		}
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + r>>10)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	return b.String()
}
