package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync/atomic"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// proxy serves the current table; endpoints are read per request from the
// EndpointSlice cache so that a pod coming or going needs no recompile.
type proxy struct {
	current   atomic.Pointer[table]
	slices    func(namespace, service string) []*discoveryv1.EndpointSlice
	network   podNetwork
	transport *http.Transport
}

func newProxy(network podNetwork, slices func(string, string) []*discoveryv1.EndpointSlice) *proxy {
	p := &proxy{network: network, slices: slices}
	p.transport = &http.Transport{DialContext: network.dial, MaxIdleConnsPerHost: 16, ForceAttemptHTTP2: false}
	p.current.Store(&table{sockets: map[string]*socket{}})
	return p
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), code)
}

func (p *proxy) handler(sockKey string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := p.current.Load().sockets[sockKey]
		if s == nil {
			fail(w, http.StatusNotFound, "no listener here")
			return
		}
		_, ru := s.pick(r)
		if ru == nil && s.fallback != nil {
			ru = s.fallback
		}
		if ru == nil {
			fail(w, http.StatusNotFound, "no route for %s%s", r.Host, r.URL.Path)
			return
		}
		if ru.filters.invalid != "" {
			fail(w, http.StatusInternalServerError, "%s: %s", ru.routeName, ru.filters.invalid)
			return
		}
		if rd := ru.filters.redirect; rd != nil {
			http.Redirect(w, r, redirectURL(r, s, rd, ru.match), rd.statusCode)
			return
		}
		b := chooseBackend(ru.backends)
		switch {
		case b == nil:
			fail(w, http.StatusInternalServerError, "%s: no backend with a weight above 0", ru.routeName)
			return
		case b.invalid != "":
			fail(w, http.StatusInternalServerError, "%s: %s", ru.routeName, b.invalid)
			return
		case b.filters.invalid != "":
			fail(w, http.StatusInternalServerError, "%s: backendRef: %s", ru.routeName, b.filters.invalid)
			return
		}
		ep, err := p.endpoint(*b)
		if err != nil {
			fail(w, http.StatusServiceUnavailable, "%s: %v", ru.routeName, err)
			return
		}
		p.forward(w, r, ru, b, ep)
	})
}

func (p *proxy) forward(w http.ResponseWriter, r *http.Request, ru *rule, b *backend, ep string) {
	if ru.timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), ru.timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	rp := &httputil.ReverseProxy{
		Transport: p.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", ep
			pr.Out.Host = pr.In.Host
			if rw := ru.filters.rewrite; rw != nil {
				if rw.hostname != "" {
					pr.Out.Host = rw.hostname
				}
				pr.Out.URL.Path, pr.Out.URL.RawPath = rw.path.apply(pr.In.URL, ru.match), ""
			}
			pr.SetXForwarded()
			edit(pr.Out.Header, ru.filters.requestHeaders)
			edit(pr.Out.Header, b.filters.requestHeaders)
		},
		ModifyResponse: func(res *http.Response) error {
			edit(res.Header, ru.filters.responseHeaders)
			edit(res.Header, b.filters.responseHeaders)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.DeadlineExceeded) {
				fail(w, http.StatusGatewayTimeout, "%s: %s did not answer in %s", ru.routeName, ep, ru.timeout)
				return
			}
			log.Printf("%s: %s %s via %s: %v", ru.routeName, r.Method, r.URL.Path, ep, err)
			fail(w, http.StatusBadGateway, "%s: %s: %v", ru.routeName, ep, err)
		},
	}
	rp.ServeHTTP(w, r)
}

func edit(h http.Header, e *headerEdit) {
	if e == nil {
		return
	}
	for _, kv := range e.set {
		h.Set(kv[0], kv[1])
	}
	for _, kv := range e.add {
		h.Add(kv[0], kv[1])
	}
	for _, name := range e.remove {
		h.Del(name)
	}
}

// chooseBackend picks by weight; nil when every weight is 0 or there is none.
func chooseBackend(bs []backend) *backend {
	total := 0
	for _, b := range bs {
		total += int(b.weight)
	}
	if total <= 0 {
		return nil
	}
	n := rand.IntN(total)
	for i := range bs {
		n -= int(bs[i].weight)
		if n < 0 {
			return &bs[i]
		}
	}
	return nil
}

// endpoint: a ready address of the backend's Service port, "ip:port".
func (p *proxy) endpoint(b backend) (string, error) {
	var ready []string
	for _, s := range p.slices(b.namespace, b.service) {
		var port int32
		for _, sp := range s.Ports {
			if sp.Port != nil && (sp.Name == nil && b.portName == "" || sp.Name != nil && *sp.Name == b.portName) {
				port = *sp.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				ready = append(ready, net.JoinHostPort(a, strconv.Itoa(int(port))))
			}
		}
	}
	if len(ready) == 0 {
		return "", fmt.Errorf("Service %s/%s port %d has no ready endpoint", b.namespace, b.service, b.port)
	}
	return ready[rand.IntN(len(ready))], nil
}

func redirectURL(r *http.Request, s *socket, rd *redirect, m match) string {
	scheme := "http"
	if s.https {
		scheme = "https"
	}
	port := s.port
	if rd.scheme != "" {
		scheme = rd.scheme
		port = 0 // the scheme's own port unless one is given
	}
	if rd.port != 0 {
		port = rd.port
	}
	host := rd.hostname
	if host == "" {
		host = requestHost(r.Host)
	}
	if port != 0 && !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
		host = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	u := *r.URL
	u.Scheme, u.Host, u.Path, u.RawPath = scheme, host, rd.path.apply(r.URL, m), ""
	return u.String()
}

// tlsConfig: the certificate for the SNI name, from the current table.
func (p *proxy) tlsConfig(sockKey string) *tls.Config {
	return &tls.Config{
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			s := p.current.Load().sockets[sockKey]
			if s == nil || len(s.certs) == 0 {
				return nil, fmt.Errorf("no certificate on %s", sockKey)
			}
			name := strings.ToLower(hello.ServerName)
			for _, c := range s.certs {
				if hostMatches(c.host, name, false) {
					return c.cert, nil
				}
			}
			return s.certs[0].cert, nil
		},
	}
}
