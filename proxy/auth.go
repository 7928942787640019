package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
	"github.com/valyala/fasthttp"
)

// serverAuth holds the JWTs minted for every Server of the process. It is keyed by
// provider, claims and a hash of the signing secret, so sharing it is safe; it
// lives here rather than in Server because JWT caching is auth's own business.
var serverAuth = NewAuthenticator(nil)

// applyAuth sets provider p's credentials on an outbound request. key is the
// resolved main key (keychain, then key_env, then the client's own); body is the
// exact body that will be sent (signing schemes hash it). It must run after every
// other header is set: aksk signs some of them.
func (s *Server) applyAuth(req *fasthttp.Request, p *config.Provider, key string, body []byte) error {
	return serverAuth.Apply(req, p, Credentials{Key: key, Field: FieldLookup(s.opts.Keys, p)}, body)
}

// SecretFields lists the keychain fields, besides the main key, that p's auth
// scheme reads: "secret" for aksk, "password" for basic.
func SecretFields(p *config.Provider) []string {
	switch p.DefaultAuth() {
	case "aksk":
		return []string{"secret"}
	case "basic":
		return []string{"password"}
	}
	return nil
}

// FieldEnv is the environment variable that stands in for field when the keychain
// has none: the provider's key_env plus "_" and the field in upper case
// (MYGW_KEY_SECRET), or "" when the provider has no key_env.
func FieldEnv(p *config.Provider, field string) string {
	if p.KeyEnv == "" || field == "" {
		return p.KeyEnv
	}
	return p.KeyEnv + "_" + strings.ToUpper(strings.ReplaceAll(field, "-", "_"))
}

// FieldLookup returns a lookup of p's credential fields: the keychain (keys may be
// nil), then FieldEnv.
func FieldLookup(keys KeySource, p *config.Provider) func(field string) (string, bool) {
	return func(field string) (string, bool) {
		if keys != nil {
			if v, ok := keys.Secret(p.Name, field); ok {
				return v, true
			}
		}
		if env := FieldEnv(p, field); env != "" {
			if v := os.Getenv(env); v != "" {
				return v, true
			}
		}
		return "", false
	}
}

// Credentials are the secrets one request is authenticated with.
type Credentials struct {
	// Key is the main key: the bearer token, API key, basic password, JWT signing
	// secret or aksk access key.
	Key string
	// Field returns the other parts of a multi-part credential ("secret",
	// "password"). Nil: there are none.
	Field func(field string) (string, bool)
}

func (c Credentials) field(name string) (string, bool) {
	if c.Field == nil {
		return "", false
	}
	return c.Field(name)
}

// Defaults of the aksk scheme (see Authenticator.Apply).
const (
	DefaultAccessKeyHeader     = "X-Access-Key"
	DefaultTimestampHeader     = "X-Timestamp"
	DefaultSignatureHeader     = "X-Signature"
	DefaultSignedHeadersHeader = "X-Signed-Headers"
)

// DefaultSignedHeaders are the headers aksk signs when auth_options.signed_headers
// is not set.
var DefaultSignedHeaders = []string{"host", "content-type"}

// DefaultJWTLifetime is the lifetime of a minted JWT when auth_options.lifetime is
// not set.
const DefaultJWTLifetime = 5 * time.Minute

// Authenticator applies the auth schemes to outbound requests and caches minted
// JWTs. Safe for concurrent use.
type Authenticator struct {
	now func() time.Time

	mu   sync.Mutex
	jwts map[string]mintedJWT
}

type mintedJWT struct {
	token   string
	refresh time.Time // mint a new one from here on
}

// NewAuthenticator returns an Authenticator reading time from now (nil: time.Now).
func NewAuthenticator(now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{now: now, jwts: map[string]mintedJWT{}}
}

// Apply sets p's credentials on req; body is the exact body to be sent. With no
// key and no field it does nothing (the upstream then answers 401 itself).
//
// The schemes (p.DefaultAuth()):
//   - bearer: Authorization: Bearer KEY
//   - x-api-key, x-goog-api-key, api-key: that header = KEY
//   - header: auth_options.header = auth_options.prefix + KEY
//   - basic: HTTP Basic with auth_options.user and the password (field
//     "password", else KEY)
//   - jwt: Authorization: Bearer JWT, signed with KEY (HS256, HS384 or HS512),
//     claims iss, sub, aud from auth_options, iat, nbf and exp = iat + lifetime;
//     reused until a fifth of its lifetime is left
//   - aksk: the access key (KEY) goes in access_key_header, the Unix time in
//     seconds in timestamp_header, the signed header names (lower case, sorted,
//     ";"-joined) in signed_headers_header, and in signature_header the hex
//     HMAC-SHA256, keyed with the secret (field "secret"), of these lines joined
//     by "\n":
//     METHOD, PATH (as sent), the query sorted by name then value as
//     name=value pairs escaped per RFC 3986 and joined by "&", one
//     "name:value" line per signed header (value trimmed), the signed header
//     names, the access key, the timestamp, and the hex SHA-256 of the body.
//   - none: nothing.
//
// Errors name what is missing, never a secret.
func (a *Authenticator) Apply(req *fasthttp.Request, p *config.Provider, c Credentials, body []byte) error {
	scheme := p.DefaultAuth()
	o := &p.AuthOptions
	switch scheme {
	case "none":
		return nil
	case "basic":
		pass, ok := c.field("password")
		if !ok {
			pass = c.Key
		}
		if pass == "" {
			return nil
		}
		if o.User == "" {
			return fmt.Errorf("provider %s: auth basic needs auth_options.user", p.Name)
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.User+":"+pass)))
		return nil
	case "aksk":
		secret, ok := c.field("secret")
		if c.Key == "" && !ok {
			return nil
		}
		if c.Key == "" {
			return fmt.Errorf("provider %s: auth aksk has a secret but no access key (gatehouse keys set %s)", p.Name, p.Name)
		}
		if !ok || secret == "" {
			return fmt.Errorf("provider %s: auth aksk has no secret key (gatehouse keys set %s --field secret)", p.Name, p.Name)
		}
		signAKSK(req, o, c.Key, secret, body, a.now())
		return nil
	}
	if c.Key == "" {
		return nil
	}
	switch scheme {
	case "x-api-key", "x-goog-api-key", "api-key":
		req.Header.Set(scheme, c.Key)
	case "header":
		if o.Header == "" {
			return fmt.Errorf("provider %s: auth header needs auth_options.header", p.Name)
		}
		req.Header.Set(o.Header, o.Prefix+c.Key)
	case "jwt":
		tok, err := a.jwt(p, c.Key)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	default: // bearer
		setBearer(&req.Header, c.Key)
	}
	return nil
}

