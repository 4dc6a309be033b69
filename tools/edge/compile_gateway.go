package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gw: one Gateway of a class this controller serves, as compile sees it.
type gw struct {
	obj       *gwv1.Gateway
	ip        string
	listeners []*lst
	accepted  bool
}

// lst: one listener, its verdict, and the routes attached to it.
type lst struct {
	spec      gwv1.Listener
	gateway   *gw
	status    gwv1.ListenerStatus
	accepted  bool // protocol and kinds allow HTTPRoutes here
	https     bool
	cert      *tls.Certificate
	attached  int32
	programme bool // served by the proxy
}

func (l *lst) host() string {
	if l.spec.Hostname == nil {
		return ""
	}
	return string(*l.spec.Hostname)
}

// ourClasses: GatewayClasses whose controllerName is ours, with their status.
func ourClasses(s *snapshot, cfg settings) map[string]gwv1.GatewayClassStatus {
	out := map[string]gwv1.GatewayClassStatus{}
	for _, c := range s.classes {
		if string(c.Spec.ControllerName) != cfg.controllerName {
			continue
		}
		st := gwv1.GatewayClassStatus{
			Conditions: []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), true,
				string(gwv1.GatewayClassReasonAccepted), "served by "+cfg.controllerName, c.Generation)},
		}
		for _, f := range supportedFeatures {
			st.SupportedFeatures = append(st.SupportedFeatures, gwv1.SupportedFeature{Name: gwv1.FeatureName(f)})
		}
		out[c.Name] = st
	}
	return out
}

// assignIPs gives each Gateway one loopback address, keeping the one its status
// already shows when it is still free, so addresses survive restarts.
func assignIPs(gateways []*gwv1.Gateway, pool []string) map[string]string {
	inPool := map[string]bool{}
	for _, ip := range pool {
		inPool[ip] = true
	}
	sorted := append([]*gwv1.Gateway(nil), gateways...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return key(a.Namespace, a.Name) < key(b.Namespace, b.Name)
	})
	used := map[string]bool{}
	out := map[string]string{}
	for _, g := range sorted {
		for _, a := range g.Status.Addresses {
			if inPool[a.Value] && !used[a.Value] {
				out[key(g.Namespace, g.Name)] = a.Value
				used[a.Value] = true
				break
			}
		}
	}
	next := 0
	for _, g := range sorted {
		k := key(g.Namespace, g.Name)
		if out[k] != "" {
			continue
		}
		for next < len(pool) && used[pool[next]] {
			next++
		}
		if next < len(pool) {
			out[k] = pool[next]
			used[pool[next]] = true
		}
	}
	return out
}

var httpRouteKind = gwv1.RouteGroupKind{Group: ptr(gwv1.Group(gatewayGroup)), Kind: "HTTPRoute"}

func ptr[T any](v T) *T { return &v }

// compileGateway judges each listener: protocol, route kinds, certificates.
func compileGateway(s *snapshot, cfg settings, g *gwv1.Gateway, ip string) *gw {
	out := &gw{obj: g, ip: ip}
	gen := g.Generation
	for _, spec := range g.Spec.Listeners {
		l := &lst{spec: spec, gateway: out}
		l.status = gwv1.ListenerStatus{Name: spec.Name, SupportedKinds: []gwv1.RouteGroupKind{}}
		accepted := condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "", gen)
		resolved := condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "", gen)
		switch spec.Protocol {
		case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType:
			l.accepted = true
			l.https = spec.Protocol == gwv1.HTTPSProtocolType
			kinds, bad := routeKinds(spec.AllowedRoutes)
			l.status.SupportedKinds = kinds
			if bad != "" {
				resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, string(gwv1.ListenerReasonInvalidRouteKinds), bad, gen)
			}
			if len(kinds) == 0 {
				l.accepted = false
			}
		default:
			l.accepted = false
			accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(gwv1.ListenerReasonUnsupportedProtocol),
				fmt.Sprintf("protocol %s is not served; use HTTP or HTTPS", spec.Protocol), gen)
		}
		if l.accepted && l.https {
			cert, reason, msg := listenerCert(s, g, spec)
			if reason != "" && resolved.Status == metav1.ConditionTrue {
				resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, reason, msg, gen)
			}
			l.cert = cert
		}
		if why := cfg.bindErrors[net.JoinHostPort(ip, strconv.Itoa(int(spec.Port)))]; why != "" && l.accepted {
			accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(gwv1.ListenerReasonPortUnavailable), why, gen)
			l.accepted = false
		}
		l.programme = l.accepted && resolved.Status == metav1.ConditionTrue && accepted.Status == metav1.ConditionTrue
		programmed := condition(string(gwv1.ListenerConditionProgrammed), l.programme, string(gwv1.ListenerReasonProgrammed), "", gen)
		if !l.programme {
			programmed.Reason = string(gwv1.ListenerReasonInvalid)
		}
		l.status.Conditions = []metav1.Condition{accepted, resolved, programmed,
			condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "", gen)}
		out.listeners = append(out.listeners, l)
	}
	markConflicts(out)
	return out
}

// markConflicts: listeners on one port must agree on the protocol, and their hostnames must differ.
func markConflicts(g *gw) {
	for i, a := range g.listeners {
		for _, b := range g.listeners[:i] {
			if a.spec.Port != b.spec.Port || !a.accepted || !b.accepted {
				continue
			}
			reason := ""
			switch {
			case a.spec.Protocol != b.spec.Protocol:
				reason = string(gwv1.ListenerReasonProtocolConflict)
			case a.host() == b.host():
				reason = string(gwv1.ListenerReasonHostnameConflict)
			}
			if reason == "" {
				continue
			}
			a.programme = false
			gen := g.obj.Generation
			a.status.Conditions[2] = condition(string(gwv1.ListenerConditionProgrammed), false, string(gwv1.ListenerReasonInvalid), "conflicts with listener "+string(b.spec.Name), gen)
			a.status.Conditions[3] = condition(string(gwv1.ListenerConditionConflicted), true, reason, "conflicts with listener "+string(b.spec.Name), gen)
		}
	}
}

