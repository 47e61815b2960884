// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package egress decides which build sources a NuclioFunction may name and
// enforces the decision when the sources are fetched. It is the Go twin of
// the ValidatingAdmissionPolicy in artifacts/policies/build-sources.yaml:
// the same rules, the same parameters (the policy's ConfigMap data) and the
// same messages, checked against one corpus (test/testdata/ssrf) by
// test/policy. CEL sees only strings; this package also sees DNS answers,
// redirects and the addresses actually dialled.
//
// # Rules
//
// A build source URL (spec.build.path) must be an absolute https URL (http
// only with allowPlainHTTP) without user information, backslashes, spaces,
// control or non-ASCII characters or percent-encoded hosts. Its host must be
// a canonical IP literal outside the special-purpose ranges (loopback, RFC
// 1918, CGNAT, link-local and cloud metadata, unique-local, unspecified,
// multicast, broadcast, documentation, benchmarking, reserved; IPv4-mapped
// literals; IPv6 forms embedding such IPv4 addresses) and outside
// deniedCIDRs, or a multi-label DNS name outside localhost, .local,
// .internal, .localdomain, .home.arpa, .svc, .cluster.local and
// deniedHostSuffixes; with an allowlist (allowedHosts), it must be on it.
// Hosts whose last label is numeric must be dotted-quad IPv4 (decimal, octal,
// hex and short forms are read differently by libc, curl and git). The rest
// of spec.build is checked for forbidden code-entry headers, custom S3
// endpoints, git option injection, Dockerfile injection, builder-local paths
// and builder flags outside the allowlist; see Policy.ValidateBuild.
//
// # Using it in the fetcher
//
//	policy, errs := egress.PolicyFromConfigMapData(configMap.Data) // same ConfigMap as the admission policy
//	if errs := policy.ValidateFunction(fn); len(errs) > 0 { /* refuse: errs.ToAggregate() */ }
//	u, ferr := policy.ValidateURL(path, field.NewPath("spec", "build", "path")) // request u, never the string
//	client := egress.NewClient(egress.NewGuard(policy, egress.GuardOptions{}), egress.ClientOptions{})
//	gitclient.Install(client)                    // go-git: guarded http(s), no file/git/ssh transports
//	s3 := s3client.New(client, region, creds)    // AWS SDK v2 S3 through the same client
//
// Every refusal is a *DeniedError (IsDenied), also when wrapped by net/http,
// go-git or the AWS SDK; ErrResponseTooLarge and ErrTooManyRedirects report
// the caps. The guard resolves names itself as absolute names, refuses a
// name if any answer is refused, dials the checked address (so rebinding
// between check and use cannot work), checks the address again just before
// connect(2), and the client ignores proxy environment variables.
//
// Run the fetcher with a NetworkPolicy that denies the cluster's private
// ranges as well: this package is a second line, not the only one.
package egress
