package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Client tokens (issue 13) live in clients.json in the data folder, mode 0600:
//
//	{"v":1,"clients":[{"name":"ci-bot","sha256":"<hex>","models":["gpt-*"],
//	  "providers":["openai"],"daily_tokens":100000,"daily_usd":2.5,
//	  "created":"…","expires":"…"}]}
//
// Only the SHA-256 of a token is stored. A token is "gh_" and 32 random bytes
// in base62, so a fast hash is enough: there is nothing to brute-force that a
// slow KDF would protect (unlike a password). The file is written through the
// caller's atomic writer (proxy/config.WriteFileAtomic in the commands), which
// store cannot import.
const ClientsFile = "clients.json"

// TokenPrefix starts every client token; the proxy recognises tokens by it.
const TokenPrefix = "gh_"

// ErrNoClient is returned for a client name the file does not hold.
var ErrNoClient = errors.New("no such client")

// Client is one client token's record (never the token itself).
type Client struct {
	Name string `json:"name"`
	// SHA256 is the hex SHA-256 of the token.
	SHA256 string `json:"sha256"`
	// Models are model globs the token may call; empty: any.
	Models []string `json:"models,omitempty"`
	// Providers are the providers its calls may go to; empty: any.
	Providers []string `json:"providers,omitempty"`
	// DailyTokens and DailyUSD are budgets per local day; 0: none.
	DailyTokens int64     `json:"daily_tokens,omitempty"`
	DailyUSD    float64   `json:"daily_usd,omitempty"`
	Created     time.Time `json:"created"`
	// Expires is when the token stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
}

type clientsDoc struct {
	V       int      `json:"v"`
	Clients []Client `json:"clients"`
}

var clientNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidClientName reports whether s is a client name: lower-case letters,
// digits, '.', '_' and '-', at most 64, and not "local" (calls without a token).
func ValidClientName(s string) bool { return clientNameRE.MatchString(s) && s != LocalClient }

// NewToken returns a fresh client token: "gh_" and 32 random bytes in base62
// (43 characters), and its record hash.
func NewToken() (token, sum string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("make token: %w", err)
	}
	enc := new(big.Int).SetBytes(raw).Text(62)
	enc = strings.Repeat("0", 43-len(enc)) + enc
	token = TokenPrefix + enc
	return token, HashToken(token), nil
}

// HashToken is the hex SHA-256 a token is stored as.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// LoadClients reads dataDir's clients file; a missing file is no clients.
func LoadClients(dataDir string) ([]Client, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, ClientsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	var d clientsDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("read clients %s: %w", filepath.Join(dataDir, ClientsFile), err)
	}
	if d.V != 1 {
		return nil, fmt.Errorf("read clients: version %d is not 1 (written by a newer Gatehouse?)", d.V)
	}
	return d.Clients, nil
}

// WriteFunc writes a file atomically with the given mode.
type WriteFunc func(path string, data []byte, mode os.FileMode) error

// SaveClients writes list to dataDir's clients file (mode 0600) with write.
func SaveClients(dataDir string, list []Client, write WriteFunc) error {
	if list == nil {
		list = []Client{}
	}
	b, err := json.MarshalIndent(clientsDoc{V: 1, Clients: list}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode clients: %w", err)
	}
	return write(filepath.Join(dataDir, ClientsFile), append(b, '\n'), 0o600)
}

// EditClients loads the clients file, applies edit and saves the result.
func EditClients(dataDir string, write WriteFunc, edit func([]Client) ([]Client, error)) error {
	list, err := LoadClients(dataDir)
	if err != nil {
		return err
	}
	if list, err = edit(list); err != nil {
		return err
	}
	return SaveClients(dataDir, list, write)
}

// FindClient returns the index of name in list, or -1.
func FindClient(list []Client, name string) int {
	for i := range list {
		if list[i].Name == name {
			return i
		}
	}
	return -1
}
