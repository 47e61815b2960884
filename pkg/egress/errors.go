// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"errors"
	"fmt"
	"net/netip"
)

// DeniedError reports a destination the policy refuses. Every refusal made by
// this package (URL checks, resolved addresses, redirects, connect-time
// checks) is a *DeniedError, also when wrapped by net/http's *url.Error or by
// the go-git and AWS SDK clients; test with IsDenied or errors.As.
type DeniedError struct {
	// URL is the refused request URL, when the refusal concerns a URL.
	URL string
	// Host is the host name that was resolved, when Addr came from DNS.
	Host string
	// Addr is the refused address; the zero Addr for URL-level refusals.
	Addr netip.Addr
	// Reason says why, in the words the admission policy uses.
	Reason string
}

func (e *DeniedError) Error() string {
	switch {
	case e.Addr.IsValid() && e.Host != "":
		return fmt.Sprintf("egress: refusing to connect to %s (an address of %q): it is %s", e.Addr, e.Host, e.Reason)
	case e.Addr.IsValid():
		return fmt.Sprintf("egress: refusing to connect to %s: it is %s", e.Addr, e.Reason)
	case e.URL != "":
		return fmt.Sprintf("egress: refusing to fetch %q: %s", e.URL, e.Reason)
	default:
		return "egress: refused: " + e.Reason
	}
}

// IsDenied reports whether err, or an error it wraps, is a *DeniedError.
func IsDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}

// ErrResponseTooLarge is returned while reading a response body that exceeds
// ClientOptions.MaxResponseBytes, or by the round trip itself when the
// declared Content-Length already does.
var ErrResponseTooLarge = errors.New("egress: response body exceeds the size limit")

// ErrTooManyRedirects is returned (wrapped) when a response would need more
// redirects than ClientOptions.MaxRedirects allows.
var ErrTooManyRedirects = errors.New("egress: too many redirects")
