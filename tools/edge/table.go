package main

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// table is what the proxy serves, compiled from the cluster's objects (compile.go)
// and swapped whole: one entry per socket, "ip:port".
type table struct {
	sockets map[string]*socket
}

type socket struct {
	ip    string
	port  int32
	https bool
	certs []cert // HTTPS: by SNI, most specific first
	hosts []*vhost
	fallback *rule // an Ingress defaultBackend: where nothing else matches
}

type cert struct {
	host string // pattern, "" for any
	cert *tls.Certificate
}

// vhost: the rules of every route attached to one listener under one
// effective hostname (listener ∩ route hostnames).
type vhost struct {
	listenerHost string
	host         string
	singleLabel  bool // Ingress wildcards match one label
	rules        []*rule
	listenerPort int32
	https        bool
}

type rule struct {
	match     match
	filters   filters
	backends  []backend
	timeout   time.Duration // 0: none
	created   time.Time     // of the route: older routes win ties
	routeKey  string        // namespace/name: then alphabetical order
	index     int           // rule, then match index within the route
	routeName string        // for logs: "HTTPRoute ns/name" or "Ingress ns/name"
}

type match struct {
	pathType string // "Exact", "PathPrefix", "RegularExpression"
	path     string
	pathRE   *regexp.Regexp
	method   string
	headers  []valueMatch
	query    []valueMatch
}

type valueMatch struct {
	name  string
	value string
	re    *regexp.Regexp
}

type filters struct {
	requestHeaders  *headerEdit
	responseHeaders *headerEdit
	redirect        *redirect
	rewrite         *rewrite
	invalid         string // an unsupported filter: the rule answers 500
}

type headerEdit struct {
	set    [][2]string
	add    [][2]string
	remove []string
}

type redirect struct {
	scheme     string
	hostname   string
	port       int32
	statusCode int
	path       *pathModifier
}

type rewrite struct {
	hostname string
	path     *pathModifier
}

type pathModifier struct {
	fullPath    *string
	prefixMatch *string
}

// backend: a Service port, or an invalid reference that answers 500 for its share.
type backend struct {
	weight    int32
	namespace string
	service   string
	port      int32
	portName  string // the EndpointSlice port carries the Service port's name
	protocol  string // appProtocol of the Service port, e.g. "kubernetes.io/h2c"
	invalid   string
	filters   filters // the backendRef's own header filters
}

// sortHosts orders vhosts so that the first that matches a request is the one
// Gateway API's precedence picks: the listener's hostname, then the route's.
func sortHosts(hosts []*vhost) {
	sort.SliceStable(hosts, func(i, j int) bool {
		a, b := hosts[i], hosts[j]
		if sa, sb := specificity(a.listenerHost), specificity(b.listenerHost); sa != sb {
			return sa > sb
		}
		return specificity(a.host) > specificity(b.host)
	})
}

// sortRules: Gateway API's match precedence (and Ingress's: exact, then longest path).
func sortRules(rules []*rule) {
	rank := func(m match) (int, int) {
		switch m.pathType {
		case "Exact":
			return 2, len(m.path)
		case "PathPrefix":
			return 1, len(strings.TrimSuffix(m.path, "/"))
		}
		return 0, len(m.path)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		ta, la := rank(a.match)
		tb, lb := rank(b.match)
		switch {
		case ta != tb:
			return ta > tb
		case la != lb:
			return la > lb
		case (a.match.method != "") != (b.match.method != ""):
			return a.match.method != ""
		case len(a.match.headers) != len(b.match.headers):
			return len(a.match.headers) > len(b.match.headers)
		case len(a.match.query) != len(b.match.query):
			return len(a.match.query) > len(b.match.query)
		case !a.created.Equal(b.created):
			return a.created.Before(b.created)
		case a.routeKey != b.routeKey:
			return a.routeKey < b.routeKey
		}
		return a.index < b.index
	})
}

// pick: the vhost and rule a request goes to, nil when none (404).
func (s *socket) pick(r *http.Request) (*vhost, *rule) {
	host := requestHost(r.Host)
	for _, v := range s.hosts {
		if !hostMatches(v.listenerHost, host, v.singleLabel) || !hostMatches(v.host, host, v.singleLabel) {
			continue
		}
		for _, ru := range v.rules {
			if ru.match.matches(r) {
				return v, ru
			}
		}
		return v, nil
	}
	return nil, nil
}

func (m match) matches(r *http.Request) bool {
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	switch m.pathType {
	case "Exact":
		if p != m.path {
			return false
		}
	case "PathPrefix":
		prefix := strings.TrimSuffix(m.path, "/")
		if prefix != "" && p != prefix && !strings.HasPrefix(p, prefix+"/") {
			return false
		}
	case "RegularExpression":
		if m.pathRE == nil || !m.pathRE.MatchString(p) {
			return false
		}
	}
	if m.method != "" && r.Method != m.method {
		return false
	}
	for _, h := range m.headers {
		values, ok := r.Header[http.CanonicalHeaderKey(h.name)]
		if !ok || !h.matches(strings.Join(values, ",")) {
			return false
		}
	}
	if len(m.query) > 0 {
		q := r.URL.Query()
		for _, qm := range m.query {
			values, ok := q[qm.name]
			if !ok || !qm.matches(values[0]) {
				return false
			}
		}
	}
	return true
}

func (v valueMatch) matches(s string) bool {
	if v.re != nil {
		return v.re.MatchString(s)
	}
	return s == v.value
}

// replacePrefix: Gateway API's ReplacePrefixMatch, element-wise.
func replacePrefix(path, prefix, with string) string {
	prefix = strings.TrimSuffix(prefix, "/")
	rest := strings.TrimPrefix(path, prefix)
	if with == "/" || with == "" {
		if rest == "" {
			return "/"
		}
		return rest
	}
	with = strings.TrimSuffix(with, "/")
	if rest == "" || rest == "/" {
		if rest == "/" {
			return with + "/"
		}
		return with
	}
	return with + rest
}

func (p *pathModifier) apply(u *url.URL, m match) string {
	switch {
	case p == nil:
		return u.Path
	case p.fullPath != nil:
		return *p.fullPath
	case p.prefixMatch != nil && m.pathType == "PathPrefix":
		return replacePrefix(u.Path, m.path, *p.prefixMatch)
	}
	return u.Path
}
