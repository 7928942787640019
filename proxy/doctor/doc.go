// Package doctor runs the checks a person would make when calls to a provider
// fail, in order, and says in plain words which one fails and how to fix it:
// configuration, proxy variables, DNS, TCP, TLS, HTTP, authentication (the key
// check `gatehouse keys test` makes), the model's presence in the provider's
// model list and the rate-limit headers seen (issue 14 §5).
//
// Every network step goes the way the proxy's own calls go (proxy.PathOf):
// through HTTPS_PROXY or proxy_url, with the provider's CA files. The package
// has no UI; `gatehouse doctor`, the admin API and the app's "Check now"
// buttons print its Report.
package doctor
