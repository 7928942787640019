package cli

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// appAPI serves /_gatehouse/api/app/*: "show" brings the window forward (a
// second launch with the same data folder asks for it).
func (a *Admin) appAPI(ctx *fasthttp.RequestCtx, path string) {
	box := a.window.Load()
	if box == nil && a.Desktop {
		adminError(ctx, fasthttp.StatusServiceUnavailable, "the desktop app is starting")
		return
	}
	if box == nil {
		adminError(ctx, fasthttp.StatusNotFound, "the desktop app is not running (this is gatehouse serve)")
		return
	}
	switch {
	case path == "show" && ctx.IsPost():
		// Optional body {"tab":"History","call":"ID"}: what to show.
		var req struct{ Tab, Call string }
		if body := ctx.PostBody(); len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				adminError(ctx, fasthttp.StatusBadRequest, "show: "+err.Error())
				return
			}
		}
		box.w.Reveal(req.Tab, req.Call)
		ctx.SetBodyString(`{"shown":true}`)
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no app endpoint "+path)
	}
}
