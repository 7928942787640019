// Package locale keeps Fyne from printing "Fyne error: Error parsing user
// locale C" on every run where LANG is C.UTF-8 (containers, CI, many SSH
// sessions): Fyne's lang package reads the locale in its init and cannot parse
// "C". Importing this package sets LANGUAGE=en in that case, which the locale
// lookup Fyne uses (jeandeaual/go-locale) reads first. C means untranslated, and
// Gatehouse's text is English, so nothing a user sees changes.
//
// It must run before fyne.io/fyne/v2/lang's init. Go initialises packages in
// import-path order among those whose imports are done (go.dev/ref/spec#Package_initialization),
// and this package imports only os and strings, so main importing it is enough;
// TestNoFyneLocaleNoise in the root package checks it.
package locale

import (
	"os"
	"strings"
)

func init() { Normalize() }

// Normalize sets LANGUAGE=en when the locale in force (LC_ALL, LC_MESSAGES,
// then LANG, as gettext reads them) is C or POSIX with a codeset, e.g.
// C.UTF-8, and LANGUAGE is unset. It reports whether it did.
func Normalize() bool {
	if os.Getenv("LANGUAGE") != "" {
		return false
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, ".")
		base, _, _ = strings.Cut(base, "@")
		if base != "C" && base != "POSIX" {
			return false
		}
		_ = os.Setenv("LANGUAGE", "en") // cannot fail for a valid name
		return true
	}
	return false
}
