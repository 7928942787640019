package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/valyala/fasthttp"
)

// certWarnDays is how close to expiry a certificate gets a warning.
const certWarnDays = 14

// dnsCheck resolves the host dialled first (the proxy's, when there is one).
func (r *run) dnsCheck(path proxy.Path) bool {
	host, _, _ := net.SplitHostPort(path.First())
	whose := "the provider's host"
	if path.Proxy != "" {
		whose = "the proxy's host (the proxy resolves the provider's)"
	}
	if ip := net.ParseIP(host); ip != nil {
		r.add(Check{Name: CheckDNS, Status: OK, Detail: host + " is an IP address: nothing to resolve"})
		return true
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.d.stepTimeout())
	defer cancel()
	start := time.Now()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	c := Check{Name: CheckDNS, Millis: since(start)}
	var de *net.DNSError
	switch {
	case err == nil:
		c.Status, c.Detail = OK, fmt.Sprintf("%s → %s", host, strings.Join(firstN(addrs, 4), ", "))
	case errors.As(err, &de) && de.IsNotFound:
		c.Status, c.Detail = Fail, fmt.Sprintf("%s (%s) does not exist: no such host", host, whose)
		c.Fix = "check the spelling of the host in base_url (or in the proxy setting); if it is right, the name is unknown to your DNS: a VPN or company DNS may be needed"
	case errors.As(err, &de) && de.IsTimeout, ctx.Err() != nil:
		c.Status, c.Detail = Fail, fmt.Sprintf("no DNS answer for %s (%s) within %v", host, whose, r.d.stepTimeout())
		c.Fix = "your DNS server does not answer: check the network connection, VPN or /etc/resolv.conf"
	default:
		c.Status, c.Detail = Fail, fmt.Sprintf("cannot resolve %s (%s): %v", host, whose, err)
		c.Fix = "check the network connection and DNS settings"
	}
	r.add(c)
	return c.Status == OK
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// tcpCheck opens the TCP connection to the first hop.
func (r *run) tcpCheck(path proxy.Path) (net.Conn, bool) {
	addr := path.First()
	whose := "the provider"
	if path.Proxy != "" {
		whose = "the proxy " + path.Proxy
	}
	start := time.Now()
	d := net.Dialer{Timeout: r.d.stepTimeout()}
	conn, err := d.DialContext(r.ctx, "tcp", addr)
	c := Check{Name: CheckTCP, Millis: since(start)}
	switch {
	case err == nil:
		c.Status, c.Detail = OK, fmt.Sprintf("connected to %s (%s)", conn.RemoteAddr(), whose)
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Status, c.Detail = Fail, fmt.Sprintf("%s refused the connection: nothing listens on %s (%s)", addr, addr, whose)
		c.Fix = "is the server running? Check the port in base_url (or in the proxy setting)"
	case isTimeout(err):
		c.Status, c.Detail = Fail, fmt.Sprintf("no answer from %s (%s) within %v", addr, whose, r.d.stepTimeout())
		c.Fix = "a firewall may drop the connection, or the host is down: check the VPN, the firewall, or whether a proxy is required (HTTPS_PROXY)"
	default:
		c.Status, c.Detail = Fail, fmt.Sprintf("cannot connect to %s (%s): %v", addr, whose, err)
		c.Fix = "check the network connection"
	}
	r.add(c)
	return conn, err == nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tlsCheck runs the proxy's tunnel and TLS over conn and reports the
// certificate; a plain-http upstream is passed through.
func (r *run) tlsCheck(path proxy.Path, conn net.Conn) (net.Conn, bool) {
	host, _, _ := net.SplitHostPort(path.Upstream)
	start := time.Now()
	out, err := path.Finish(conn)
	c := Check{Name: CheckTLS, Millis: since(start)}
	if err != nil {
		c.Status = Fail
		c.Detail, c.Fix = tlsFailure(err, host)
		if pe := (*proxy.ProxyError)(nil); errors.As(err, &pe) {
			c.Name = CheckProxy // the tunnel, not TLS, failed
		}
		r.add(c)
		return nil, false
	}
	tc, ok := out.(*tls.Conn)
	if !ok {
		c.Millis = 0
		c.Status, c.Detail = OK, "plain http: no TLS"
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			c.Status = Warn
			c.Detail = "plain http to " + host + ": the key and every prompt cross the network unencrypted"
			c.Fix = "use an https:// base_url if the server offers it"
		}
		r.add(c)
		return out, true
	}
	st := tc.ConnectionState()
	c.Status, c.Detail = OK, tls.VersionName(st.Version)
	if len(st.PeerCertificates) > 0 {
		cert := st.PeerCertificates[0]
		left := cert.NotAfter.Sub(r.d.now())
		days := int(left.Hours() / 24)
		c.Detail += fmt.Sprintf(", certificate for %s valid until %s (%d days)", certName(cert), cert.NotAfter.UTC().Format("2006-01-02"), days)
		if days < certWarnDays {
			c.Status, c.Fix = Warn, "the certificate expires soon: the server's operator must renew it"
		}
		if r.p.Network.InsecureSkipVerify {
			c.Status, c.Fix = Warn, "insecure_skip_verify is on: turn it off and trust the server's CA with ca_file"
			if err := cert.VerifyHostname(host); err != nil {
				c.Detail += "; it does not match " + host
			}
		}
	}
	r.add(c)
	return out, true
}

func certName(cert *x509.Certificate) string {
	if len(cert.DNSNames) > 0 {
		return strings.Join(firstN(cert.DNSNames, 3), ", ")
	}
	if len(cert.IPAddresses) > 0 {
		return cert.IPAddresses[0].String()
	}
	return cert.Subject.CommonName
}

// tlsFailure says in words why the tunnel or the handshake with host failed,
// and what to do.
func tlsFailure(err error, host string) (detail, fix string) {
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		he  x509.HostnameError
		pe  *proxy.ProxyError
		rec tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &pe) && pe.Status == fasthttp.StatusProxyAuthRequired:
		return pe.Error(), "put the proxy's credentials in the proxy URL: http://user:password@host:port"
	case errors.As(err, &pe):
		return pe.Error(), "check HTTPS_PROXY / proxy_url, or set proxy_url = \"none\" for this provider if it is reachable directly"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s expired on %s", host, ci.Cert.NotAfter.UTC().Format("2006-01-02")),
			"the server's operator must renew the certificate; check this machine's clock too"
	case errors.As(err, &ci):
		return fmt.Sprintf("the certificate of %s is not valid: %v", host, ci), "the server's operator must fix its certificate"
	case errors.As(err, &ua):
		issuer := ""
		if ua.Cert != nil {
			issuer = " (issued by " + ua.Cert.Issuer.String() + ")"
		}
		return fmt.Sprintf("the certificate of %s is signed by an authority this machine does not trust%s: a self-signed certificate, or a proxy that inspects TLS", host, issuer),
			"if you trust this server (or your company's TLS proxy), add its CA certificate (PEM) with ca_file in config.toml"
	case errors.As(err, &he):
		return fmt.Sprintf("the certificate is for %s, not %s", certName(he.Certificate), host), "use the host name the certificate names in base_url"
	case errors.As(err, &rec):
		return fmt.Sprintf("%s does not speak TLS on this port (it answered in plain text)", host), "use http:// in base_url, or the server's TLS port"
	}
	return fmt.Sprintf("TLS with %s failed: %v", host, err), "check base_url and the server's TLS setup"
}

