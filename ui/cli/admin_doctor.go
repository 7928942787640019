package cli

import (
	"encoding/json"

	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/gatehouse/gatehouse/store"
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
	d := &doctor.Doctor{Mask: store.Mask, Version: a.Version}
	if a.Keys != nil {
		d.Keys, d.KeysErr = a.Keys, a.Keys.Unavailable()
	}
	reps, err := d.For(ctx, a.Config(), string(ctx.QueryArgs().Peek("what")))
	if err != nil {
		adminError(ctx, fasthttp.StatusNotFound, err.Error())
		return
	}
	b, _ := json.Marshal(reps) // plain strings and numbers
	ctx.SetBody(b)
}
