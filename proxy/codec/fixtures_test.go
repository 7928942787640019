package codec

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The codec's tests read the proxy's fixture tree (../testdata, laid out as
// provider/API/), the one copy in the repository, under the short names the
// golden files are named by:
//
//	testdata/anthropic/X         ../testdata/anthropic/messages/X
//	testdata/openai/X            ../testdata/openai/chat/X
//	testdata/gemini/X            ../testdata/gemini/X
//	testdata/responses/X         ../testdata/openai/responses/X
//	testdata/errors/P_X          the same provider folders' errors/X
//
// compat/ and the errors of other providers (azure, mistral, …) are the codec's
// own and stay in testdata/.
var fixtureDirs = map[string]string{
	"anthropic": "../testdata/anthropic/messages",
	"openai":    "../testdata/openai/chat",
	"gemini":    "../testdata/gemini",
	"responses": "../testdata/openai/responses",
}

var (
	fixtureOnce  sync.Once
	fixtureFiles map[string]string // short name → path
)

// fixtures maps every fixture's short name to its file.
func fixtures() map[string]string {
	fixtureOnce.Do(func() {
		fixtureFiles = map[string]string{}
		add := func(dir, prefix string) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !e.IsDir() {
					fixtureFiles[prefix+e.Name()] = filepath.Join(dir, e.Name())
				}
			}
		}
		for _, own := range []string{"compat", "errors"} {
			add(filepath.Join("testdata", own), "testdata/"+own+"/")
		}
		for short, dir := range fixtureDirs {
			add(dir, "testdata/"+short+"/")
			add(filepath.Join(dir, "errors"), "testdata/errors/"+short+"_")
		}
	})
	return fixtureFiles
}

// fixturePath resolves a short name; other paths (golden files) are returned
// as they are.
func fixturePath(name string) string {
	if p, ok := fixtures()[name]; ok {
		return p
	}
	return name
}

// globFixtures is filepath.Glob over the short names, sorted.
func globFixtures(pattern string) ([]string, error) {
	var out []string
	for name := range fixtures() {
		ok, err := path.Match(pattern, name)
		if err != nil {
			return nil, err
		}
		// .http files and *_with_headers.json hold a whole response (status,
		// headers, body) for the proxy's tests, not a body.
		if ok && !strings.HasSuffix(name, ".http") && !strings.HasSuffix(name, "_with_headers.json") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Every short name the tests use resolves to a file, and the tree has no
// fixture twice.
func TestFixturesResolve(t *testing.T) {
	seen := map[string]string{}
	for name, p := range fixtures() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, dup := seen[string(b)]; dup && !strings.HasSuffix(name, ".http") {
			t.Logf("%s and %s have the same bytes", name, other)
		}
		seen[string(b)] = name
	}
	if len(fixtures()) < 100 {
		t.Fatalf("found %d fixtures; is ../testdata there?", len(fixtures()))
	}
}
