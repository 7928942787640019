// Package proxy is Gatehouse's local LLM proxy: a fasthttp server on loopback that
// takes OpenAI, Anthropic and Gemini requests, routes each to a provider, injects
// the provider's key, retries gateway failures with backoff and fallbacks, relays
// streams event by event, and hands a record of every call to a Recorder.
//
// It imports no storage or UI code: callers plug in a KeySource and a Recorder.
package proxy
