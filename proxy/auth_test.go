package proxy

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// verifyingUpstream is a real fasthttp server on 127.0.0.1 that answers 200 when
// verify accepts the request and 401 with the reason otherwise.
func verifyingUpstream(t testing.TB, verify func(ctx *fasthttp.RequestCtx) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if why := verify(ctx); why != "" {
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			ctx.SetBodyString(why)
			return
		}
		ctx.SetBodyString("ok")
	}}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// send applies p's auth with creds to a POST of body to base+path and returns the
// upstream's status and body.
func send(t *testing.T, a *Authenticator, p *config.Provider, creds Credentials, base, path string, body []byte) (int, string) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + path)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := a.Apply(req, p, creds, body); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	c := &fasthttp.Client{}
	if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
		t.Fatalf("send: %v", err)
	}
	return resp.StatusCode(), string(resp.Body())
}

func fields(m map[string]string) func(string) (string, bool) {
	return func(f string) (string, bool) { v, ok := m[f]; return v, ok }
}

func TestAuthSchemes(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	const key = "sk-right-key-0001"
	tests := []struct {
		name   string
		p      config.Provider
		verify func(ctx *fasthttp.RequestCtx) string
		good   Credentials
		bad    Credentials
	}{
		{
			name: "bearer",
			p:    config.Provider{Name: "p", Format: config.FormatOpenAI},
			verify: func(ctx *fasthttp.RequestCtx) string {
				if string(ctx.Request.Header.Peek("Authorization")) != "Bearer "+key {
					return "bad bearer"
				}
				return ""
			},
			good: Credentials{Key: key}, bad: Credentials{Key: "sk-wrong"},
		},
		{
			name: "x-api-key (anthropic default)",
			p:    config.Provider{Name: "p", Format: config.FormatAnthropic},
			verify: func(ctx *fasthttp.RequestCtx) string {
				if string(ctx.Request.Header.Peek("x-api-key")) != key || len(ctx.Request.Header.Peek("Authorization")) > 0 {
					return "bad x-api-key"
				}
				return ""
			},
			good: Credentials{Key: key}, bad: Credentials{Key: "sk-wrong"},
		},
		{
			name: "x-goog-api-key (gemini default)",
			p:    config.Provider{Name: "p", Format: config.FormatGemini},
			verify: func(ctx *fasthttp.RequestCtx) string {
				if string(ctx.Request.Header.Peek("x-goog-api-key")) != key {
					return "bad x-goog-api-key"
				}
				return ""
			},
			good: Credentials{Key: key}, bad: Credentials{Key: "sk-wrong"},
		},
		{
			name: "api-key (azure)",
			p:    config.Provider{Name: "p", Format: config.FormatOpenAI, Resource: "r", Deployment: "d"},
			verify: func(ctx *fasthttp.RequestCtx) string {
				if string(ctx.Request.Header.Peek("api-key")) != key {
					return "bad api-key"
				}
				return ""
			},
			good: Credentials{Key: key}, bad: Credentials{Key: "sk-wrong"},
		},
		{
			name: "header with prefix",
			p: config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "header",
				AuthOptions: config.AuthOptions{Header: "X-Corp-Token", Prefix: "Token "}},
			verify: func(ctx *fasthttp.RequestCtx) string {
				if string(ctx.Request.Header.Peek("X-Corp-Token")) != "Token "+key {
					return "bad header"
				}
				return ""
			},
			good: Credentials{Key: key}, bad: Credentials{Key: "sk-wrong"},
		},
		{
			name: "basic with password field",
			p: config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "basic",
				AuthOptions: config.AuthOptions{User: "alice"}},
			verify: func(ctx *fasthttp.RequestCtx) string {
				user, pass, ok := parseBasic(string(ctx.Request.Header.Peek("Authorization")))
				if !ok || user != "alice" || pass != "pa:ss word" {
					return "bad basic"
				}
				return ""
			},
			good: Credentials{Field: fields(map[string]string{"password": "pa:ss word"})},
			bad:  Credentials{Field: fields(map[string]string{"password": "nope"})},
		},
		{
			name: "jwt HS256",
			p: config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "jwt",
				AuthOptions: config.AuthOptions{Issuer: "gatehouse", Subject: "me", Audience: "gw"}},
			verify: verifyJWT(t, "jwt-signing-secret", "gatehouse", "gw"),
			good:   Credentials{Key: "jwt-signing-secret"}, bad: Credentials{Key: "jwt-other-secret"},
		},
		{
			name: "jwt HS512",
			p: config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "jwt",
				AuthOptions: config.AuthOptions{Algorithm: "HS512", Issuer: "gatehouse", Audience: "gw"}},
			verify: verifyJWT(t, "jwt-signing-secret", "gatehouse", "gw"),
			good:   Credentials{Key: "jwt-signing-secret"}, bad: Credentials{Key: "jwt-other-secret"},
		},
		{
			name:   "aksk default headers",
			p:      config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "aksk"},
			verify: verifyAKSK(t, "AKID123", "the-secret-key", "X-Access-Key", "X-Timestamp", "X-Signature", "X-Signed-Headers", body),
			good:   Credentials{Key: "AKID123", Field: fields(map[string]string{"secret": "the-secret-key"})},
			bad:    Credentials{Key: "AKID123", Field: fields(map[string]string{"secret": "wrong-secret-key"})},
		},
		{
			name: "aksk custom headers",
			p: config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "aksk", AuthOptions: config.AuthOptions{
				AccessKeyHeader: "X-Ca-Key", TimestampHeader: "X-Ca-Timestamp", SignatureHeader: "X-Ca-Signature",
				SignedHeadersHeader: "X-Ca-Signature-Headers", SignedHeaders: []string{"Content-Type", "Host", "X-Custom"}}},
			verify: verifyAKSK(t, "AKID123", "the-secret-key", "X-Ca-Key", "X-Ca-Timestamp", "X-Ca-Signature", "X-Ca-Signature-Headers", body),
			good:   Credentials{Key: "AKID123", Field: fields(map[string]string{"secret": "the-secret-key"})},
			bad:    Credentials{Key: "AKID123", Field: fields(map[string]string{"secret": "wrong-secret-key"})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := verifyingUpstream(t, tt.verify)
			a := NewAuthenticator(nil)
			path := "/v1/chat/completions?b=2&a=x%20y&a=0"
			if status, msg := send(t, a, &tt.p, tt.good, base, path, body); status != 200 {
				t.Fatalf("right credentials: upstream said %d %s", status, msg)
			}
			if status, _ := send(t, a, &tt.p, tt.bad, base, path, body); status != 401 {
				t.Fatalf("wrong credentials: upstream said %d, want 401", status)
			}
		})
	}
}

