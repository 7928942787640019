package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Editing config.toml in place: the commands and the desktop app's settings change
// one table or one key and leave every other byte (comments, blank lines, key
// order, spelling of values) as the user wrote it. A TOML encoder would rewrite
// the whole file, so edits work on lines; the result is always re-parsed and
// validated before it is written (EditFile).

// ErrNotInFile is returned when the table or provider to change is not in the file.
var ErrNotInFile = errors.New("not in the config file")

// bareKey is a TOML bare key: the only keys and table names edits write.
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Section names the table an edit applies to.
type Section struct {
	// Provider selects the [[provider]] table with this name. Empty: a plain table.
	Provider string
	// Prompt selects the [[prompt]] table with this name (Provider empty).
	Prompt string
	// Table is a plain table ("retry", "history", "app"), or, with Provider, a
	// subtable of that provider ("auth_options"). Empty with empty Provider: the
	// top level, before the first table.
	Table string
}

// EditFile applies edit to the file at path (a missing file counts as empty),
// checks that the result parses and validates, and replaces the file atomically,
// keeping its mode (0600 for a new file). A running instance's config.Watch
// picks the change up.
func EditFile(path string, edit func(src []byte) ([]byte, error)) error {
	src, err := os.ReadFile(path)
	mode := os.FileMode(0o600)
	switch {
	case errors.Is(err, os.ErrNotExist):
		src = nil
	case err != nil:
		return fmt.Errorf("read config: %w", err)
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	out, err := edit(src)
	if err != nil {
		return err
	}
	if _, err := Parse(out, path); err != nil {
		return fmt.Errorf("the edited config would not load, so it was not written: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return WriteFileAtomic(path, out, mode)
}

// AddProvider appends a [[provider]] table for p at the end of src, with the
// fields p sets (Name first). A provider of that name already in src is an error.
func AddProvider(src []byte, p Provider) ([]byte, error) {
	if !ValidName(p.Name) {
		return nil, fmt.Errorf("provider name %q must match [a-z0-9-]+", p.Name)
	}
	d := scan(src)
	if _, ok := d.provider(p.Name); ok {
		return nil, fmt.Errorf("provider %q is already in the config file", p.Name)
	}
	body, err := providerTable(p)
	if err != nil {
		return nil, err
	}
	return d.appendBlock(body), nil
}

// RemoveProvider removes the [[provider]] table named name, its subtables and the
// comment lines directly above it. Other lines stay as they are.
func RemoveProvider(src []byte, name string) ([]byte, error) {
	d := scan(src)
	sec, ok := d.provider(name)
	if !ok {
		return nil, fmt.Errorf("provider %q: %w", name, ErrNotInFile)
	}
	return d.remove(sec), nil
}

// remove drops sec, its subtables and the comment lines directly above it.
func (d *doc) remove(sec section) []byte {
	start := sec.start
	for start > 0 && d.lines[start-1].kind == lineComment {
		start--
	}
	end := d.lastContent(sec) + 1
	lines := append(append([]string{}, d.text[:start]...), d.text[end:]...)
	// Do not leave two blank lines where the table was.
	if start > 0 && start < len(lines) && strings.TrimSpace(lines[start-1]) == "" && strings.TrimSpace(lines[start]) == "" {
		lines = append(lines[:start], lines[start+1:]...)
	}
	if start == len(lines) && start > 0 && strings.TrimSpace(lines[start-1]) == "" {
		lines = lines[:start-1]
	}
	return join(lines)
}

// SetValue sets key to value in the section, replacing an existing value in place
// (a comment after it stays) or adding the key after the section's last key. A
// missing table is appended; a missing [[provider]] gets a table with its name.
// value is a string, bool, integer, float, Duration, time.Duration or a slice of
// those; nil removes the key.
func SetValue(src []byte, s Section, key string, value any) ([]byte, error) {
	if !bareKey.MatchString(key) {
		return nil, fmt.Errorf("set %q: only plain keys ([A-Za-z0-9_-]+) can be set", key)
	}
	if s.Table != "" && !bareKey.MatchString(s.Table) {
		return nil, fmt.Errorf("set %s in table %q: only plain table names ([A-Za-z0-9_-]+)", key, s.Table)
	}
	var enc string
	if value != nil {
		var err error
		if enc, err = encodeValue(value); err != nil {
			return nil, fmt.Errorf("set %s: %w", key, err)
		}
	}
	d := scan(src)
	sec, ok := d.find(s)
	if !ok {
		if value == nil {
			return src, nil
		}
		return d.addSection(s, key+" = "+enc)
	}
	for i := max(sec.start, 0); i < sec.end; i++ {
		l := d.lines[i]
		if l.kind != lineKey || l.key != key {
			continue
		}
		if value == nil {
			return join(append(append([]string{}, d.text[:i]...), d.text[l.valueEndLine+1:]...)), nil
		}
		last := d.text[l.valueEndLine]
		tail := last[l.valueEndCol:]
		head := d.text[i][:l.eq+1]
		lines := append([]string{}, d.text[:i]...)
		lines = append(lines, head+" "+enc+tail)
		lines = append(lines, d.text[l.valueEndLine+1:]...)
		return join(lines), nil
	}
	if value == nil {
		return src, nil
	}
	at := sec.start + 1 // right after the header
	if sec.start < 0 {
		at = 0
	}
	for i := max(sec.start, 0); i < sec.end; i++ {
		if k := d.lines[i].kind; k == lineKey || k == lineCont {
			at = i + 1
		}
	}
	if sec.start < 0 && at == 0 && sec.end < len(d.lines) {
		// No top-level key yet: put it before the first table and its comments.
		at = sec.end
		for at > 0 && d.lines[at-1].kind == lineComment {
			at--
		}
		return join(insert(d.text, at, key+" = "+enc, "")), nil
	}
	return join(insert(d.text, at, key+" = "+enc)), nil
}

// providerTable renders p as a [[provider]] table: every field p sets, in the
// order of the Provider struct, then [provider.auth_options] if it has any.
func providerTable(p Provider) ([]string, error) {
	out := []string{"[[provider]]"}
	pv := reflect.ValueOf(p)
	pt := pv.Type()
	var opts []string
	for i := 0; i < pt.NumField(); i++ {
		f := pt.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() || pv.Field(i).IsZero() {
			continue
		}
		if tag == "auth_options" {
			var err error
			if opts, err = structLines(pv.Field(i)); err != nil {
				return nil, err
			}
			continue
		}
		v, err := encodeValue(pv.Field(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("provider %s: %s: %w", p.Name, tag, err)
		}
		out = append(out, tag+" = "+v)
	}
	if len(opts) > 0 {
		out = append(out, "", "[provider.auth_options]")
		out = append(out, opts...)
	}
	return out, nil
}

func structLines(v reflect.Value) ([]string, error) {
	var out []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" || v.Field(i).IsZero() {
			continue
		}
		enc, err := encodeValue(v.Field(i).Interface())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		out = append(out, tag+" = "+enc)
	}
	return out, nil
}

// encodeValue renders a value as TOML; a set optional (*bool: responses,
// client_keys) is its value.
func encodeValue(v any) (string, error) {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		v = rv.Elem().Interface()
	}
	switch x := v.(type) {
	case Duration:
		v = x.String()
	case time.Duration:
		v = x.String()
	case Format:
		v = string(x)
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			kk, err := encodeValue(k)
			if err != nil {
				return "", err
			}
			vv, err := encodeValue(x[k])
			if err != nil {
				return "", err
			}
			parts[i] = kk + " = " + vv
		}
		return "{ " + strings.Join(parts, ", ") + " }", nil
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Struct, reflect.Pointer, reflect.Invalid:
		return "", fmt.Errorf("%T cannot be written as a scalar", v)
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{"v": v}); err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	s := strings.TrimSpace(b.String())
	return strings.TrimSpace(strings.TrimPrefix(s, "v =")), nil
}