// httpCheck sends an unauthenticated GET of the key check URL over conn: any
// HTTP answer means the server is reachable and speaks HTTP.
func (r *run) httpCheck(path proxy.Path, conn net.Conn) bool {
	defer conn.Close()
	url := r.p.KeyCheckURL()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodGet)
	req.Header.Set("User-Agent", "gatehouse/"+r.d.Version)
	req.Header.Set("Connection", "close")
	resp.SkipBody = true
	start := time.Now()
	_ = conn.SetDeadline(start.Add(r.d.stepTimeout()))
	bw := bufio.NewWriter(conn)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = resp.Header.Read(bufio.NewReader(conn))
	}
	c := Check{Name: CheckHTTP, Millis: since(start)}
	switch {
	case err == nil:
		c.Status, c.Detail = OK, fmt.Sprintf("GET %s answered %d without a key", url, resp.StatusCode())
	case isTimeout(err):
		c.Status, c.Detail = Fail, fmt.Sprintf("%s accepted the connection but sent no HTTP answer within %v", path.Upstream, r.d.stepTimeout())
		c.Fix = "the server is overloaded or is not an HTTP server: check base_url's port"
	default:
		c.Status, c.Detail = Fail, fmt.Sprintf("%s did not answer in HTTP: %v", path.Upstream, err)
		c.Fix = "check base_url: the port may belong to another service"
	}
	r.add(c)
	return c.Status == OK
}
