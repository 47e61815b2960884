// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package s3client builds AWS SDK for Go v2 S3 clients whose HTTP traffic
// goes through an egress-guarded *http.Client (egress.NewClient).
package s3client

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
)

// New returns an S3 client for region that sends every request through c
// and signs with creds (nil sends unsigned, anonymous requests).
//
// It is built from s3.Options, not config.LoadDefaultConfig, so no
// environment variable (AWS_ENDPOINT_URL_S3, proxies), shared config file or
// instance-metadata lookup can add an endpoint or credentials: objects are
// fetched from AWS's own regional endpoints with virtual-hosted addressing,
// never from a custom endpoint, ARN access point or multi-region access
// point. Validate the function with egress.Policy.ValidateFunction first;
// it refuses malformed regions and buckets and endpoint attributes.
func New(c *http.Client, region string, creds aws.CredentialsProvider) *s3.Client {
	return s3.New(s3.Options{Region: region, Credentials: creds}, WithHTTPClient(c))
}

// WithHTTPClient is an s3 option (for s3.New or s3.NewFromConfig) that routes
// requests through c, pins AWS's endpoint rules, and does not retry requests
// the egress policy refused (a refusal will not change on retry).
func WithHTTPClient(c *http.Client) func(*s3.Options) {
	return func(o *s3.Options) {
		o.HTTPClient = c
		o.BaseEndpoint = nil
		//nolint:staticcheck // clearing the deprecated resolver is what keeps a custom one out.
		o.EndpointResolver = nil
		o.EndpointResolverV2 = s3.NewDefaultEndpointResolverV2()
		o.UsePathStyle = false
		o.UseARNRegion = false
		o.DisableMultiRegionAccessPoints = true
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(notDenied)}, so.Retryables...)
		})
	}
}

func notDenied(err error) aws.Ternary {
	if egress.IsDenied(err) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}
