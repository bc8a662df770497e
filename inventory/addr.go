package inventory

import (
	"encoding/binary"
	"net/netip"
)

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	n := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], n)
	return netip.AddrFrom4(a)
}

// reservedIn names what a (inside p) is if no host may have it: "" when it is
// an ordinary host address.
func reservedIn(p netip.Prefix, a netip.Addr) string {
	switch a {
	case p.Masked().Addr():
		return "network address"
	case broadcast(p):
		return "broadcast address"
	}
	return ""
}

// freeAddr finds a host address in p that taken does not claim, searching
// upwards from near and then from the start of p, so that a suggestion sits
// next to the address the user wrote. The zero Addr when p is full.
func freeAddr(p netip.Prefix, near netip.Addr, taken func(netip.Addr) bool) netip.Addr {
	first, last := p.Masked().Addr().Next(), broadcast(p)
	if !p.Contains(near) || near.Less(first) {
		near = first
	}
	for _, start := range []netip.Addr{near, first} {
		for a := start; a.Less(last); a = a.Next() {
			if !taken(a) {
				return a
			}
		}
	}
	return netip.Addr{}
}