func TestAKSKTamperedBodyFails(t *testing.T) {
	p := config.Provider{Name: "p", Format: config.FormatOpenAI, Auth: "aksk"}
	signed := []byte(`{"a":1}`)
	base := verifyingUpstream(t, verifyAKSK(t, "AK", "SK", "X-Access-Key", "X-Timestamp", "X-Signature", "X-Signed-Headers", nil))
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + "/v1/x")
	req.Header.SetMethod("POST")
	if err := NewAuthenticator(nil).Apply(req, &p, Credentials{Key: "AK", Field: fields(map[string]string{"secret": "SK"})}, signed); err != nil {
		t.Fatal(err)
	}
	req.SetBody([]byte(`{"a":2}`)) // not the body that was signed
	if err := (&fasthttp.Client{}).DoTimeout(req, resp, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 401 {
		t.Fatalf("a body other than the signed one got %d, want 401", resp.StatusCode())
	}
}

func TestAuthMissingParts(t *testing.T) {
	a := NewAuthenticator(nil)
	tests := []struct {
		name  string
		p     config.Provider
		creds Credentials
		want  string // "" = no error and no header
	}{
		{"aksk without secret", config.Provider{Name: "gw", Auth: "aksk"}, Credentials{Key: "AK"}, "gatehouse keys set gw --field secret"},
		{"aksk without access key", config.Provider{Name: "gw", Auth: "aksk"}, Credentials{Field: fields(map[string]string{"secret": "SK"})}, "no access key"},
		{"basic without user", config.Provider{Name: "gw", Auth: "basic"}, Credentials{Key: "pw"}, "auth_options.user"},
		{"jwt bad algorithm", config.Provider{Name: "gw", Auth: "jwt", AuthOptions: config.AuthOptions{Algorithm: "RS256"}}, Credentials{Key: "k"}, "RS256"},
		{"no key at all", config.Provider{Name: "gw"}, Credentials{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fasthttp.AcquireRequest()
			defer fasthttp.ReleaseRequest(req)
			req.SetRequestURI("http://127.0.0.1/")
			err := a.Apply(req, &tt.p, tt.creds, nil)
			if tt.want == "" {
				if err != nil || len(req.Header.Peek("Authorization")) > 0 {
					t.Fatalf("got err %v, Authorization %q; want neither", err, req.Header.Peek("Authorization"))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			for _, secret := range []string{"AK", "SK", "pw"} {
				if strings.Contains(err.Error(), " "+secret+" ") {
					t.Fatalf("error shows a secret: %v", err)
				}
			}
		})
	}
}

func TestJWTCachedUntilNearExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := NewAuthenticator(clock)
	p := config.Provider{Name: "p", Auth: "jwt", AuthOptions: config.AuthOptions{Lifetime: config.Duration{Duration: 10 * time.Minute}}}
	token := func() string {
		req := fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(req)
		if err := a.Apply(req, &p, Credentials{Key: "s"}, nil); err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(string(req.Header.Peek("Authorization")), "Bearer ")
	}
	first := token()
	claims := jwtClaims(t, first)
	if claims["exp"].(float64)-claims["iat"].(float64) != 600 {
		t.Fatalf("lifetime claims %v, want exp = iat + 600", claims)
	}
	advance(7 * time.Minute)
	if got := token(); got != first {
		t.Fatal("a token with 3 of 10 minutes left was not reused")
	}
	advance(2 * time.Minute) // 1 minute left: under a fifth
	second := token()
	if second == first {
		t.Fatal("a token about to expire was reused")
	}
	if c := jwtClaims(t, second); c["iat"].(float64) != float64(now.Unix()) {
		t.Fatalf("new token iat %v, want now", c["iat"])
	}
	// Another secret never gets the cached token.
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	if err := a.Apply(req, &p, Credentials{Key: "other"}, nil); err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(string(req.Header.Peek("Authorization")), second) {
		t.Fatal("a different secret reused the cached token")
	}
}

func TestSecretFieldsAndEnv(t *testing.T) {
	t.Setenv("MYGW_KEY_SECRET", "from-env")
	p := &config.Provider{Name: "mygw", Auth: "aksk", KeyEnv: "MYGW_KEY"}
	if got := SecretFields(p); len(got) != 1 || got[0] != "secret" {
		t.Fatalf("SecretFields(aksk) = %q", got)
	}
	if got := FieldEnv(p, "secret"); got != "MYGW_KEY_SECRET" {
		t.Fatalf("FieldEnv = %q", got)
	}
	lookup := FieldLookup(staticKeys{"mygw:secret": "from-keychain"}, p)
	if v, _ := lookup("secret"); v != "from-keychain" {
		t.Fatalf("keychain should win over env, got %q", v)
	}
	if v, _ := FieldLookup(nil, p)("secret"); v != "from-env" {
		t.Fatalf("env fallback got %q", v)
	}
}

type staticKeys map[string]string

func (s staticKeys) Secret(provider, field string) (string, bool) {
	k := provider
	if field != "" {
		k += ":" + field
	}
	v, ok := s[k]
	return v, ok
}

func BenchmarkApplyAuth(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4096)
	for _, p := range []config.Provider{
		{Name: "bearer", Auth: "bearer"},
		{Name: "jwt", Auth: "jwt"},
		{Name: "aksk", Auth: "aksk"},
	} {
		b.Run(p.Name, func(b *testing.B) {
			a := NewAuthenticator(nil)
			creds := Credentials{Key: "AK", Field: fields(map[string]string{"secret": "SK"})}
			req := fasthttp.AcquireRequest()
			defer fasthttp.ReleaseRequest(req)
			req.SetRequestURI("http://127.0.0.1:1/v1/chat/completions?x=1")
			req.Header.SetMethod("POST")
			req.Header.SetContentType("application/json")
			b.ReportAllocs()
			for b.Loop() {
				if err := a.Apply(req, &p, creds, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func parseBasic(h string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	if err != nil || !strings.HasPrefix(h, "Basic ") {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyJWT checks a Bearer JWT the way a gateway would: signature with the
// shared secret under the header's algorithm, then exp, nbf, iss and aud.
func verifyJWT(t *testing.T, secret, iss, aud string) func(ctx *fasthttp.RequestCtx) string {
	return func(ctx *fasthttp.RequestCtx) string {
		tok, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
		if !ok {
			return "no bearer"
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			return "not a jwt"
		}
		hraw, _ := base64.RawURLEncoding.DecodeString(parts[0])
		var hdr struct{ Alg, Typ string }
		if json.Unmarshal(hraw, &hdr) != nil {
			return "bad header"
		}
		mac := map[string]func() []byte{
			"HS256": func() []byte {
				m := hmac.New(sha256.New, []byte(secret))
				m.Write([]byte(parts[0] + "." + parts[1]))
				return m.Sum(nil)
			},
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		var want []byte
		switch hdr.Alg {
		case "HS256":
			want = mac["HS256"]()
		case "HS512":
			m := hmac.New(sha512.New, []byte(secret))
			m.Write([]byte(parts[0] + "." + parts[1]))
			want = m.Sum(nil)
		default:
			return "alg " + hdr.Alg
		}
		if !hmac.Equal(sig, want) {
			return "bad signature"
		}
		var c struct {
			Iss, Aud      string
			Exp, Nbf, Iat int64
		}
		praw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if json.Unmarshal(praw, &c) != nil {
			return "bad claims"
		}
		now := time.Now().Unix()
		if c.Exp <= now || c.Nbf > now+1 || c.Iss != iss || c.Aud != aud {
			return "bad claims"
		}
		return ""
	}
}

// verifyAKSK rebuilds the string to sign from the request as received, following
// the description on Authenticator.Apply, and checks the signature and the clock.
func verifyAKSK(t *testing.T, ak, sk, akH, tsH, sigH, shH string, wantBody []byte) func(ctx *fasthttp.RequestCtx) string {
	return func(ctx *fasthttp.RequestCtx) string {
		h := &ctx.Request.Header
		if string(h.Peek(akH)) != ak {
			return "unknown access key"
		}
		ts := string(h.Peek(tsH))
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
			return "bad timestamp"
		}
		names := strings.Split(string(h.Peek(shH)), ";")
		if !sort.StringsAreSorted(names) || len(names) < 2 {
			return "signed headers"
		}
		var canon []string
		for _, kv := range strings.Split(string(ctx.URI().QueryString()), "&") {
			k, v, _ := strings.Cut(kv, "=")
			canon = append(canon, k+"="+strings.ReplaceAll(v, "+", "%20"))
		}
		sort.Strings(canon)
		lines := []string{string(ctx.Method()), string(ctx.URI().PathOriginal()), strings.Join(canon, "&")}
		if len(ctx.URI().QueryString()) == 0 {
			lines[2] = ""
		}
		for _, n := range names {
			v := string(h.Peek(n))
			if n == "host" {
				v = string(ctx.Host())
			}
			lines = append(lines, n+":"+strings.TrimSpace(v))
		}
		body := ctx.PostBody()
		if wantBody != nil && !bytes.Equal(body, wantBody) {
			return "body changed in transit"
		}
		sum := sha256.Sum256(body)
		lines = append(lines, strings.Join(names, ";"), ak, ts, hex.EncodeToString(sum[:]))
		m := hmac.New(sha256.New, []byte(sk))
		m.Write([]byte(strings.Join(lines, "\n")))
		got, _ := hex.DecodeString(string(h.Peek(sigH)))
		if !hmac.Equal(got, m.Sum(nil)) {
			return "bad signature"
		}
		return ""
	}
}
