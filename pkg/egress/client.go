// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Defaults for ClientOptions.
const (
	// DefaultMaxRedirects follows the Mastodon practice of very few hops;
	// GitHub archive and release downloads need one or two.
	DefaultMaxRedirects = 3
	// DefaultMaxResponseBytes bounds one response body (1 GiB).
	DefaultMaxResponseBytes int64 = 1 << 30
	// DefaultTimeout bounds a whole request including reading the body.
	DefaultTimeout = 10 * time.Minute
)

// ClientOptions configures NewClient. Zero values select the defaults.
type ClientOptions struct {
	// MaxRedirects is the number of redirects followed; 0 selects
	// DefaultMaxRedirects and a negative value refuses every redirect.
	// Each hop is checked with Policy.CheckURL before it is requested.
	MaxRedirects int
	// MaxResponseBytes bounds each response body; 0 selects
	// DefaultMaxResponseBytes. A larger declared Content-Length fails the
	// round trip, a longer body fails the read, with ErrResponseTooLarge.
	MaxResponseBytes int64
	// Timeout bounds each request from dial to the end of the body; 0
	// selects DefaultTimeout.
	Timeout time.Duration
	// TLSClientConfig, if set, is cloned for the transport (custom roots
	// for an internal mirror; tests). TLS 1.2 is the minimum either way.
	TLSClientConfig *tls.Config
}

// NewClient returns an *http.Client for fetching build sources under g:
//
//   - every request URL, the first and each redirect target, must pass
//     Policy.CheckURL (refusals are *DeniedError);
//   - connections go through Guard.DialContext, so every resolved address is
//     checked and the checked address is the one dialled;
//   - proxy environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are
//     ignored, since a proxy would hide the destination from the guard;
//   - at most MaxRedirects redirects, never from https to http, and a
//     redirect to another origin drops the caller's headers (code-entry
//     headers often carry tokens) except Accept and User-Agent;
//   - response bodies are capped at MaxResponseBytes and whole requests at
//     Timeout.
//
// The Transport is not an *http.Transport, so go-git refuses to apply
// per-endpoint proxy, CA-bundle or insecure-TLS options to it; that is
// intended.
func NewClient(g *Guard, opts ClientOptions) *http.Client {
	maxRedirects := opts.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	maxBytes := opts.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var tlsConfig *tls.Config
	if opts.TLSClientConfig != nil {
		tlsConfig = opts.TLSClientConfig.Clone()
	} else {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.MinVersion < tls.VersionTLS12 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}

	base := &http.Transport{
		Proxy:                  nil,
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  time.Minute,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &http.Client{
		Transport: &guardedTransport{policy: g.policy, next: base, maxBytes: maxBytes},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return checkRedirect(g.policy, maxRedirects, req, via)
		},
		Timeout: timeout,
	}
}

func checkRedirect(p *Policy, maxRedirects int, req *http.Request, via []*http.Request) error {
	if maxRedirects < 0 || len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, max(maxRedirects, 0))
	}
	if err := p.CheckURL(req.URL); err != nil {
		return err
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return &DeniedError{URL: redactURL(req.URL), Reason: "redirect from https to " + req.URL.Scheme}
	}
	if first := via[0].URL; first.Scheme != req.URL.Scheme || first.Host != req.URL.Host {
		for name := range req.Header {
			if name != "Accept" && name != "User-Agent" {
				req.Header.Del(name)
			}
		}
	}
	return nil
}

// guardedTransport checks each request URL and caps each response body.
type guardedTransport struct {
	policy   *Policy
	next     http.RoundTripper
	maxBytes int64
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.policy.CheckURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s declares %d bytes, the limit is %d",
			ErrResponseTooLarge, redactURL(req.URL), resp.ContentLength, t.maxBytes)
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.maxBytes}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (t *guardedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// LimitBody wraps a response body so that reading more than n bytes fails
// with ErrResponseTooLarge instead of truncating silently. NewClient applies
// it to every response; use it for bodies obtained elsewhere.
func LimitBody(body io.ReadCloser, n int64) io.ReadCloser {
	return &limitedBody{rc: body, remaining: n}
}

type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
	exceeded  bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.exceeded {
		return 0, ErrResponseTooLarge
	}
	if b.remaining <= 0 {
		// A body of exactly the limit is fine: probe for one more byte.
		var probe [1]byte
		for {
			n, err := b.rc.Read(probe[:])
			if n > 0 {
				b.exceeded = true
				return 0, ErrResponseTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
