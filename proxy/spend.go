package proxy

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// Daily budgets (issue 13). A call reserves its estimated tokens (and cost)
// before it is sent and settles the real usage when it ends. A call is
// admitted while the day's used plus reserved amount is below the budget, so
// concurrent calls cannot overspend by more than what the calls in flight
// use beyond their estimates.

// clientUsage is one client's day: used and reserved tokens and spend.
type clientUsage struct {
	mu                sync.Mutex
	day               int // yyyymmdd of the local day the counts belong to
	tokens, resTokens int64
	usd, resUSD       float64
	inFlight          int
	lastUsed          time.Time
}

func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// roll resets the counts at the first use of a new local day. Reservations
// stay: the calls holding them settle against the new day.
func (u *clientUsage) roll(now time.Time) {
	if d := dayOf(now); d != u.day {
		u.day, u.tokens, u.usd = d, 0, 0
	}
}

func (u *clientUsage) snapshot(now time.Time) ClientUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	return ClientUsage{Tokens: u.tokens, USD: u.usd, InFlight: u.inFlight, LastUsed: u.lastUsed}
}

func (u *clientUsage) seed(now time.Time, tokens int64, usd float64, last time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	u.tokens += tokens
	u.usd += usd
	if last.After(u.lastUsed) {
		u.lastUsed = last
	}
}

// reservation is what one admitted call holds until it settles.
type reservation struct {
	use    *clientUsage
	tokens int64
	usd    float64
	input  int64 // the input estimate, counted when the upstream never says
}

// budgetError is a refusal for an exhausted budget: 429 with Retry-After.
type budgetError struct {
	msg        string
	retryAfter time.Duration
}

func (e *budgetError) Error() string { return e.msg }

// reserve admits a call of client c estimated at est (usage) and estUSD, or
// says which budget is used up.
func (c *clientEntry) reserve(now time.Time, est codec.Usage, estUSD float64) (*reservation, error) {
	u := c.use
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	u.lastUsed = now
	tokens := countTokens(est)
	wait := untilMidnight(now)
	if c.DailyTokens > 0 && u.tokens+u.resTokens >= c.DailyTokens {
		return nil, &budgetError{retryAfter: wait, msg: fmt.Sprintf(
			"client %q has used its daily budget of %d tokens (daily_tokens: %d used, %d reserved by calls in flight); it resets at midnight, in %s",
			c.Name, c.DailyTokens, u.tokens, u.resTokens, wait.Round(time.Minute))}
	}
	if c.DailyUSD > 0 && u.usd+u.resUSD >= c.DailyUSD {
		return nil, &budgetError{retryAfter: wait, msg: fmt.Sprintf(
			"client %q has used its daily budget of $%.2f (daily_usd: $%.4f spent, $%.4f reserved by calls in flight); it resets at midnight, in %s",
			c.Name, c.DailyUSD, u.usd, u.resUSD, wait.Round(time.Minute))}
	}
	u.resTokens += tokens
	u.resUSD += estUSD
	u.inFlight++
	return &reservation{use: u, tokens: tokens, usd: estUSD, input: est.InputTokens}, nil
}

// settle releases the reservation and counts what the call used: its usage
// when the upstream said, the input estimate for an answered call that never
// said, nothing for a call that got no answer.
func (r *reservation) settle(now time.Time, used codec.Usage, answered bool, usd float64) {
	tokens := countTokens(used)
	if tokens < 0 {
		tokens = 0
		if answered {
			tokens = r.input
		}
	}
	u := r.use
	u.mu.Lock()
	defer u.mu.Unlock()
	u.roll(now)
	u.resTokens -= r.tokens
	u.resUSD -= r.usd
	u.inFlight--
	u.tokens += tokens
	u.usd += usd
}

// countTokens is what a budget counts of a usage: input plus output tokens
// (cached input and reasoning are parts of these); -1 when neither is known.
func countTokens(u codec.Usage) int64 {
	if u.InputTokens < 0 && u.OutputTokens < 0 {
		return -1
	}
	return max(u.InputTokens, 0) + max(u.OutputTokens, 0)
}

// untilMidnight is how long until the next local midnight.
func untilMidnight(now time.Time) time.Duration {
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, now.Location()).Sub(now)
}

// estimateUsage guesses a call's usage before it is made: about four bytes
// of body per input token, and the max_tokens asked for (else def) as output.
func estimateUsage(body []byte, def int) codec.Usage {
	u := codec.UnknownUsage()
	u.InputTokens = int64(len(body)+3) / 4
	u.OutputTokens = int64(def)
	for _, path := range [...]string{"max_tokens", "max_completion_tokens", "max_output_tokens", "generationConfig.maxOutputTokens"} {
		if r := gjson.GetBytes(body, path); r.Type == gjson.Number && r.Int() > 0 {
			u.OutputTokens = r.Int()
			break
		}
	}
	return u
}

// retryAfterHeader formats d as whole seconds, at least 1.
func retryAfterHeader(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// admit applies the client's scopes to the call's targets and reserves its
// budget; false when the call was answered (403 or 429) instead.
func (c *call) admit(targets *[]target) bool {
	cl := c.client
	t, msg := cl.scopeTargets(c.rec.Model, *targets)
	if msg != "" {
		c.ctx.Response.Header.Set("x-should-retry", "false")
		c.fail(fasthttp.StatusForbidden, ClassAuth, msg)
		return false
	}
	*targets = t
	est := estimateUsage(c.body, c.cfg.DefaultMaxTokens)
	var estUSD float64
	if cl.DailyUSD > 0 {
		// Priced as the call will be (price in usage.go); an unknown price
		// reserves nothing, and the call then counts nothing either.
		estUSD, _ = c.s.prices.Load().Cost(t[0].model, est)
	}
	res, err := cl.reserve(time.Now(), est, estUSD)
	if err != nil {
		be := err.(*budgetError)
		c.ctx.Response.Header.Set("Retry-After", retryAfterHeader(be.retryAfter))
		c.fail(fasthttp.StatusTooManyRequests, ClassRateLimited, be.msg)
		return false
	}
	c.res = res
	return true
}

// settle counts the finished call against its client's budget; it runs after
// c.price.
func (c *call) settle(now time.Time) {
	if c.res == nil {
		return
	}
	usd := c.rec.Cost // priced by c.price, 0 when unknown
	answered := c.rec.Outcome == OutcomeOK || c.rec.Outcome == OutcomePartial
	c.res.settle(now, c.rec.Usage, answered, usd)
	c.res = nil
}
