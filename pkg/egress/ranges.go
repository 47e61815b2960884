// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"net/netip"
)

// addrRange is one refused range and the reason given to users, phrased to
// follow "host 10.0.0.1 is ...".
type addrRange struct {
	prefix netip.Prefix
	reason string
}

func r(cidr, reason string) addrRange {
	return addrRange{prefix: netip.MustParsePrefix(cidr), reason: reason}
}

// specialIPv4 and specialIPv6 are the built-in refused ranges, in the order
// the CEL policy lists them (variables.specialIPv4 / specialIPv6); the first
// match gives the reason. They are the entries of the IANA IPv4 and IPv6
// Special-Purpose Address Registries that are not globally reachable, plus
// multicast, the reserved 240.0.0.0/4 and the IPv6 forms that embed an IPv4
// address in a way this package does not decode (IPv4-compatible, SIIT,
// 6to4, Teredo): those are refused outright rather than decoded. NAT64
// (64:ff9b::/96) is decoded instead, because DNS64 resolvers hand it out for
// ordinary public hosts on IPv6-only clusters.
var (
	specialIPv4 = []addrRange{
		r("0.0.0.0/8", "unspecified (0.0.0.0/8 reaches the local host)"),
		r("10.0.0.0/8", "private (RFC 1918)"),
		r("100.64.0.0/10", "carrier-grade NAT shared space (100.64.0.0/10)"),
		r("127.0.0.0/8", "loopback"),
		r("169.254.0.0/16", "link-local (cloud metadata)"),
		r("172.16.0.0/12", "private (RFC 1918)"),
		r("192.0.0.0/24", "reserved for IETF protocol assignments (192.0.0.0/24)"),
		r("192.0.2.0/24", "reserved for documentation"),
		r("192.88.99.0/24", "a deprecated 6to4 relay anycast address"),
		r("192.168.0.0/16", "private (RFC 1918)"),
		r("198.18.0.0/15", "reserved for benchmarking (198.18.0.0/15)"),
		r("198.51.100.0/24", "reserved for documentation"),
		r("203.0.113.0/24", "reserved for documentation"),
		r("224.0.0.0/4", "multicast"),
		r("255.255.255.255/32", "broadcast"),
		r("240.0.0.0/4", "reserved (240.0.0.0/4)"),
	}
	specialIPv6 = []addrRange{
		r("::/128", "unspecified"),
		r("::1/128", "loopback"),
		r("::/96", "an IPv4-compatible IPv6 address (deprecated; it embeds an IPv4 address)"),
		r("::ffff:0:0:0/96", "an IPv4-translated (SIIT) address (it embeds an IPv4 address)"),
		r("64:ff9b:1::/48", "a local-use NAT64 address (64:ff9b:1::/48)"),
		r("100::/64", "a discard-only address (100::/64)"),
		r("2001::/32", "a Teredo address (it embeds an IPv4 address)"),
		r("2001:2::/48", "reserved for benchmarking"),
		r("2001:db8::/32", "reserved for documentation"),
		r("2002::/16", "a 6to4 address (it embeds an IPv4 address)"),
		r("3fff::/20", "reserved for documentation"),
		r("5f00::/16", "a segment-routing (SRv6) address"),
		r("fd00:ec2::254/128", "the AWS instance metadata service (IPv6)"),
		r("fc00::/7", "unique-local (fc00::/7)"),
		r("fe80::/10", "link-local (cloud metadata)"),
		r("fec0::/10", "site-local (deprecated)"),
		r("ff00::/8", "multicast"),
	}
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
)

const (
	reasonDeniedCIDR = "in a range this cluster denies (deniedCIDRs)"
	reasonNAT64      = "a NAT64 address (64:ff9b::/96) of an IPv4 address that is "
)

// CheckAddr reports whether the policy lets a connection reach a. The address
// is judged without its zone and, if it is IPv4-mapped IPv6, as the IPv4
// address it maps, because that is what the kernel connects to. It returns nil
// or a *DeniedError whose Reason completes "host <addr> is ...".
func (p *Policy) CheckAddr(a netip.Addr) error {
	if !a.IsValid() {
		return &DeniedError{Reason: "not a valid IP address"}
	}
	a = a.WithZone("").Unmap()
	if reason := p.addrReason(a); reason != "" {
		return &DeniedError{Addr: a, Reason: reason}
	}
	return nil
}

// addrReason returns why a (already unmapped and without zone) is refused, or
// "". The order of the checks is the order of the CEL variable deniedRanges:
// built-in IPv4, built-in IPv6, deniedCIDRs, then NAT64 forms of the IPv4
// entries of both.
func (p *Policy) addrReason(a netip.Addr) string {
	for _, pfx := range p.AllowedCIDRs {
		if pfx.Contains(a) {
			return ""
		}
	}
	for _, t := range [][]addrRange{specialIPv4, specialIPv6} {
		for _, e := range t {
			if e.prefix.Contains(a) {
				return e.reason
			}
		}
	}
	for _, pfx := range p.DeniedCIDRs {
		if pfx.Contains(a) {
			return reasonDeniedCIDR
		}
	}
	if nat64Prefix.Contains(a) {
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		for _, e := range specialIPv4 {
			if e.prefix.Contains(v4) {
				return reasonNAT64 + e.reason
			}
		}
		for _, pfx := range p.DeniedCIDRs {
			if pfx.Contains(v4) {
				return reasonNAT64 + reasonDeniedCIDR
			}
		}
	}
	return ""
}
