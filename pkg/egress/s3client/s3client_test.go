// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package s3client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/s3client"
)

const virtualHost = "my-bucket.s3.us-east-1.amazonaws.com"

// setup returns an S3 client whose bucket host resolves to answer; a
// loopback TLS server plays S3 when the guard lets the request through.
func setup(t *testing.T, answer netip.Addr) (*s3.Client, *egresstest.Resolver, *egresstest.Dialer, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Host != virtualHost || r.URL.Path != "/functions/fn.zip" {
			t.Errorf("S3 request for host %q path %q", r.Host, r.URL.Path)
		}
		io.WriteString(w, "archive bytes")
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	p, errs := egress.PolicyFromConfigMapData(map[string]string{egress.KeyAllowedCIDRs: egresstest.StandInCIDR})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{virtualHost: {{answer}}}}
	dialer := &egresstest.Dialer{T: t, Target: srv.Listener.Addr().String()}
	hc := egress.NewClient(egress.NewGuard(p, egress.GuardOptions{Resolver: resolver, Dialer: dialer}),
		egress.ClientOptions{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"}})
	return s3client.New(hc, "us-east-1", nil), resolver, dialer, &hits
}

func TestGetObjectThroughGuard(t *testing.T) {
	c, _, dialer, hits := setup(t, egresstest.StandIn)
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("my-bucket"), Key: aws.String("functions/fn.zip")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil || string(body) != "archive bytes" {
		t.Fatalf("body %q, %v", body, err)
	}
	if hits.Load() != 1 || len(dialer.Dialed()) != 1 {
		t.Fatalf("server hits %d, dials %v; want one of each", hits.Load(), dialer.Dialed())
	}
}

func TestRefusedBucketHostIsNotRetried(t *testing.T) {
	c, resolver, dialer, hits := setup(t, netip.MustParseAddr("169.254.169.254"))
	_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("my-bucket"), Key: aws.String("functions/fn.zip")})
	if !egress.IsDenied(err) {
		t.Fatalf("GetObject error = %v, want a policy refusal", err)
	}
	if n := resolver.Lookups(virtualHost); n != 1 {
		t.Fatalf("bucket host resolved %d times; a refusal must not be retried", n)
	}
	if len(dialer.Dialed()) != 0 || hits.Load() != 0 {
		t.Fatalf("dialled %v, server hits %d; want none", dialer.Dialed(), hits.Load())
	}
}

func TestCustomEndpointCannotBeSet(t *testing.T) {
	c, _, _, _ := setup(t, egresstest.StandIn)
	o := c.Options()
	if o.BaseEndpoint != nil || o.UsePathStyle || o.UseARNRegion || !o.DisableMultiRegionAccessPoints {
		t.Fatalf("options allow redirection: %+v", o)
	}
	// WithHTTPClient clears an endpoint set before it.
	o2 := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("https://10.0.0.5")}, s3client.WithHTTPClient(http.DefaultClient)).Options()
	if o2.BaseEndpoint != nil {
		t.Fatalf("BaseEndpoint survived: %q", *o2.BaseEndpoint)
	}
}
