// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

// TestBuildSourcePolicyCorpus is the third judge of the SSRF corpus (test/testdata/ssrf): every CREATE
// case with the shipped policy parameters goes through kubectl as a server-side dry-run, so the verdict
// is the real one — kube-apiserver proxying to nuclio-apiserver, whose admission chain evaluates the
// ValidatingAdmissionPolicy of artifacts/policies/build-sources.yaml. Dry-run stores nothing and no
// build source is ever fetched. Cases that need other parameters, another user's permissions or a
// stored old object are judged by test/policy and pkg/egress only.
//
// A case may be refused before the policy runs — by the decoder (a list where a string belongs), the
// server's own validation (an unknown code-entry type, a malformed image reference) or the masking
// webhook (control characters in a header value it is about to hide from the policy) — so any refusal
// counts if it names the field (decode errors name the struct field above a bad map key or index).
func TestBuildSourcePolicyCorpus(t *testing.T) {
	cases, err := egresstest.Load(egresstest.CorpusDir())
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	sem := make(chan struct{}, 4)
	t.Run("cases", func(t *testing.T) {
		for i := range cases {
			c := &cases[i]
			if len(c.Params) > 0 || c.IsUpdate() || !c.IsAuthorized() {
				continue
			}
			ran++
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				// The corpus shows credentials as the "$ref:" tokens the policy sees after masking; a
				// client sends plaintext, which the masking webhook turns into those tokens.
				obj, err := json.Marshal(unmask(c.Function("team-a")))
				if err != nil {
					t.Fatal(err)
				}
				_, errOut, err := kubectl(t, "alice", obj, "create", "--dry-run=server", "-f", "-")
				switch {
				case c.Denied() && err == nil:
					t.Errorf("row %s: admitted, want denied at %s", c.Row, c.Field)
				case c.Denied() && !namesField(errOut, c.Field):
					t.Errorf("row %s: denied without naming %s:\n%s", c.Row, c.Field, errOut)
				case !c.Denied() && err != nil:
					t.Errorf("row %s: refused, want admitted:\n%s", c.Row, errOut)
				}
			})
		}
	})
	if ran < 150 {
		t.Errorf("only %d corpus cases ran end to end, want at least 150", ran)
	}
}

// namesField reports whether an error names path. Go's JSON decoder names the struct field a bad value
// belongs to, not the map key or list index below it, so a decode error may name an ancestor of path,
// down to the spec.build.<field> level.
func namesField(errOut, path string) bool {
	if strings.Contains(errOut, path) {
		return true
	}
	if !strings.Contains(errOut, "cannot unmarshal") {
		return false
	}
	for strings.Count(path, ".") >= 2 {
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return false
		}
		path = path[:i]
		if strings.Count(path, ".") >= 2 && strings.Contains(errOut, path) {
			return true
		}
	}
	return false
}

// unmask replaces "$ref:" tokens with plaintext, recursively.
func unmask(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			t[k] = unmask(e)
		}
	case []interface{}:
		for i, e := range t {
			t[i] = unmask(e)
		}
	case string:
		if strings.HasPrefix(t, "$ref:") {
			return "e2e-plaintext-credential"
		}
	}
	return v
}
