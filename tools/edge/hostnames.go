package main

import "strings"

// Hostname patterns as Gateway API and Ingress write them: "" (any host),
// "foo.example.com" (exact) or "*.example.com" (a wildcard).

// hostMatches: does request host h (lower case, no port) match pattern p?
// A Gateway API wildcard matches one or more labels; an Ingress wildcard
// exactly one (singleLabel).
func hostMatches(p, h string, singleLabel bool) bool {
	if p == "" {
		return true
	}
	if !strings.HasPrefix(p, "*.") {
		return p == h
	}
	suffix := p[1:] // ".example.com"
	if !strings.HasSuffix(h, suffix) || len(h) == len(suffix) {
		return false
	}
	return !singleLabel || !strings.Contains(h[:len(h)-len(suffix)], ".")
}

// specificity orders patterns: an exact name beats a wildcard, a longer one a
// shorter one, and any pattern beats "".
func specificity(p string) int {
	switch {
	case p == "":
		return 0
	case strings.HasPrefix(p, "*."):
		return 1000 + len(p)
	default:
		return 100000 + len(p)
	}
}

// intersect: the hostnames a route serves on a listener (Gateway API's
// hostname intersection), ok false when they have none in common.
func intersect(listener, route string) (string, bool) {
	switch {
	case listener == "":
		return route, true
	case route == "":
		return listener, true
	case listener == route:
		return route, true
	}
	lw, rw := strings.HasPrefix(listener, "*."), strings.HasPrefix(route, "*.")
	switch {
	case lw && !rw:
		return route, hostMatches(listener, route, false)
	case !lw && rw:
		return listener, hostMatches(route, listener, false)
	case lw && rw:
		if strings.HasSuffix(route, listener[1:]) {
			return route, true
		}
		if strings.HasSuffix(listener, route[1:]) {
			return listener, true
		}
	}
	return "", false
}

// requestHost: the Host header without its port, lower case.
func requestHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
