package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
)

// TLSFiles returns the resolved tls_cert and tls_key paths, and whether TLS is
// on (both set).
func (c *Config) TLSFiles() (cert, key string, on bool) {
	if c.TLSCert == "" || c.TLSKey == "" {
		return "", "", false
	}
	return resolveCAFile(c.TLSCert, c.Path), resolveCAFile(c.TLSKey, c.Path), true
}

// LoadTLS reads the listener's certificate; nil when TLS is off.
func (c *Config) LoadTLS() (*tls.Config, error) {
	cert, key, on := c.TLSFiles()
	if !on {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("tls_cert %s / tls_key %s: %w", cert, key, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// validateSharing checks allow_hosts and the TLS pair.
func (c *Config) validateSharing() error {
	for _, h := range c.AllowHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			return &fieldError{key: "allow_hosts", msg: fmt.Sprintf("%q is not a host name or address", h)}
		}
		if _, _, err := net.SplitHostPort(h); err == nil {
			return &fieldError{key: "allow_hosts", msg: fmt.Sprintf("%q: give the host without a port", h)}
		}
	}
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		return &fieldError{key: "tls_key", msg: "tls_cert is set: tls_key must be set too"}
	case c.TLSKey != "" && c.TLSCert == "":
		return &fieldError{key: "tls_cert", msg: "tls_key is set: tls_cert must be set too"}
	}
	if _, err := c.LoadTLS(); err != nil {
		return &fieldError{key: "tls_cert", msg: err.Error()}
	}
	return nil
}
