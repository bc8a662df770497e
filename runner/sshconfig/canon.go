package sshconfig

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// isAddr is ssh's is_addr: name parses as a numeric IPv4 or IPv6 address
// (with a zone). Addresses keep their case and are never canonicalised
// by name.
func isAddr(name string) bool {
	_, err := netip.ParseAddr(name)
	return err == nil
}

// isAddrFast is ssh's is_addr_fast: looks like an address, valid or not.
func isAddrFast(name string) bool {
	return strings.ContainsAny(name, "%:") || strings.Trim(name, "0123456789.") == ""
}

func lowerUnlessAddr(name string) string {
	if isAddr(name) {
		return name
	}
	return lowerASCII(name)
}

// resolveName looks a name up as ssh's resolve_host does, through the
// system's resolver; a variable so that tests need no DNS.
var resolveName = func(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	return err == nil && len(addrs) > 0
}

// canonicalize is ssh's resolve_canonicalize for host: an address is
// rewritten in its canonical numeric form; a name, when CanonicalizeHostname
// asks for it (and, for "yes", when the connection is direct), is tried with
// each CanonicalDomains suffix and replaced by the first that resolves.
// CNAME following (CanonicalizePermittedCNAMEs) is not done.
func (r *resolution) canonicalize(host string, wasAddr bool) (string, error) {
	o := &r.o
	if wasAddr {
		a, _ := netip.ParseAddr(host)
		if s := a.String(); !strings.EqualFold(s, host) {
			return s, nil
		}
		return host, nil
	}
	if isAddrFast(host) || o.canon == canonNo {
		return host, nil
	}
	direct := (!o.set[kwProxyCommand] || strings.EqualFold(o.proxyCommand, "none")) && !o.set[kwProxyJump]
	if !direct && o.canon != canonAlways {
		return host, nil
	}
	if strings.HasSuffix(host, ".") {
		if resolveName(host) {
			return strings.TrimSuffix(host, "."), nil
		}
		return r.notFound(host)
	}
	maxDots := 1
	if o.set[kwCanonicalizeMaxDots] {
		maxDots = o.maxDots
	}
	if strings.Count(host, ".") > maxDots {
		return host, nil
	}
	for _, d := range o.domains {
		if strings.EqualFold(d, "none") {
			break
		}
		if full := host + "." + d; resolveName(full + ".") {
			return full, nil
		}
	}
	return r.notFound(host)
}

func (r *resolution) notFound(host string) (string, error) {
	if r.o.set[kwCanonicalizeFallbackLocal] && !r.o.fallbackLocal {
		return "", fmt.Errorf("could not resolve host %q (CanonicalizeFallbackLocal no)", host)
	}
	return host, nil
}
