package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Checks of one value on its own. Each returns "" when the value is fine, or
// a message saying what is wrong and what is allowed. These values end up in
// remote commands, file names and unit files, so the patterns are strict:
// nothing may start with '-' (it would read as an option) or carry quotes,
// whitespace or shell metacharacters.

var (
	hostNameRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	dockerNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	nicNameRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	// A DNS name, or an ssh_config alias, which may also hold '_'.
	dnsNameRe  = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$`)
	userNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)
	jumpHopRe  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*@)?[A-Za-z0-9_][A-Za-z0-9_.-]*(:[0-9]{1,5})?$`)
)

// maxIfName is the longest Linux interface name: IFNAMSIZ (16) less the NUL.
const maxIfName = 15

// The docker reference grammar (distribution/reference), without the
// bracketed IPv6 domain form, which mvorch does not support anywhere.
var imageRefRe = func() *regexp.Regexp {
	const (
		alnum     = `[a-z0-9]+`
		separator = `(?:[._]|__|-+)`
		component = alnum + `(?:` + separator + alnum + `)*`
		label     = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		domain    = label + `(?:\.` + label + `)*(?::[0-9]+)?`
		name      = `(?:` + domain + `/)?` + component + `(?:/` + component + `)*`
		tag       = `[\w][\w.-]{0,127}`
		digest    = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^(` + name + `)(?::` + tag + `)?(?:@` + digest + `)?$`)
}()

// maxImageName is docker's limit on the name part of a reference.
const maxImageName = 255

// unsafeText rejects what no value may hold, with a message precise enough
// to find the character.
func unsafeText(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.HasPrefix(s, "-"):
		return "must not start with '-' (it would read as a command-line option)"
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return "must not contain whitespace"
		case unicode.IsControl(r):
			return "must not contain control characters"
		case strings.ContainsRune("\"'`$;|&<>\\(){}*?!#", r):
			return fmt.Sprintf("must not contain %q (quotes and shell metacharacters are refused)", r)
		}
	}
	return ""
}

func firstProblem(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

func checkHostName(s string) string {
	if msg := unsafeText(s); msg != "" || hostNameRe.MatchString(s) {
		return msg
	}
	return "not a valid host name: use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
}

func checkDockerName(s string) string {
	if msg := unsafeText(s); msg != "" || dockerNameRe.MatchString(s) {
		return msg
	}
	return "not a valid docker name: use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit"
}

// checkNetworkName also refuses the networks every docker daemon already has.
func checkNetworkName(s string) string {
	switch s {
	case "bridge", "host", "none":
		return fmt.Sprintf("%q is one of docker's own networks; pick another name", s)
	}
	return checkDockerName(s)
}

func checkParent(s string) string {
	switch msg := unsafeText(s); {
	case msg != "":
		return msg
	case len(s) > maxIfName:
		return fmt.Sprintf("is %d characters; Linux NIC names are at most %d (IFNAMSIZ)", len(s), maxIfName)
	case !nicNameRe.MatchString(s):
		return "not a valid NIC name: use letters, digits, '_', '.' or '-', not starting with '.' or '-'"
	}
	return ""
}

// checkAddress accepts what mvorch can both ssh to and write into
// --insecure-registry: an IPv4 address or a host name.
func checkAddress(s string) string {
	if msg := unsafeText(s); msg != "" {
		return msg
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return "IPv6 addresses are not supported; use an IPv4 address or a host name"
		}
		return ""
	}
	if strings.Trim(s, "0123456789.") == "" {
		return "not a valid IPv4 address (four numbers 0-255 without leading zeros, like 192.168.1.11)"
	}
	if len(s) > 253 || !dnsNameRe.MatchString(s) {
		return "must be an IPv4 address or a host name (letters, digits, '-', '_' and '.')"
	}
	return ""
}

func checkUser(s string) string {
	if msg := unsafeText(s); msg != "" || userNameRe.MatchString(s) {
		return msg
	}
	return "not a valid user name: use up to 32 letters, digits, '_', '.' or '-', starting with a letter or '_'"
}

