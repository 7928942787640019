package doctor

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/proxy/config"
)

// run is one Run: the checks so far and what later checks need.
type run struct {
	d     *Doctor
	ctx   context.Context
	cfg   *config.Config
	p     *config.Provider
	model string
	rep   Report
	// auth is the provider's answer to the key check, when it gave one.
	auth *Answer
}

func (r *run) add(c Check) { r.rep.Checks = append(r.rep.Checks, c) }

// skip records the checks in names as not run, for why.
func (r *run) skip(why string, names ...string) {
	for _, n := range names {
		r.add(Check{Name: n, Status: Skip, Detail: why})
	}
}

// all runs the checks in order. The network steps stop at the first failure:
// each needs the one before.
func (r *run) all(route string) {
	path, ok := r.configCheck(route)
	if !ok {
		r.skip("the configuration is unusable", CheckProxy, CheckDNS, CheckTCP, CheckTLS, CheckHTTP, CheckAuth, CheckModel, CheckRateLimit)
		return
	}
	r.proxyCheck(path)
	if !r.dnsCheck(path) {
		r.skip("DNS failed", CheckTCP, CheckTLS, CheckHTTP, CheckAuth, CheckModel, CheckRateLimit)
		return
	}
	conn, ok := r.tcpCheck(path)
	if !ok {
		r.skip("no TCP connection", CheckTLS, CheckHTTP, CheckAuth, CheckModel, CheckRateLimit)
		return
	}
	conn, ok = r.tlsCheck(path, conn)
	if !ok {
		r.skip("no TLS connection", CheckHTTP, CheckAuth, CheckModel, CheckRateLimit)
		return
	}
	if !r.httpCheck(path, conn) {
		r.skip("no HTTP answer", CheckAuth, CheckModel, CheckRateLimit)
		return
	}
	if !r.authCheck() {
		r.skip("authentication failed", CheckModel)
	} else {
		r.modelCheck()
	}
	r.rateLimitCheck()
}

// since is the milliseconds from start, at least 1 so that it shows.
func since(start time.Time) int64 {
	ms := time.Since(start).Milliseconds()
	if ms < 1 {
		return 1
	}
	return ms
}
