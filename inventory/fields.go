package inventory

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
// to find the character. Only ASCII is allowed: a look-alike such as the
// Cyrillic 'о' in "dоcker01", or an invisible one such as U+200B, would
// make a name that reads like another and is not.
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
			return fmt.Sprintf("must not contain whitespace (here %s)", runeCode(r))
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control characters (here %s)", runeCode(r))
		case strings.ContainsRune(shellMeta, r):
			return fmt.Sprintf("must not contain %q (quotes and shell metacharacters are refused)", r)
		case r > unicode.MaxASCII:
			return fmt.Sprintf("must be plain ASCII, but contains %s: retype it (look-alike and invisible characters are refused)", runeName(r))
		}
	}
	return ""
}

// shellMeta is what no name may hold: quotes, and what a shell reads as syntax.
const shellMeta = "\"'`$;|&<>\\(){}*?!#[]~"

// runeName shows a character so that it can be found, also when it is
// invisible or looks like another: 'о' (U+043E).
func runeName(r rune) string {
	if r == utf8.RuneError {
		return "an invalid character (U+FFFD)"
	}
	return fmt.Sprintf("%q (U+%04X)", r, r)
}

// runeCode is runeName for use inside parentheses: '\n', U+000A.
func runeCode(r rune) string {
	return fmt.Sprintf("%q, U+%04X", r, r)
}

// tooLong completes a pattern's message for a value over its length limit.
func tooLong(s string, limit int, what string) string {
	if len(s) > limit {
		return fmt.Sprintf("is %d characters; %s at most %d", len(s), what, limit)
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
	if msg := firstProblem(unsafeText(s), tooLong(s, 63, "a host name is")); msg != "" || hostNameRe.MatchString(s) {
		return msg
	}
	return "not a valid host name: use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit"
}

// checkDockerName is for network names: docker's own pattern, which also
// allows one character, with mvorch's limit on the length.
func checkDockerName(s string) string {
	return dockerName(s, 1)
}

// checkContainerName: docker refuses a container name of one character
// ("Invalid container name (c)"): its pattern wants at least two.
func checkContainerName(s string) string {
	return dockerName(s, 2)
}

func dockerName(s string, minLen int) string {
	msg := firstProblem(unsafeText(s), tooLong(s, maxDockerName, "mvorch allows docker names of"))
	switch {
	case msg != "":
		return msg
	case !dockerNameRe.MatchString(s):
		return fmt.Sprintf("not a valid docker name: use %d to %d letters, digits, '_', '.' or '-', starting with a letter or digit", minLen, maxDockerName)
	case len(s) < minLen:
		return fmt.Sprintf("docker refuses container names of one character; use %d to %d letters, digits, '_', '.' or '-', starting with a letter or digit", minLen, maxDockerName)
	}
	return ""
}

// maxDockerName is mvorch's limit on network and container names; docker
// sets none, but a name this long is a mistake.
const maxDockerName = 128

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
	if inner, ok := strings.CutPrefix(s, "["); ok && strings.HasSuffix(inner, "]") {
		if _, err := netip.ParseAddr(strings.TrimSuffix(inner, "]")); err == nil {
			return "IPv6 addresses are not supported; use an IPv4 address or a host name"
		}
	}
	if msg := unsafeText(s); msg != "" {
		return msg
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return "IPv6 addresses are not supported; use an IPv4 address or a host name"
		}
		if what := specialAddr(netip.PrefixFrom(a, 32)); what != "" && !a.IsLoopback() {
			return fmt.Sprintf("is in %s; ssh needs the address of the host itself", what)
		}
		return ""
	}
	if user, host, ok := strings.Cut(s, "@"); ok {
		return fmt.Sprintf("holds a user: write address = %q and user = %q", host, user)
	}
	if host, port, ok := strings.Cut(s, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		return fmt.Sprintf("holds a port: write address = %q and port = %s", host, port)
	}
	if strings.Trim(s, "0123456789.") == "" {
		return "not a valid IPv4 address (four numbers 0-255 without leading zeros, like 192.168.1.11)"
	}
	if len(s) > 253 || !dnsNameRe.MatchString(s) {
		return "must be an IPv4 address or a host name (letters, digits, '-', '_' and '.'; each part between dots starts and ends with a letter, digit or '_')"
	}
	return ""
}

