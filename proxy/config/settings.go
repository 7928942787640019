package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Field names a setting by its place in config.toml: its table ("" for the
// top level) and key. Its value in a Config is found through the struct's toml
// tags, so the field ↔ key mapping lives in the Config struct alone (issue 11:
// the desktop app repeated both).
type Field struct{ Table, Key string }

func (f Field) String() string {
	if f.Table == "" {
		return f.Key
	}
	return f.Table + "." + f.Key
}

// AppFields are the settings the desktop app's Settings screen edits.
var AppFields = []Field{
	{"", "listen"}, {"", "allow_origins"}, {"", "proxy_url"}, {"", "ca_file"},
	{"retry", "attempts"}, {"retry", "base_delay"}, {"retry", "max_delay"}, {"retry", "on_status"},
	{"retry", "first_byte_timeout"}, {"retry", "idle_timeout"},
	{"retry", "circuit_failures"}, {"retry", "circuit_cooldown"},
	{"history", "max_age"}, {"history", "max_size_mb"}, {"history", "body_cap_bytes"},
	{"app", "notifications"}, {"app", "start_at_login"},
}

// Value returns the value of field f in c (a pointer to the Config's field,
// so that callers can also set it), or an error for a key Config lacks.
func (c *Config) Value(f Field) (reflect.Value, error) {
	v := reflect.ValueOf(c).Elem()
	if f.Table != "" {
		var ok bool
		if v, ok = tomlField(v, f.Table); !ok || v.Kind() != reflect.Struct {
			return reflect.Value{}, fmt.Errorf("config has no table %q", f.Table)
		}
	}
	fv, ok := tomlField(v, f.Key)
	if !ok {
		return reflect.Value{}, fmt.Errorf("config has no setting %s", f)
	}
	return fv, nil
}

// tomlField finds the field of struct v whose toml tag is key.
func tomlField(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("toml"), ",")[0] == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// SetChanged writes into src every field of fields whose value differs between
// old (the config in force) and updated, and returns the fields it wrote; a
// setting left as it was is not written, so defaults stay out of the file
// (issue 16 §5). An empty string or a nil optional (*bool) removes the key.
func SetChanged(src []byte, old, updated *Config, fields []Field) ([]byte, []Field, error) {
	var changed []Field
	for _, f := range fields {
		was, err := old.Value(f)
		if err != nil {
			return nil, nil, err
		}
		now, err := updated.Value(f)
		if err != nil {
			return nil, nil, err
		}
		if reflect.DeepEqual(was.Interface(), now.Interface()) {
			continue
		}
		v := now.Interface()
		switch {
		case now.Kind() == reflect.String && now.Len() == 0, now.Kind() == reflect.Pointer && now.IsNil():
			v = nil // back to the default
		case now.Kind() == reflect.Slice && now.IsNil():
			v = reflect.MakeSlice(now.Type(), 0, 0).Interface() // "allow_origins = []"
		}
		if src, err = SetValue(src, Section{Table: f.Table}, f.Key, v); err != nil {
			return nil, nil, err
		}
		changed = append(changed, f)
	}
	return src, changed, nil
}

// SetRoutes replaces every [[route]] table of src with routes, appended at the
// end in order; other lines stay as they are.
func SetRoutes(src []byte, routes []Route) ([]byte, error) {
	d := scan(src)
	drop := make([]bool, len(d.text))
	for _, sec := range d.sections {
		if sec.name != "route" || !sec.array {
			continue
		}
		end := d.lastContent(sec)
		for i := sec.start; i <= end; i++ {
			drop[i] = true
		}
	}
	var kept []string
	for i, l := range d.text {
		if !drop[i] {
			kept = append(kept, l)
		}
	}
	// Collapse the blank lines the removed tables leave behind.
	var lines []string
	for _, l := range kept {
		if strings.TrimSpace(l) == "" && len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
			continue
		}
		lines = append(lines, l)
	}
	d = scan(join(lines))
	out := join(d.text)
	for _, r := range routes {
		model, err := encodeValue(r.Model)
		if err != nil {
			return nil, err
		}
		targets, err := encodeValue(r.Targets)
		if err != nil {
			return nil, err
		}
		out = scan(out).appendBlock([]string{"[[route]]", "model = " + model, "targets = " + targets})
	}
	return out, nil
}