type lineKind int

const (
	lineBlank lineKind = iota
	lineComment
	lineHeader
	lineKey  // a key = value line (its value may continue on lineCont lines)
	lineCont // inside a multi-line string or array
)

type srcLine struct {
	kind   lineKind
	header string // table name of a header line
	array  bool   // [[header]]
	key    string // key of a lineKey, unquoted
	eq     int    // byte offset of "=" in a lineKey
	// valueEndLine and valueEndCol mark where a lineKey's value ends: the line
	// and the byte offset just past the value on it.
	valueEndLine, valueEndCol int
}

// section is a table: its header line and the lines up to the next header.
// start is -1 for the top level.
type section struct {
	name       string
	array      bool
	start, end int
}

type doc struct {
	text     []string
	lines    []srcLine
	sections []section
}

func join(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func insert(lines []string, at int, add ...string) []string {
	out := make([]string, 0, len(lines)+len(add))
	out = append(out, lines[:at]...)
	out = append(out, add...)
	return append(out, lines[at:]...)
}

// scan splits src into classified lines and sections.
func scan(src []byte) *doc {
	s := strings.ReplaceAll(string(src), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	d := &doc{}
	if s != "" {
		d.text = strings.Split(s, "\n")
	}
	d.lines = make([]srcLine, len(d.text))
	var st valueState
	keyLine := -1
	for i, raw := range d.text {
		if st.open() {
			d.lines[i].kind = lineCont
			col := st.feed(raw, 0)
			if !st.open() && keyLine >= 0 {
				d.lines[keyLine].valueEndLine, d.lines[keyLine].valueEndCol = i, col
			}
			continue
		}
		t := strings.TrimSpace(raw)
		switch {
		case t == "":
			d.lines[i].kind = lineBlank
		case t[0] == '#':
			d.lines[i].kind = lineComment
		case t[0] == '[':
			l := &d.lines[i]
			l.kind = lineHeader
			l.array = strings.HasPrefix(t, "[[")
			name := t
			if j := strings.IndexByte(name, ']'); j >= 0 {
				name = name[:j]
			}
			l.header = unquoteKey(strings.Trim(name, "[ \t"))
		default:
			l := &d.lines[i]
			eq := keyEquals(raw)
			if eq < 0 {
				l.kind = lineComment // not TOML we understand; left alone
				continue
			}
			l.kind, l.eq, l.key = lineKey, eq, unquoteKey(strings.TrimSpace(raw[:eq]))
			keyLine = i
			col := st.feed(raw, eq+1)
			l.valueEndLine, l.valueEndCol = i, col
		}
	}
	top := section{start: -1, end: len(d.text)}
	for i, l := range d.lines {
		if l.kind == lineHeader {
			top.end = i
			break
		}
	}
	d.sections = append(d.sections, top)
	for i, l := range d.lines {
		if l.kind != lineHeader {
			continue
		}
		if n := len(d.sections); n > 1 {
			d.sections[n-1].end = i
		}
		d.sections = append(d.sections, section{name: l.header, array: l.array, start: i, end: len(d.text)})
	}
	return d
}

// keyEquals returns the offset of the "=" after a key, skipping quoted keys.
func keyEquals(s string) int {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '=':
			return i
		}
	}
	return -1
}

func unquoteKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// valueState follows a value across lines: strings (basic, literal, multi-line)
// and bracket depth, so that lines inside a multi-line array or string are never
// taken for headers or keys.
type valueState struct {
	ml    string // open multi-line string delimiter
	depth int    // open [ and {
}

func (v *valueState) open() bool { return v.ml != "" || v.depth > 0 }

// feed scans s from byte from and returns the offset just past the value's last
// character on this line (before spaces and a comment).
func (v *valueState) feed(s string, from int) int {
	end := from
	for i := from; i < len(s); i++ {
		if v.ml != "" {
			if strings.HasPrefix(s[i:], v.ml) {
				// A closing delimiter may be followed by up to two more quotes.
				j := i + 3
				for j < len(s) && j < i+5 && s[j] == v.ml[0] {
					j++
				}
				v.ml = ""
				i = j - 1
				end = j
			} else if v.ml == `"""` && s[i] == '\\' {
				i++
			}
			continue
		}
		c := s[i]
		switch c {
		case ' ', '\t':
			continue
		case '#':
			return end
		case '"', '\'':
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				v.ml = strings.Repeat(string(c), 3)
				i += 2
				continue
			}
			j := i + 1
			for j < len(s) && s[j] != c {
				if c == '"' && s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			end = min(j+1, len(s))
			continue
		case '[', '{':
			v.depth++
		case ']', '}':
			if v.depth > 0 {
				v.depth--
			}
		}
		end = i + 1
	}
	if v.ml != "" {
		return len(s)
	}
	return end
}