// routeKinds: the kinds a listener admits (only HTTPRoute is served) and why some were refused.
func routeKinds(allowed *gwv1.AllowedRoutes) ([]gwv1.RouteGroupKind, string) {
	if allowed == nil || len(allowed.Kinds) == 0 {
		return []gwv1.RouteGroupKind{httpRouteKind}, ""
	}
	kinds := []gwv1.RouteGroupKind{}
	bad := ""
	for _, k := range allowed.Kinds {
		group := gatewayGroup
		if k.Group != nil {
			group = string(*k.Group)
		}
		if group == gatewayGroup && k.Kind == "HTTPRoute" {
			kinds = append(kinds, httpRouteKind)
		} else {
			bad += fmt.Sprintf("kind %s/%s is not served; ", group, k.Kind)
		}
	}
	return kinds, bad
}

// listenerCert loads the first certificateRef, or says why it cannot.
func listenerCert(s *snapshot, g *gwv1.Gateway, l gwv1.Listener) (*tls.Certificate, string, string) {
	invalid := string(gwv1.ListenerReasonInvalidCertificateRef)
	if l.TLS == nil || len(l.TLS.CertificateRefs) == 0 {
		return nil, invalid, "an HTTPS listener needs tls.certificateRefs"
	}
	var first *tls.Certificate
	for _, ref := range l.TLS.CertificateRefs {
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if group != "" || kind != "Secret" {
			return nil, invalid, fmt.Sprintf("certificateRef %s/%s %s: only core Secrets are served", group, kind, ref.Name)
		}
		ns := g.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if !s.granted(gatewayGroup, "Gateway", g.Namespace, "", "Secret", ns, string(ref.Name)) {
			return nil, string(gwv1.ListenerReasonRefNotPermitted),
				fmt.Sprintf("Secret %s/%s is in another namespace and no ReferenceGrant there allows it", ns, ref.Name)
		}
		secret := s.secrets[key(ns, string(ref.Name))]
		if secret == nil {
			return nil, invalid, fmt.Sprintf("Secret %s/%s not found", ns, ref.Name)
		}
		cert, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
		if err != nil {
			return nil, invalid, fmt.Sprintf("Secret %s/%s: %v", ns, ref.Name, err)
		}
		if first == nil {
			first = &cert
		}
	}
	return first, "", ""
}

// admits: do a listener's allowedRoutes let a route in namespace ns attach?
func admits(s *snapshot, l *lst, ns string) bool {
	from := gwv1.NamespacesFromSame
	var selector *metav1.LabelSelector
	if l.spec.AllowedRoutes != nil && l.spec.AllowedRoutes.Namespaces != nil {
		if l.spec.AllowedRoutes.Namespaces.From != nil {
			from = *l.spec.AllowedRoutes.Namespaces.From
		}
		selector = l.spec.AllowedRoutes.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return ns == l.gateway.obj.Namespace
	case gwv1.NamespacesFromSelector:
		sel, err := metav1.LabelSelectorAsSelector(selector)
		namespace := s.namespaces[ns]
		return err == nil && namespace != nil && sel.Matches(labels.Set(namespace.Labels))
	}
	return false
}

// gatewayStatus: addresses, conditions and listeners, once routes are attached.
func gatewayStatus(g *gw) gwv1.GatewayStatus {
	gen := g.obj.Generation
	st := gwv1.GatewayStatus{}
	if g.ip != "" {
		st.Addresses = []gwv1.GatewayStatusAddress{{Type: ptr(gwv1.IPAddressType), Value: g.ip}}
	}
	valid, programmed := 0, 0
	for _, l := range g.listeners {
		l.status.AttachedRoutes = l.attached
		st.Listeners = append(st.Listeners, l.status)
		if l.status.Conditions[0].Status == metav1.ConditionTrue {
			valid++
		}
		if l.programme {
			programmed++
		}
	}
	accepted := condition(string(gwv1.GatewayConditionAccepted), true, string(gwv1.GatewayReasonAccepted), "", gen)
	switch {
	case len(g.obj.Spec.Addresses) > 0:
		accepted = condition(string(gwv1.GatewayConditionAccepted), false, string(gwv1.GatewayReasonUnsupportedAddress),
			"spec.addresses is not served: each Gateway gets its own loopback address", gen)
	case valid == 0:
		accepted = condition(string(gwv1.GatewayConditionAccepted), false, string(gwv1.GatewayReasonListenersNotValid), "no listener is valid", gen)
	case valid < len(g.listeners):
		accepted.Reason = string(gwv1.GatewayReasonListenersNotValid)
		accepted.Message = "some listeners are not valid"
	}
	g.accepted = accepted.Status == metav1.ConditionTrue
	prog := condition(string(gwv1.GatewayConditionProgrammed), g.accepted && programmed > 0 && g.ip != "",
		string(gwv1.GatewayReasonProgrammed), "", gen)
	switch {
	case g.ip == "":
		prog.Reason, prog.Message = string(gwv1.GatewayReasonAddressNotAssigned), "no loopback address left in the pool"
	case prog.Status != metav1.ConditionTrue:
		prog.Reason = string(gwv1.GatewayReasonInvalid)
	}
	st.Conditions = []metav1.Condition{accepted, prog}
	return st
}
