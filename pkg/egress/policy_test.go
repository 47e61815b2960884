// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestPolicyFromConfigMapData(t *testing.T) {
	got, errs := PolicyFromConfigMapData(map[string]string{
		KeyAllowedSchemes:                " HTTPS ,\n",
		KeyAllowPlainHTTP:                " True ",
		KeyAllowedHosts:                  "GitHub.com., *.Example.COM\n.corp.example,*.",
		KeyDeniedHostSuffixes:            "*.Intranet.example, .corp.example., k8s.local",
		KeyDeniedCIDRs:                   "10.96.0.0/12\r\n fd00:10:96::/108 ,",
		KeyAllowedCIDRs:                  "",
		KeyAllowedCodeEntryTypes:         "sourceCode, archive",
		KeyAllowedBuildFlags:             "--verbosity,--snapshot-mode=redo",
		KeyRequireBuildFromURLPermission: "FALSE",
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	want := &Policy{
		AllowedSchemes:        []string{"https"},
		AllowPlainHTTP:        true,
		AllowedHosts:          []string{"github.com", ".example.com", ".corp.example"},
		DeniedHostSuffixes:    []string{"intranet.example", "corp.example", "k8s.local"},
		DeniedCIDRs:           []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("fd00:10:96::/108")},
		AllowedCodeEntryTypes: []string{"sourceCode", "archive"},
		AllowedBuildFlags:     []string{"--verbosity", "--snapshot-mode=redo"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := DefaultPolicy()
	if p.AllowPlainHTTP || p.RequireBuildFromURLPermission || len(p.AllowedHosts) != 0 || len(p.DeniedCIDRs) != 0 ||
		len(p.AllowedCIDRs) != 0 || !reflect.DeepEqual(p.AllowedSchemes, []string{"https", "http"}) ||
		len(p.AllowedCodeEntryTypes) != 6 || len(p.AllowedBuildFlags) == 0 {
		t.Fatalf("unexpected defaults %+v", p)
	}
	// A key present but empty is an empty list, not the default.
	empty, errs := PolicyFromConfigMapData(map[string]string{KeyAllowedCodeEntryTypes: "", KeyAllowedBuildFlags: ""})
	if len(errs) != 0 || len(empty.AllowedCodeEntryTypes) != 0 || len(empty.AllowedBuildFlags) != 0 {
		t.Fatalf("empty lists: %+v %v", empty, errs)
	}
}

func TestPolicyFromConfigMapDataErrors(t *testing.T) {
	for key, value := range map[string]string{
		KeyAllowedSchemes:                "https,ftp",
		KeyAllowPlainHTTP:                "yes",
		KeyRequireBuildFromURLPermission: "1",
		KeyDeniedCIDRs:                   "10.0.0.0/8,10.0.0.0/33",
		KeyAllowedCIDRs:                  "::ffff:10.0.0.0/104",
	} {
		_, errs := PolicyFromConfigMapData(map[string]string{key: value})
		if len(errs) != 1 || errs[0].Field != "data."+key {
			t.Errorf("%s=%q: errors %v, want one at data.%s", key, value, errs, key)
		}
	}
}
