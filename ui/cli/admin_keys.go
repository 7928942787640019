package cli

import (
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// keysAPI serves /_gatehouse/api/keys/*:
//
//	GET  keys                               [{"provider","source","mask"}, ...]
//	POST keys/reload?provider=P[&field=F]   re-read P's keys from the keychain
func (a *Admin) keysAPI(ctx *fasthttp.RequestCtx, path string) {
	cfg := a.Config()
	switch {
	case path == "" && ctx.IsGet():
		list := make([]KeyStatus, 0, len(cfg.Providers))
		for i := range cfg.Providers {
			list = append(list, KeyStatusOf(a.Keys, &cfg.Providers[i]))
		}
		b, _ := json.Marshal(list)
		ctx.SetBody(b)
	case path == "reload" && ctx.IsPost():
		name := string(ctx.QueryArgs().Peek("provider"))
		p, ok := cfg.Provider(name)
		if !ok {
			adminError(ctx, fasthttp.StatusNotFound, "no provider "+name)
			return
		}
		if a.Keys == nil {
			adminError(ctx, fasthttp.StatusServiceUnavailable, "keys are not open")
			return
		}
		wasUnavailable := a.Keys.Unavailable() != nil
		if err := a.Keys.Reload(providerAccounts(p, string(ctx.QueryArgs().Peek("field")))); err != nil {
			adminError(ctx, fasthttp.StatusServiceUnavailable, err.Error())
			return
		}
		if wasUnavailable {
			// The keychain is back (e.g. unlocked since start-up): read the other
			// providers' keys too.
			if err := a.Keys.Load(KeyAccounts(cfg)); err != nil {
				a.log().Warn("keychain unavailable", "err", err)
			}
		}
		a.log().Info("keys reloaded from the keychain", "provider", name)
		b, _ := json.Marshal(KeyStatusOf(a.Keys, p))
		ctx.SetBody(b)
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no keys endpoint "+string(ctx.Method())+" "+path)
	}
}
