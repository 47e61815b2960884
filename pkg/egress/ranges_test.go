// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// mustRefuse is an oracle for the ranges the build-source rules promise to
// refuse, written from the RFCs with net/netip's classifiers and without the
// package's table: loopback, RFC 1918, CGNAT, link-local, unique-local (which
// holds AWS's fd00:ec2::254), unspecified and "this network", multicast,
// broadcast, and IPv6 forms that carry any such IPv4 address (mapped,
// compatible, NAT64, 6to4, Teredo client and server).
func mustRefuse(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return refuseIPv4(a)
	}
	if a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsPrivate() {
		return true
	}
	b := a.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte(x)) }
	switch {
	case [12]byte(b[:12]) == [12]byte{}: // IPv4-compatible ::a.b.c.d
		return refuseIPv4(v4(b[12:]))
	case [12]byte(b[:12]) == [12]byte{0, 0x64, 0xff, 0x9b}: // NAT64 64:ff9b::a.b.c.d
		return refuseIPv4(v4(b[12:]))
	case b[0] == 0x20 && b[1] == 0x02: // 6to4 2002:AABB:CCDD::
		return refuseIPv4(v4(b[2:6]))
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0: // Teredo: server, then obfuscated client
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return refuseIPv4(v4(b[4:8])) || refuseIPv4(netip.AddrFrom4(client))
	}
	return false
}

func refuseIPv4(a netip.Addr) bool {
	b := a.As4()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() ||
		b[0] == 0 || // "this network"
		(b[0] == 100 && b[1]&0xc0 == 64) || // CGNAT 100.64.0.0/10
		b == [4]byte{255, 255, 255, 255}
}

func TestCheckAddr(t *testing.T) {
	p := DefaultPolicy()
	for addr, reason := range map[string]string{
		"169.254.169.254":        "link-local (cloud metadata)",
		"127.0.0.1":              "loopback",
		"10.1.2.3":               "private (RFC 1918)",
		"100.100.100.200":        "carrier-grade NAT",
		"0.0.0.0":                "unspecified",
		"255.255.255.255":        "broadcast",
		"::ffff:169.254.169.254": "link-local (cloud metadata)", // judged unmapped
		"::1":                    "loopback",
		"fe80::1%eth0":           "link-local",
		"fd00:ec2::254":          "AWS instance metadata",
		"64:ff9b::a9fe:a9fe":     "NAT64 address (64:ff9b::/96) of an IPv4 address that is link-local",
		"2002:a9fe:a9fe::":       "6to4",
		"::a9fe:a9fe":            "IPv4-compatible",
	} {
		err := p.CheckAddr(netip.MustParseAddr(addr))
		var d *DeniedError
		if !errors.As(err, &d) || !strings.Contains(d.Reason, reason) {
			t.Errorf("CheckAddr(%s) = %v, want a refusal mentioning %q", addr, err, reason)
		}
	}
	for _, addr := range []string{"8.8.8.8", "::ffff:8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "172.32.0.1"} {
		if err := p.CheckAddr(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", addr, err)
		}
	}
	if err := p.CheckAddr(netip.Addr{}); err == nil {
		t.Error("the zero Addr must be refused")
	}

	withParams, errs := PolicyFromConfigMapData(map[string]string{
		KeyDeniedCIDRs: "34.118.224.0/20", KeyAllowedCIDRs: "10.20.30.40/32",
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	for addr, refused := range map[string]bool{
		"34.118.224.10":       true,
		"64:ff9b::2276:e00a":  true, // NAT64 of 34.118.224.10
		"10.20.30.40":         false,
		"::ffff:10.20.30.40":  false,
		"10.20.30.41":         true,
		"64:ff9b::a14:1e28":   true, // the exception is for the address itself
		"34.118.240.1":        false,
		"2001:4860:4860::888": false,
	} {
		if got := withParams.CheckAddr(netip.MustParseAddr(addr)) != nil; got != refused {
			t.Errorf("with parameters, CheckAddr(%s) refused=%v, want %v", addr, got, refused)
		}
	}
}

// FuzzCheckAddr: the guard never admits an address in a range the rules
// promise to refuse. Input is 4 or 16 address bytes.
func FuzzCheckAddr(f *testing.F) {
	for _, s := range []string{
		"169.254.169.254", "127.0.0.1", "100.64.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:a9fe:a9fe::",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", "fd00:ec2::254", "8.8.8.8", "2606:4700:4700::1111",
	} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	p := DefaultPolicy()
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		if p.CheckAddr(a) == nil && mustRefuse(a) {
			t.Fatalf("CheckAddr admitted %s, which is in a refused range", a)
		}
	})
}