// provider finds the [[provider]] section named name.
func (d *doc) provider(name string) (section, bool) { return d.entry("provider", name) }

// entry finds the [[table]] section whose name key is name.
func (d *doc) entry(table, name string) (section, bool) {
	for _, sec := range d.sections {
		if sec.name != table || !sec.array {
			continue
		}
		for i := sec.start + 1; i < sec.end; i++ {
			l := d.lines[i]
			if l.kind != lineKey || l.key != "name" {
				continue
			}
			var v struct{ Name string }
			if _, err := toml.Decode("name = "+strings.TrimSpace(d.text[i][l.eq+1:]), &v); err == nil && v.Name == name {
				return sec, true
			}
		}
	}
	return section{}, false
}

// withSubtables extends a [[provider]] section over the [provider.x] subtables
// that follow it.
func (d *doc) withSubtables(sec section) section {
	for _, s := range d.sections {
		if s.start == sec.end && strings.HasPrefix(s.name, "provider.") {
			sec.end = s.end
		}
	}
	return sec
}

// lastContent is the index of the last key or continuation line of sec and its
// subtables (its header when it has none).
func (d *doc) lastContent(sec section) int {
	sec = d.withSubtables(sec)
	last := sec.start
	for i := sec.start; i < sec.end; i++ {
		if k := d.lines[i].kind; k == lineKey || k == lineCont || k == lineHeader {
			last = i
		}
	}
	return last
}

// find locates the section s names.
func (d *doc) find(s Section) (section, bool) {
	if s.Prompt != "" {
		return d.entry("prompt", s.Prompt)
	}
	if s.Provider == "" {
		if s.Table == "" {
			return d.sections[0], true
		}
		for _, sec := range d.sections[1:] {
			if sec.name == s.Table && !sec.array {
				return sec, true
			}
		}
		return section{}, false
	}
	p, ok := d.provider(s.Provider)
	if !ok || s.Table == "" {
		return p, ok
	}
	p = d.withSubtables(p)
	for _, sec := range d.sections {
		if sec.start > p.start && sec.start < p.end && sec.name == "provider."+s.Table {
			return sec, true
		}
	}
	return section{}, false
}

// addSection adds a missing section holding one key line.
func (d *doc) addSection(s Section, kv string) ([]byte, error) {
	if s.Prompt != "" {
		name, _ := encodeValue(s.Prompt)
		return d.appendBlock([]string{"[[prompt]]", "name = " + name, kv}), nil
	}
	switch {
	case s.Provider == "":
		return d.appendBlock([]string{"[" + s.Table + "]", kv}), nil
	case s.Table == "":
		name, _ := encodeValue(s.Provider)
		return d.appendBlock([]string{"[[provider]]", "name = " + name, kv}), nil
	}
	p, ok := d.provider(s.Provider)
	if !ok {
		name, _ := encodeValue(s.Provider)
		return d.appendBlock([]string{"[[provider]]", "name = " + name, "", "[provider." + s.Table + "]", kv}), nil
	}
	at := d.lastContent(p) + 1
	return join(insert(d.text, at, "", "[provider."+s.Table+"]", kv)), nil
}

// appendBlock adds lines at the end, after one blank line.
func (d *doc) appendBlock(block []string) []byte {
	lines := append([]string{}, d.text...)
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > 0 {
		lines = append(lines, "")
	}
	return join(append(lines, block...))
}
