package codec

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/proxy/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var formats = []config.Format{config.FormatOpenAI, config.FormatAnthropic, config.FormatGemini, config.FormatResponses}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff)\ngot:\n%s", name, got)
	}
}

// translateStream runs a whole upstream stream through a Stream.
func translateStream(t testing.TB, from, to config.Format, upstream []byte, info RequestInfo) []byte {
	t.Helper()
	s := NewStream(from, to, info)
	var out []byte
	for _, ev := range parseEvents(t, upstream) {
		var err error
		out, err = s.Event(out, ev)
		if err != nil {
			t.Fatalf("Event(%q): %v", ev.Raw, err)
		}
	}
	return s.End(out)
}

func TestGoldenStreams(t *testing.T) {
	files, _ := globFixtures("testdata/*/stream_*.sse")
	compat, _ := globFixtures("testdata/compat/*.sse")
	files = append(files, compat...)
	if len(files) < 10 {
		t.Fatalf("found %d stream fixtures", len(files))
	}
	for _, path := range files {
		from := formatOfFixture(path)
		for _, to := range formats {
			if to == from {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), filepath.Ext(path))
			t.Run(name+"_to_"+string(to), func(t *testing.T) {
				out := translateStream(t, from, to, readFile(t, path), RequestInfo{ClientModel: "client-model", IncludeUsage: true})
				if err := validStream(to, out); err != nil {
					t.Errorf("translated stream is malformed: %v\n%s", err, out)
				}
				checkGolden(t, "stream/"+strings.ReplaceAll(name, "/", "_")+".to_"+string(to)+".sse", out)
			})
		}
	}
}

func TestGoldenResponses(t *testing.T) {
	files, _ := globFixtures("testdata/*/response_*.json")
	if len(files) < 10 {
		t.Fatalf("found %d response fixtures", len(files))
	}
	for _, path := range files {
		from := formatOfFixture(path)
		for _, to := range formats {
			if to == from {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), filepath.Ext(path))
			t.Run(name+"_to_"+string(to), func(t *testing.T) {
				out, _, err := Response(from, to, readFile(t, path), RequestInfo{ClientModel: "client-model"})
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "response/"+strings.ReplaceAll(name, "/", "_")+".to_"+string(to)+".json", indentJSON(t, out))
			})
		}
	}
}

func TestGoldenRequests(t *testing.T) {
	files, _ := globFixtures("testdata/*/request_*.json")
	if len(files) < 10 {
		t.Fatalf("found %d request fixtures", len(files))
	}
	for _, path := range files {
		from := formatOfFixture(path)
		for _, to := range formats {
			if to == from {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), filepath.Ext(path))
			t.Run(name+"_to_"+string(to), func(t *testing.T) {
				opt := RequestOptions{Model: "upstream-model", DefaultMaxTokens: 4096, Stream: strings.Contains(name, "stream")}
				out, _, err := Request(from, to, readFile(t, path), opt)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "request/"+strings.ReplaceAll(name, "/", "_")+".to_"+string(to)+".json", indentJSON(t, out))
			})
		}
	}
}
