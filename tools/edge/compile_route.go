package main

import (
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// attachRoute decides, for each parentRef that names one of our Gateways, whether
// the route attaches and where; it returns the route's status entries and adds its
// rules to the listeners it attached to.
func attachRoute(s *snapshot, cfg settings, r *gwv1.HTTPRoute, gateways map[string]*gw, hosts hostTable) []gwv1.RouteParentStatus {
	rules, resolved := compileRules(s, r)
	var parents []gwv1.RouteParentStatus
	for _, ref := range r.Spec.ParentRefs {
		if (ref.Group != nil && string(*ref.Group) != gatewayGroup) || (ref.Kind != nil && *ref.Kind != "Gateway") {
			continue
		}
		ns := r.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		g := gateways[key(ns, string(ref.Name))]
		if g == nil {
			continue // not ours to answer for
		}
		accepted := attachToGateway(s, r, ref, g, rules, hosts)
		parents = append(parents, gwv1.RouteParentStatus{
			ParentRef:      ref,
			ControllerName: gwv1.GatewayController(cfg.controllerName),
			Conditions:     []metav1.Condition{accepted, resolved},
		})
	}
	return parents
}

func attachToGateway(s *snapshot, r *gwv1.HTTPRoute, ref gwv1.ParentReference, g *gw, rules []*rule, hosts hostTable) metav1.Condition {
	gen := r.Generation
	refuse := func(reason gwv1.RouteConditionReason, format string, args ...any) metav1.Condition {
		return condition(string(gwv1.RouteConditionAccepted), false, string(reason), fmt.Sprintf(format, args...), gen)
	}
	var candidates []*lst
	for _, l := range g.listeners {
		if (ref.SectionName == nil || *ref.SectionName == l.spec.Name) && (ref.Port == nil || *ref.Port == l.spec.Port) {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 {
		return refuse(gwv1.RouteReasonNoMatchingParent, "Gateway %s/%s has no listener matching sectionName/port", g.obj.Namespace, g.obj.Name)
	}
	var allowed []*lst
	for _, l := range candidates {
		if l.accepted && admits(s, l, r.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return refuse(gwv1.RouteReasonNotAllowedByListeners,
			"no listener of Gateway %s/%s admits HTTPRoutes from namespace %s (see its allowedRoutes)", g.obj.Namespace, g.obj.Name, r.Namespace)
	}
	attached := false
	for _, l := range allowed {
		effective := routeHosts(l.host(), r.Spec.Hostnames)
		if len(effective) == 0 {
			continue
		}
		attached = true
		l.attached++
		if !l.programme {
			continue
		}
		for _, h := range effective {
			hosts.add(g.ip, l.spec.Port, l.https, l.host(), h, false, rules)
		}
	}
	if !attached {
		return refuse(gwv1.RouteReasonNoMatchingListenerHostname, "no listener hostname of Gateway %s/%s intersects the route's hostnames", g.obj.Namespace, g.obj.Name)
	}
	return condition(string(gwv1.RouteConditionAccepted), true, string(gwv1.RouteReasonAccepted), "", gen)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// routeHosts: the effective hostnames of a route on a listener, none if they do not intersect.
func routeHosts(listener string, hostnames []gwv1.Hostname) []string {
	if len(hostnames) == 0 {
		return []string{listener}
	}
	var out []string
	for _, h := range hostnames {
		if e, ok := intersect(listener, string(h)); ok {
			out = append(out, e)
		}
	}
	return out
}

// compileRules turns the route's rules into proxy rules, and says whether every backendRef resolved.
func compileRules(s *snapshot, r *gwv1.HTTPRoute) ([]*rule, metav1.Condition) {
	resolved := condition(string(gwv1.RouteConditionResolvedRefs), true, string(gwv1.RouteReasonResolvedRefs), "", r.Generation)
	var out []*rule
	for i, spec := range r.Spec.Rules {
		var backends []backend
		for _, ref := range spec.BackendRefs {
			b, reason, msg := resolveBackend(s, r.Namespace, ref.BackendObjectReference)
			b.weight = 1
			b.filters = compileFilters(ref.Filters)
			if ref.Weight != nil {
				b.weight = *ref.Weight
			}
			if reason != "" && resolved.Status == metav1.ConditionTrue {
				resolved = condition(string(gwv1.RouteConditionResolvedRefs), false, string(reason), msg, r.Generation)
			}
			backends = append(backends, b)
		}
		f := compileFilters(spec.Filters)
		// one attempt per request here, so the backend's timeout bounds the request as well
		var timeout time.Duration
		if spec.Timeouts != nil {
			for _, d := range []*gwv1.Duration{spec.Timeouts.Request, spec.Timeouts.BackendRequest} {
				if t, err := time.ParseDuration(string(deref(d))); d != nil && err == nil && t > 0 && (timeout == 0 || t < timeout) {
					timeout = t
				}
			}
		}
		matches := spec.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			out = append(out, &rule{
				match: compileMatch(m), filters: f, backends: backends, timeout: timeout,
				created: createdAt(r.ObjectMeta), routeKey: key(r.Namespace, r.Name), index: i*1000 + j,
				routeName: "HTTPRoute " + key(r.Namespace, r.Name),
			})
		}
	}
	return out, resolved
}

// resolveBackend: a Service port the proxy can reach, or why not.
func resolveBackend(s *snapshot, ns string, ref gwv1.BackendObjectReference) (backend, gwv1.RouteConditionReason, string) {
	group, kind := "", "Service"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	target := ns
	if ref.Namespace != nil {
		target = string(*ref.Namespace)
	}
	name := key(target, string(ref.Name))
	bad := func(reason gwv1.RouteConditionReason, msg string) (backend, gwv1.RouteConditionReason, string) {
		return backend{invalid: msg}, reason, msg
	}
	if group != "" || kind != "Service" {
		return bad(gwv1.RouteReasonInvalidKind, fmt.Sprintf("backendRef %s/%s %s: only Services are served", group, kind, ref.Name))
	}
	if !s.granted(gatewayGroup, "HTTPRoute", ns, "", "Service", target, string(ref.Name)) {
		return bad(gwv1.RouteReasonRefNotPermitted, fmt.Sprintf("Service %s is in another namespace and no ReferenceGrant there allows it", name))
	}
	svc := s.services[name]
	if svc == nil {
		return bad(gwv1.RouteReasonBackendNotFound, fmt.Sprintf("Service %s not found", name))
	}
	if ref.Port == nil {
		return bad(gwv1.RouteReasonBackendNotFound, fmt.Sprintf("backendRef to Service %s has no port", name))
	}
	port := servicePort(svc, int32(*ref.Port), "")
	if port == nil {
		return bad(gwv1.RouteReasonBackendNotFound, fmt.Sprintf("Service %s has no port %d", name, *ref.Port))
	}
	b := backend{namespace: target, service: string(ref.Name), port: port.Port, portName: port.Name}
	if port.AppProtocol != nil {
		b.protocol = *port.AppProtocol
	}
	return b, "", ""
}

// servicePort finds a Service port by number, or by name when number is 0.
func servicePort(svc *corev1.Service, number int32, name string) *corev1.ServicePort {
	for i, p := range svc.Spec.Ports {
		if (number != 0 && p.Port == number) || (number == 0 && name != "" && p.Name == name) {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

func compileMatch(m gwv1.HTTPRouteMatch) match {
	out := match{pathType: "PathPrefix", path: "/"}
	if m.Path != nil {
		if m.Path.Type != nil {
			out.pathType = string(*m.Path.Type)
		}
		if m.Path.Value != nil {
			out.path = *m.Path.Value
		}
		if out.pathType == "RegularExpression" {
			out.pathRE, _ = regexp.Compile("^(?:" + out.path + ")$")
		}
	}
	if m.Method != nil {
		out.method = string(*m.Method)
	}
	for _, h := range m.Headers {
		v := valueMatch{name: string(h.Name), value: h.Value}
		if h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression {
			v.re, _ = regexp.Compile(h.Value)
		}
		out.headers = append(out.headers, v)
	}
	for _, q := range m.QueryParams {
		v := valueMatch{name: string(q.Name), value: q.Value}
		if q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression {
			v.re, _ = regexp.Compile(q.Value)
		}
		out.query = append(out.query, v)
	}
	return out
}

func compileFilters(specs []gwv1.HTTPRouteFilter) filters {
	var f filters
	for _, spec := range specs {
		switch spec.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			f.requestHeaders = headerFilter(spec.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			f.responseHeaders = headerFilter(spec.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			rr := spec.RequestRedirect
			rd := &redirect{statusCode: 302}
			if rr.Scheme != nil {
				rd.scheme = *rr.Scheme
			}
			if rr.Hostname != nil {
				rd.hostname = string(*rr.Hostname)
			}
			if rr.Port != nil {
				rd.port = int32(*rr.Port)
			}
			if rr.StatusCode != nil {
				rd.statusCode = *rr.StatusCode
			}
			rd.path = pathFilter(rr.Path)
			f.redirect = rd
		case gwv1.HTTPRouteFilterURLRewrite:
			rw := &rewrite{path: pathFilter(spec.URLRewrite.Path)}
			if spec.URLRewrite.Hostname != nil {
				rw.hostname = string(*spec.URLRewrite.Hostname)
			}
			f.rewrite = rw
		default:
			f.invalid = fmt.Sprintf("filter %s is not served", spec.Type)
		}
	}
	return f
}

func headerFilter(m *gwv1.HTTPHeaderFilter) *headerEdit {
	if m == nil {
		return nil
	}
	e := &headerEdit{remove: m.Remove}
	for _, h := range m.Set {
		e.set = append(e.set, [2]string{string(h.Name), h.Value})
	}
	for _, h := range m.Add {
		e.add = append(e.add, [2]string{string(h.Name), h.Value})
	}
	return e
}

func pathFilter(p *gwv1.HTTPPathModifier) *pathModifier {
	if p == nil {
		return nil
	}
	return &pathModifier{fullPath: p.ReplaceFullPath, prefixMatch: p.ReplacePrefixMatch}
}
