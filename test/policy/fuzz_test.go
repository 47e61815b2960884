// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package policy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

// FuzzCELAgreesWithGo: on any build path, header name, builder flag and
// build-argument value, the CEL policy and pkg/egress reach the same verdict,
// and every CEL message is one of the Go errors word for word. Seeds: every
// corpus URL plus testdata/fuzz/FuzzCELAgreesWithGo.
func FuzzCELAgreesWithGo(f *testing.F) {
	b, ev, all := setup(f)
	for _, c := range all {
		if c.URL != "" {
			f.Add(c.URL, "", "", "")
		}
	}
	f.Add("https://example.com/fn.zip", "X-Forwarded-For", "--destination=x", "a\nb")
	goPolicy, errs := egress.PolicyFromConfigMapData(b.Params.Data)
	if len(errs) != 0 {
		f.Fatal(errs)
	}
	u := &user.DefaultInfo{Name: "alice"}

	f.Fuzz(func(t *testing.T, path, header, flag, arg string) {
		// Objects reach admission decoded from JSON, hence valid UTF-8.
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		c := egresstest.Case{Name: "fuzz", URL: valid(path)}
		if header != "" {
			c.Headers = map[string]interface{}{valid(header): "value"}
		}
		if flag != "" {
			c.Flags = []interface{}{valid(flag)}
		}
		if arg != "" {
			c.Args = map[string]interface{}{"ARG": valid(arg)}
		}
		obj := c.Function(testNamespace)

		d, err := ev.Evaluate(context.Background(), Request{
			Operation: admission.Create, Object: obj, Params: b.Params, User: u,
			Authorizer: buildFromURLAuthorizer(t, u, true),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.EvalErrors) > 0 {
			t.Fatalf("CEL failed on %+v: %q", c, d.EvalErrors)
		}
		goMsgs := goMessages(goPolicy.ValidateFunction(obj))
		if d.Denied != (len(goMsgs) > 0) {
			t.Fatalf("disagreement on %+v: CEL %q, Go %q", c, d.Messages, goMsgs)
		}
		for _, m := range d.Messages {
			if !slices.Contains(goMsgs, m) {
				t.Fatalf("CEL message %q is not among the Go errors %q for %+v", m, goMsgs, c)
			}
		}
	})
}
