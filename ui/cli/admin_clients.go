package cli

import (
	"encoding/json"
	"errors"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/store"
	"github.com/valyala/fasthttp"
)

// clientsAPI serves /_gatehouse/api/clients/*:
//
//	GET  clients                 [ClientStatus, ...]
//	POST clients                 ClientSpec → {"name","token"} (the token, once)
//	POST clients/rotate?name=N   {"name","token"}
//	POST clients/remove?name=N   {"name"}
func (a *Admin) clientsAPI(ctx *fasthttp.RequestCtx, path string) {
	if a.Clients == nil {
		adminError(ctx, fasthttp.StatusServiceUnavailable, "client tokens are not open")
		return
	}
	name := string(ctx.QueryArgs().Peek("name"))
	var err error
	var out any
	switch {
	case path == "" && ctx.IsGet():
		var list []store.Client
		if list, err = a.Clients.List(); err == nil {
			out = ClientStatuses(list, a.usage())
		}
	case path == "" && ctx.IsPost():
		var spec ClientSpec
		if err = json.Unmarshal(ctx.PostBody(), &spec); err != nil {
			adminError(ctx, fasthttp.StatusBadRequest, "client spec: "+err.Error())
			return
		}
		var tok string
		if tok, err = a.Clients.Add(spec); err == nil {
			out = newToken{spec.Name, tok}
		}
	case path == "rotate" && ctx.IsPost():
		var tok string
		if tok, err = a.Clients.Rotate(name); err == nil {
			out = newToken{name, tok}
		}
	case path == "remove" && ctx.IsPost():
		if err = a.Clients.Remove(name); err == nil {
			out = newToken{Name: name}
		}
	default:
		adminError(ctx, fasthttp.StatusNotFound, "no clients endpoint "+string(ctx.Method())+" "+path)
		return
	}
	if err != nil {
		status := fasthttp.StatusBadRequest
		if errors.Is(err, store.ErrNoClient) {
			status = fasthttp.StatusNotFound
		}
		adminError(ctx, status, err.Error())
		return
	}
	b, _ := json.Marshal(out) // plain structs: cannot fail
	ctx.SetBody(b)
}

// newToken is a token as shown once.
type newToken struct {
	Name  string `json:"name"`
	Token string `json:"token,omitempty"`
}

func (a *Admin) usage() map[string]proxy.ClientUsage {
	if a.ClientUsage == nil {
		return nil
	}
	return a.ClientUsage()
}