// checkJump accepts ssh -J syntax: [user@]host[:port], comma-separated.
func checkJump(s string) string {
	if msg := unsafeText(s); msg != "" {
		return msg
	}
	for hop := range strings.SplitSeq(s, ",") {
		if !jumpHopRe.MatchString(hop) {
			return fmt.Sprintf("hop %q is not [user@]host[:port]; separate several hops with ','", hop)
		}
	}
	return ""
}

// checkPath is for local files the transport opens; '~' is expanded there,
// but environment variables are not, so '$' gets its own hint.
func checkPath(s string) string {
	if strings.Contains(s, "$") {
		return "environment variables are not expanded; write the path out, or start it with ~/ for your home directory"
	}
	if s == "" {
		return "must not be empty; leave the key out to use the ssh default"
	}
	for _, r := range s {
		if unicode.IsControl(r) || strings.ContainsRune("\"'`;|&<>\\", r) {
			return fmt.Sprintf("must not contain %q", r)
		}
	}
	if strings.HasPrefix(s, "-") {
		return "must not start with '-' (it would read as a command-line option)"
	}
	return ""
}

func checkImageRef(s string) string {
	if msg := unsafeText(s); msg != "" {
		return msg
	}
	m := imageRefRe.FindStringSubmatch(s)
	switch {
	case m == nil && imageRefRe.MatchString(strings.ToLower(s)):
		return "repository names must be lowercase (only a registry host may have capitals)"
	case m == nil:
		return "not a valid image reference: write [REGISTRY[:PORT]/]NAME[:TAG][@DIGEST], like busybox:latest or 192.168.1.11:5000/busybox:v1"
	case len(m[1]) > maxImageName:
		return fmt.Sprintf("the image name is %d characters; docker allows at most %d", len(m[1]), maxImageName)
	}
	return ""
}

// checkImageTag checks an [[image]] tag: it is pushed under the registry's
// address, so it must not name a registry of its own, and a digest cannot
// be pushed to.
func checkImageTag(s string) string {
	if msg := checkImageRef(s); msg != "" {
		return msg
	}
	if domain, rest := splitDomain(s); domain != "" {
		return fmt.Sprintf("a tag is pushed as <registry address>/<tag>, so it must not name a registry itself; write %q", rest)
	}
	if strings.Contains(s, "@") {
		return "a tag cannot carry a digest; write NAME[:TAG], like busybox:v1"
	}
	return ""
}

// splitDomain splits a reference the way docker does: the part before the
// first '/' is a registry only if it looks like a host (has '.' or ':', is
// localhost, or has capitals); otherwise it is a Docker Hub namespace.
func splitDomain(ref string) (domain, rest string) {
	first, rest, found := strings.Cut(ref, "/")
	if !found {
		return "", ref
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
		return first, rest
	}
	return "", ref
}

// oneOf checks an enumeration, listing what is allowed.
func oneOf(s string, allowed ...string) string {
	if slices.Contains(allowed, s) {
		return ""
	}
	return "must be one of " + quoteList(allowed)
}

func quoteList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(quoted, ", ")
}

// parseIPv4 parses an address the way a person writes it in an inventory.
func parseIPv4(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil && strings.Contains(s, "/"):
		return netip.Addr{}, "must be an address without a prefix length, like 192.168.10.2"
	case err != nil:
		return netip.Addr{}, "not a valid IPv4 address (four numbers 0-255 without leading zeros, like 192.168.10.2)"
	case !a.Is4():
		return netip.Addr{}, "IPv6 is not supported; use an IPv4 address"
	}
	return a, ""
}

// parseIPv4Prefix parses ADDRESS/BITS; the address may have host bits set
// (a host's interface address) unless the caller says otherwise.
func parseIPv4Prefix(s string) (netip.Prefix, string) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, msg := parseIPv4(s); msg == "" {
			return netip.Prefix{}, fmt.Sprintf("missing the prefix length: write it as %s/24 (or the length of your subnet)", a)
		}
		return netip.Prefix{}, "not a valid IPv4 address with prefix length, like 192.168.10.10/24"
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, "IPv6 is not supported; use an IPv4 address with prefix length"
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, fmt.Sprintf("a /%d subnet has no room for a gateway and hosts; use /30 or shorter", p.Bits())
	}
	return p, ""
}