var headerAuthorization = []byte(fasthttp.HeaderAuthorization)

// setBearer sets Authorization: Bearer key, the usual scheme, without
// building a string on every call.
func setBearer(h *fasthttp.RequestHeader, key string) {
	var buf [160]byte
	h.SetCanonical(headerAuthorization, append(append(buf[:0], "Bearer "...), key...))
}

// jwt returns a cached token for p signed with secret, minting one when none is
// fresh enough.
func (a *Authenticator) jwt(p *config.Provider, secret string) (string, error) {
	o := &p.AuthOptions
	alg := o.Algorithm
	if alg == "" {
		alg = "HS256"
	}
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return "", fmt.Errorf("provider %s: jwt algorithm %q is not one of HS256, HS384, HS512", p.Name, alg)
	}
	life := o.Lifetime.Duration
	if life <= 0 {
		life = DefaultJWTLifetime
	}
	sum := sha256.Sum256([]byte(secret))
	cacheKey := strings.Join([]string{p.Name, alg, o.Issuer, o.Subject, o.Audience, life.String(), hex.EncodeToString(sum[:])}, "\x00")
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.jwts[cacheKey]; ok && now.Before(m.refresh) {
		return m.token, nil
	}
	tok, err := mintJWT(h, alg, secret, o, now, life)
	if err != nil {
		return "", fmt.Errorf("provider %s: %w", p.Name, err)
	}
	for k, m := range a.jwts { // drop stale entries so rotated secrets do not pile up
		if !now.Before(m.refresh) {
			delete(a.jwts, k)
		}
	}
	a.jwts[cacheKey] = mintedJWT{token: tok, refresh: now.Add(life - life/5)}
	return tok, nil
}

func mintJWT(h func() hash.Hash, alg, secret string, o *config.AuthOptions, now time.Time, life time.Duration) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("encode jwt header: %w", err)
	}
	claims := map[string]any{"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(life).Unix()}
	for k, v := range map[string]string{"iss": o.Issuer, "sub": o.Subject, "aud": o.Audience} {
		if v != "" {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode jwt claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// signAKSK signs req as documented on Apply.
func signAKSK(req *fasthttp.Request, o *config.AuthOptions, accessKey, secret string, body []byte, now time.Time) {
	akH := or(o.AccessKeyHeader, DefaultAccessKeyHeader)
	tsH := or(o.TimestampHeader, DefaultTimestampHeader)
	sigH := or(o.SignatureHeader, DefaultSignatureHeader)
	shH := or(o.SignedHeadersHeader, DefaultSignedHeadersHeader)
	names := o.SignedHeaders
	if len(names) == 0 {
		names = DefaultSignedHeaders
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(akH, accessKey)
	req.Header.Set(tsH, ts)

	headers := make(map[string]string, len(names))
	lower := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if _, dup := headers[n]; dup {
			continue
		}
		lower = append(lower, n)
		switch n {
		case "host":
			headers[n] = string(req.Host())
		default:
			headers[n] = string(req.Header.Peek(n))
		}
	}
	sort.Strings(lower)
	signed := strings.Join(lower, ";")
	req.Header.Set(shH, signed)

	uri := req.URI()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(AKSKStringToSign(string(req.Header.Method()), string(uri.PathOriginal()), string(uri.QueryString()), lower, headers, accessKey, ts, body)))
	req.Header.Set(sigH, hex.EncodeToString(mac.Sum(nil)))
}

// AKSKStringToSign builds the aksk string to sign (see Apply) from its parts:
// rawPath as sent (no query), rawQuery undecoded, signed the lower-case sorted
// header names and headers their values. Gateways and tests verifying a
// signature rebuild it with this function or by the description on Apply.
func AKSKStringToSign(method, rawPath, rawQuery string, signed []string, headers map[string]string, accessKey, timestamp string, body []byte) string {
	if i := strings.IndexByte(rawPath, '?'); i >= 0 {
		rawPath = rawPath[:i]
	}
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(rawPath)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery))
	b.WriteByte('\n')
	for _, n := range signed {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(headers[n]))
		b.WriteByte('\n')
	}
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(accessKey)
	b.WriteByte('\n')
	b.WriteString(timestamp)
	b.WriteByte('\n')
	sum := sha256.Sum256(body)
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// canonicalQuery sorts a raw query by name, then value, re-escaping per RFC 3986
// (space as %20) so that the sender's and the verifier's spellings agree.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		// A query Go cannot parse is signed as sent; the verifier sees the same bytes.
		return raw
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, pair{rfc3986(k), rfc3986(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func rfc3986(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
