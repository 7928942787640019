package cli

import (
	"context"
	"encoding/json"

	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/valyala/fasthttp"
)

// doctorAPI serves POST /_gatehouse/api/doctor?what=X: the doctor's reports
// (a JSON array) for X as `gatehouse doctor X` names it, checked with this
// instance's keys.
func (a *Admin) doctorAPI(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		adminError(ctx, fasthttp.StatusMethodNotAllowed, "doctor takes POST")
		return
	}
	reps, err := a.Doctor(ctx, string(ctx.QueryArgs().Peek("what")))
	if err != nil {
		adminError(ctx, fasthttp.StatusNotFound, err.Error())
		return
	}
	b, _ := json.Marshal(reps) // plain strings and numbers
	ctx.SetBody(b)
}

// Doctor runs the doctor's checks for what (as `gatehouse doctor` names it)
// with this instance's config and keys: the admin API's and the app's "Check
// now".
func (a *Admin) Doctor(ctx context.Context, what string) ([]doctor.Report, error) {
	d := &doctor.Doctor{Version: a.Version}
	if a.Keys != nil {
		d.Keys, d.KeysErr = a.Keys, a.Keys.Unavailable()
	}
	return d.For(ctx, a.Config(), what)
}
