package ui

import (
	"runtime"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// keyHeaders are request headers that carry a credential: they are replaced by
// a placeholder, never copied (history has redacted them anyway).
var keyHeaders = map[string]bool{
	"authorization": true, "x-api-key": true, "x-goog-api-key": true, "api-key": true,
	"proxy-authorization": true, "cookie": true,
}

// skipHeaders are set by curl itself or only make sense on the original connection.
var skipHeaders = map[string]bool{
	"host": true, "content-length": true, "connection": true, "keep-alive": true,
	"transfer-encoding": true, "accept-encoding": true, "te": true, "upgrade": true,
	"proxy-connection": true, "trailer": true,
}

// secretish reports whether a header name suggests a secret.
func secretish(name string) bool {
	n := strings.ToLower(name)
	if keyHeaders[n] {
		return true
	}
	for _, w := range []string{"auth", "key", "token", "secret", "cookie", "signature", "credential", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// authPlaceholder is the header a client of format would send its key in, with
// an environment variable (named as the shell writes it: "$" or "$env:") in
// place of the key, and that header's lower-case name.
func authPlaceholder(format, env string) (line, name string) {
	switch format {
	case "anthropic":
		return "x-api-key: " + env + "ANTHROPIC_API_KEY", "x-api-key"
	case "gemini":
		return "x-goog-api-key: " + env + "GEMINI_API_KEY", "x-goog-api-key"
	}
	return "Authorization: Bearer " + env + "OPENAI_API_KEY", "authorization"
}

// envName is the environment variable standing for the value of a header that
// may hold a secret: "X-Session-Token" → X_SESSION_TOKEN.
func envName(header string) string {
	b := []byte(strings.ToUpper(header))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte("H_"), b...)
	}
	return string(b)
}

// CurlCommand rebuilds c's request as a curl command against the proxy at addr
// (host:port), for this OS's shell (curlCommand). Credentials become
// `$OPENAI_API_KEY`-style placeholders (the proxy injects the real key
// anyway); every other header that may hold a secret (history redacted its
// value) is kept with a `$HEADER_NAME` placeholder, so the command sends the
// headers the call had.
func CurlCommand(c *store.Call, addr string) string {
	return curlCommand(c, addr, runtime.GOOS)
}

// curlCommand writes the command for a POSIX shell, or on Windows for
// PowerShell: curl.exe (PowerShell 5.1 aliases curl to Invoke-WebRequest),
// backtick line ends, and the body piped in from a here-string, since
// PowerShell before 7.3 strips the double quotes of JSON passed as an argument
// to a program.
func curlCommand(c *store.Call, addr, goos string) string {
	req := c.Request
	if req == nil {
		req = &store.Message{}
	}
	ps := goos == "windows"
	quote, dquote, cont, env, prog := shellQuote, shellDoubleEscape, " \\\n  ", "$", "curl"
	if ps {
		quote, dquote, cont, env, prog = psQuote, psDoubleEscape, " `\n  ", "$env:", "curl.exe"
	}
	var b strings.Builder
	if ps && len(req.Body) > 0 {
		// A here-string line never starts with '@ in JSON, so it cannot end early.
		b.WriteString("@'\n" + asciiJSON(req.Body) + "\n'@ | ")
	}
	b.WriteString(prog)
	if c.Method != "" && c.Method != "POST" && c.Method != "GET" {
		b.WriteString(" -X " + c.Method)
	}
	b.WriteString(" " + quote("http://"+addr+c.Path))
	auth, authName := authPlaceholder(c.InboundFormat, env)
	b.WriteString(cont + `-H "` + auth + `"`)
	for _, h := range req.Headers {
		n := strings.ToLower(h.Name)
		switch {
		case skipHeaders[n] || n == authName:
		case secretish(h.Name):
			b.WriteString(cont + `-H "` + dquote(h.Name+": ") + env + envName(h.Name) + `"`)
		default:
			b.WriteString(cont + "-H " + quote(h.Name+": "+h.Value))
		}
	}
	switch {
	case len(req.Body) == 0:
	case ps:
		b.WriteString(cont + "--data-binary '@-'")
	default:
		b.WriteString(cont + "--data-binary " + quote(req.Body))
	}
	if c.Stream {
		b.WriteString(cont + "--no-buffer")
	}
	return b.String()
}

// shellDoubleEscape escapes s for inside a POSIX shell's double quotes.
var shellDoubleEscape = strings.NewReplacer(`\`, `\\`, `$`, `\$`, "`", "\\`", `"`, `\"`).Replace

// psDoubleEscape escapes s for inside PowerShell's double quotes.
var psDoubleEscape = strings.NewReplacer("`", "``", `$`, "`$", `"`, "`\"", "\u201c", "`\u201c", "\u201d", "`\u201d").Replace

// shellQuote quotes s for a POSIX shell: 'it'\”s'.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
