package main

import (
	"net"
	"sort"
	"strconv"

	netv1 "k8s.io/api/networking/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// compiled: the table to serve and the status every object of ours should show.
type compiled struct {
	table    *table
	classes  map[string]gwv1.GatewayClassStatus
	gateways map[string]gwv1.GatewayStatus
	// routes: our entries of each HTTPRoute's status.parents (others' are kept when written)
	routes    map[string][]gwv1.RouteParentStatus
	ingresses map[string]netv1.IngressStatus
}

// hostTable collects vhosts by socket while routes attach.
type hostTable map[string]*socket

func (h hostTable) socket(ip string, port int32, https bool) *socket {
	k := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	s := h[k]
	if s == nil {
		s = &socket{ip: ip, port: port, https: https}
		h[k] = s
	}
	return s
}

func (h hostTable) add(ip string, port int32, https bool, listenerHost, host string, singleLabel bool, rules []*rule) {
	s := h.socket(ip, port, https)
	for _, v := range s.hosts {
		if v.listenerHost == listenerHost && v.host == host {
			v.rules = append(v.rules, rules...)
			return
		}
	}
	s.hosts = append(s.hosts, &vhost{listenerHost: listenerHost, host: host, singleLabel: singleLabel,
		rules: append([]*rule(nil), rules...), listenerPort: port, https: https})
}

// compile is the whole controller's decision, a pure function of the objects.
func compile(s *snapshot, cfg settings) compiled {
	out := compiled{
		classes: ourClasses(s, cfg), gateways: map[string]gwv1.GatewayStatus{},
		routes: map[string][]gwv1.RouteParentStatus{}, ingresses: map[string]netv1.IngressStatus{},
	}
	hosts := hostTable{}
	var ours []*gwv1.Gateway
	for _, g := range s.gateways {
		if _, ok := out.classes[string(g.Spec.GatewayClassName)]; ok {
			ours = append(ours, g)
		}
	}
	ips := assignIPs(ours, cfg.gatewayIPs)
	gateways := map[string]*gw{}
	for _, g := range ours {
		c := compileGateway(s, cfg, g, ips[key(g.Namespace, g.Name)])
		gateways[key(g.Namespace, g.Name)] = c
		for _, l := range c.listeners {
			// the socket is wanted even when the listener is not programmed, so that a port
			// that could not be opened is tried again rather than forgotten
			if c.ip == "" || (l.spec.Protocol != gwv1.HTTPProtocolType && l.spec.Protocol != gwv1.HTTPSProtocolType) {
				continue
			}
			sock := hosts.socket(c.ip, l.spec.Port, l.spec.Protocol == gwv1.HTTPSProtocolType)
			if l.cert != nil && l.programme {
				sock.certs = append(sock.certs, cert{host: l.host(), cert: l.cert})
			}
		}
	}
	for _, r := range s.routes {
		if parents := attachRoute(s, cfg, r, gateways, hosts); len(parents) > 0 {
			out.routes[key(r.Namespace, r.Name)] = parents
		}
	}
	for k, g := range gateways {
		out.gateways[k] = gatewayStatus(g)
	}
	compileIngresses(s, cfg, hosts, out.ingresses)
	for _, sock := range hosts {
		sortHosts(sock.hosts)
		for _, v := range sock.hosts {
			sortRules(v.rules)
		}
		sort.SliceStable(sock.certs, func(i, j int) bool { return specificity(sock.certs[i].host) > specificity(sock.certs[j].host) })
	}
	out.table = &table{sockets: hosts}
	return out
}
