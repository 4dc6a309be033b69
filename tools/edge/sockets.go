package main

import (
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"sort"
	"time"
)

// sockets opens what the table needs and closes what it no longer does.
type sockets struct {
	proxy  *proxy
	open   map[string]*http.Server
	errors map[string]string // the last failure to open each wanted socket
}

func newSockets(p *proxy) *sockets {
	return &sockets{proxy: p, open: map[string]*http.Server{}, errors: map[string]string{}}
}

// reconcile returns true when the set of sockets that could not be opened changed
// (the listeners' status says so, so the caller compiles again).
func (s *sockets) reconcile(t *table) bool {
	before := len(s.errors)
	changed := false
	for k, srv := range s.open {
		if _, ok := t.sockets[k]; !ok {
			_ = srv.Close()
			delete(s.open, k)
			log.Printf("closed %s", k)
		}
	}
	for k := range s.errors {
		if _, ok := t.sockets[k]; !ok {
			delete(s.errors, k)
			changed = true
		}
	}
	keys := make([]string, 0, len(t.sockets))
	for k := range t.sockets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s.open[k] != nil {
			continue
		}
		ln, err := net.Listen("tcp", k)
		if err != nil {
			if s.errors[k] != err.Error() {
				changed = true
			}
			s.errors[k] = err.Error()
			continue
		}
		if _, had := s.errors[k]; had {
			delete(s.errors, k)
			changed = true
		}
		srv := &http.Server{Handler: s.proxy.handler(k), ReadHeaderTimeout: 10 * time.Second}
		if t.sockets[k].https {
			ln = tls.NewListener(ln, s.proxy.tlsConfig(k))
		}
		s.open[k] = srv
		go func() { _ = srv.Serve(ln) }()
		log.Printf("listening on %s (https=%v)", k, t.sockets[k].https)
	}
	return changed || before != len(s.errors)
}

func (s *sockets) bindErrors() map[string]string {
	out := make(map[string]string, len(s.errors))
	for k, v := range s.errors {
		out[k] = v
	}
	return out
}

func (s *sockets) closeAll() {
	for _, srv := range s.open {
		_ = srv.Close()
	}
}
