package doctor

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
)

// authCheck makes the key check (the `keys test` call).
func (r *run) authCheck() bool {
	p := r.p
	start := time.Now()
	a, err := Get(p, r.d.Keys, p.KeyCheckURL(), r.d.Version)
	c := Check{Name: CheckAuth, Millis: since(start)}
	switch {
	case errors.Is(err, ErrNoKey):
		c.Status, c.Detail, c.Fix, c.Millis = Fail, "no key to send", noKeyFix(p), 0
	case err != nil:
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "run the doctor again: the connection worked a moment ago"
	case a.Status >= 200 && a.Status < 300:
		r.auth = &a
		c.Status, c.Detail = OK, "the provider accepted the key"
		if p.NoKey || p.DefaultAuth() == "none" {
			c.Detail = "answered without a key (none needed)"
		}
	default:
		r.auth = &a
		c.Status, c.Detail = Fail, fmt.Sprintf("%d %s: %s", a.Status, StatusMeaning(a.Status), a.Message)
		c.Fix = authFix(r, a.Status)
	}
	r.add(c)
	return c.Status == OK
}

func authFix(r *run, status int) string {
	p := r.p
	switch {
	case status == 401:
		return "the key is wrong, revoked or for another provider: store the right one with `gatehouse keys set " + p.Name + "` (or Providers → Key)"
	case status == 403:
		return "the key works but may not use this API: check the key's permissions, project or region at the provider"
	case status == 404:
		return "base_url (or key_check) points to the wrong path: compare it with the provider's documentation"
	case status == 429:
		return "the account is rate limited or out of credit: check its billing and limits at the provider"
	case status >= 500:
		return "the provider has trouble on its side: try again later or check its status page"
	}
	return "read the provider's message above"
}

// modelCheck looks the model up in the provider's model list.
func (r *run) modelCheck() {
	p := r.p
	url := proxy.ModelsURL(p)
	a := r.auth
	start := time.Now()
	if a == nil || url != p.KeyCheckURL() {
		got, err := Get(p, r.d.Keys, url, r.d.Version)
		if err != nil {
			r.add(Check{Name: CheckModel, Status: Warn, Detail: "no model list: " + err.Error(), Millis: since(start)})
			return
		}
		a = &got
	}
	c := Check{Name: CheckModel}
	if a != r.auth {
		c.Millis = since(start)
	}
	models := proxy.ParseModels(p.Format, a.Body)
	switch {
	case a.Status < 200 || a.Status > 299:
		c.Status, c.Detail = Warn, fmt.Sprintf("the model list (GET %s) answered %d: cannot check the model", url, a.Status)
	case len(models) == 0:
		c.Status, c.Detail = Warn, fmt.Sprintf("GET %s listed no models: cannot check the model", url)
	case r.model == "":
		c.Status, c.Detail = OK, fmt.Sprintf("%d models listed (name one to check it: gatehouse doctor %s/MODEL)", len(models), p.Name)
	case slices.Contains(models, r.model):
		c.Status, c.Detail = OK, fmt.Sprintf("%s is among the %d models %s lists", r.model, len(models), p.Name)
	default:
		c.Status = Fail
		c.Detail = fmt.Sprintf("%s is not among the %d models %s lists", r.model, len(models), p.Name)
		c.Fix = "check the model's spelling"
		if near := nearModels(models, r.model, 5); len(near) > 0 {
			c.Fix += "; close names: " + strings.Join(near, ", ")
		}
		c.Fix += "; or route it to another provider ([[route]] in config.toml)"
	}
	r.add(c)
}

// nearModels returns up to n of models sharing the longest prefix with want.
func nearModels(models []string, want string, n int) []string {
	type scored struct {
		m string
		n int
	}
	var s []scored
	for _, m := range models {
		k := 0
		for k < len(m) && k < len(want) && m[k] == want[k] {
			k++
		}
		if k >= 3 {
			s = append(s, scored{m, k})
		}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].n > s[j].n })
	var out []string
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].m)
	}
	return out
}

// rateLimitPrefixes are the headers providers report their limits in.
var rateLimitPrefixes = []string{"x-ratelimit-", "anthropic-ratelimit-", "ratelimit", "retry-after", "x-rate-limit-"}

// rateLimitCheck shows the rate-limit headers of the key check's answer.
func (r *run) rateLimitCheck() {
	c := Check{Name: CheckRateLimit, Status: OK, Detail: "none seen"}
	if r.auth == nil {
		c.Status, c.Detail = Skip, "no answer from the provider"
		r.add(c)
		return
	}
	var seen []string
	exhausted := ""
	for k, v := range r.auth.Header {
		for _, pre := range rateLimitPrefixes {
			if strings.HasPrefix(k, pre) {
				seen = append(seen, k+"="+v)
				if strings.Contains(k, "remaining") && strings.TrimSpace(v) == "0" {
					exhausted = k
				}
				break
			}
		}
	}
	sort.Strings(seen)
	if len(seen) > 0 {
		c.Detail = strings.Join(seen, ", ")
	}
	if exhausted != "" {
		c.Status, c.Fix = Warn, exhausted+" is 0: calls are refused until the limit resets (see the reset header); Gatehouse retries after Retry-After when it is short"
	}
	r.add(c)
}