func checkUser(s string) string {
	if msg := firstProblem(unsafeText(s), tooLong(s, 32, "a user name is")); msg != "" || userNameRe.MatchString(s) {
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

// checkPath is for local files the transport opens (identity_file,
// known_hosts): no shell sees them, so spaces and any letters are fine; '~'
// is expanded there, but environment variables are not, so '$' gets its
// own hint. Quotes, backslashes, shell metacharacters and control
// characters are refused all the same: in a path they are a mistake.
func checkPath(s string) string {
	if strings.Contains(s, "$") {
		return "environment variables are not expanded; write the path out, or start it with ~/ for your home directory"
	}
	if s == "" {
		return "must not be empty; leave the key out to use the ssh default"
	}
	for _, r := range s {
		if unicode.IsControl(r) || strings.ContainsRune("\"'`;|&<>\\", r) || r == utf8.RuneError {
			return fmt.Sprintf("must not contain %s; a path may hold spaces, but no quotes, backslashes, ;|&<> or control characters", runeName(r))
		}
	}
	if strings.HasPrefix(s, "-") {
		return "must not start with '-' (it would read as a command-line option); write ./" + s + " for a file of that name"
	}
	return ""
}

func checkImageRef(s string) string {
	if strings.HasPrefix(s, "[") && strings.Contains(s, "]:") {
		return "IPv6 registry addresses are not supported; use the registry's IPv4 address or host name"
	}
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
	if msg := unsafeText(s); err != nil && msg != "" {
		return netip.Addr{}, msg
	}
	switch {
	case err != nil && strings.Contains(s, "/"):
		return netip.Addr{}, "must be an address without a prefix length, like 192.168.10.2"
	case err != nil:
		return netip.Addr{}, "not a valid IPv4 address (four numbers 0-255 without leading zeros, like 192.168.10.2)"
	case a.Is4In6():
		return netip.Addr{}, fmt.Sprintf("IPv6 is not supported; write the IPv4 address as %s", a.Unmap())
	case !a.Is4():
		return netip.Addr{}, "IPv6 is not supported; use an IPv4 address"
	}
	if what := specialAddr(netip.PrefixFrom(a, 32)); what != "" {
		return netip.Addr{}, fmt.Sprintf("is in %s, which no interface or container can use; pick an ordinary unicast address", what)
	}
	return a, ""
}

// parseIPv4Prefix parses ADDRESS/BITS; the address may have host bits set
// (a host's interface address) unless the caller says otherwise.
func parseIPv4Prefix(s string) (netip.Prefix, string) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, prefixSyntax(s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, "IPv6 is not supported; use an IPv4 address with prefix length, like 192.168.10.10/24"
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, "IPv6 is not supported; use an IPv4 address with prefix length"
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, fmt.Sprintf("a /%d subnet has no room for a gateway and hosts; use /30 or shorter", p.Bits())
	}
	if what := specialAddr(p); what != "" {
		return netip.Prefix{}, fmt.Sprintf("overlaps %s, which no interface or container can use; pick a subnet of ordinary unicast addresses", what)
	}
	return p, ""
}

// prefixSyntax says which half of ADDRESS/BITS is wrong.
func prefixSyntax(s string) string {
	if msg := unsafeText(s); msg != "" {
		return msg
	}
	addr, bits, found := strings.Cut(s, "/")
	a, msg := parseIPv4(addr)
	switch {
	case !found && msg == "":
		return fmt.Sprintf("missing the prefix length: write it as %s/24 (or the length of your subnet)", a)
	case msg != "" && strings.Contains(addr, ":"):
		return "IPv6 is not supported; use an IPv4 address with prefix length"
	case msg != "":
		return fmt.Sprintf("the address %q is %s; write ADDRESS/BITS, like 192.168.10.10/24", addr, strings.TrimPrefix(msg, "is "))
	case bits == "":
		return fmt.Sprintf("missing the prefix length after '/': write it as %s/24 (or the length of your subnet)", a)
	}
	return fmt.Sprintf("the prefix length %q is not a number 0..32; write ADDRESS/BITS, like %s/24", bits, a)
}

// specialRanges are IPv4 ranges that are never a LAN: not for a VLAN, a
// macvlan network, a gateway or a container. Loopback stays allowed as a
// host address (an ssh tunnel); everything else here is not.
var specialRanges = []struct {
	p    netip.Prefix
	name string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "0.0.0.0/8 (\"this network\")"},
	{netip.MustParsePrefix("127.0.0.0/8"), "127.0.0.0/8 (loopback)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "224.0.0.0/4 (multicast)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "240.0.0.0/4 (reserved, and the broadcast 255.255.255.255)"},
}

// specialAddr names the first special range p overlaps, or "".
func specialAddr(p netip.Prefix) string {
	for _, r := range specialRanges {
		if r.p.Overlaps(p) {
			return r.name
		}
	}
	return ""
}
