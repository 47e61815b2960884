// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package gitclient makes go-git clone and fetch through an egress-guarded
// *http.Client (egress.NewClient), so that git sources obey the same
// destination rules as archive downloads: every request URL, DNS answer and
// redirect is checked.
package gitclient

import (
	"net/http"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// NewTransport returns go-git's smart-HTTP transport speaking through c. It
// follows redirects only for the initial reference discovery, as git's
// http.followRedirects=initial does; c checks each hop regardless.
//
// Because c's Transport is not an *http.Transport, clone options that would
// rewrite it per endpoint (ProxyOptions, CABundle, InsecureSkipTLS,
// ClientCert) fail instead of bypassing the guard.
func NewTransport(c *http.Client) transport.Transport {
	return githttp.NewClientWithOptions(c, &githttp.ClientOptions{RedirectPolicy: githttp.FollowInitialRedirects})
}

// Install makes go-git use NewTransport(c) for http and https URLs and
// removes its file, git and ssh transports (git://, ssh://, scp-like
// "user@host:path" and local paths then fail with "unsupported scheme").
// go-git keeps transports in a process-wide table, so call Install once at
// start-up, before any clone; it is meant for the single-purpose fetcher.
func Install(c *http.Client) {
	t := NewTransport(c)
	client.InstallProtocol("https", t)
	client.InstallProtocol("http", t)
	for _, scheme := range []string{"file", "git", "ssh"} {
		client.InstallProtocol(scheme, nil)
	}
}
