package main

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestIntersect(t *testing.T) {
	cases := []struct{ listener, route, want string }{
		{"", "a.example.com", "a.example.com"},
		{"*.example.com", "", "*.example.com"},
		{"*.example.com", "a.b.example.com", "a.b.example.com"},
		{"a.example.com", "*.example.com", "a.example.com"},
		{"*.example.com", "*.a.example.com", "*.a.example.com"},
		{"a.example.com", "b.example.com", "-"},
		{"*.example.com", "example.com", "-"},
	}
	for _, c := range cases {
		got, ok := intersect(c.listener, c.route)
		if !ok {
			got = "-"
		}
		if got != c.want {
			t.Errorf("intersect(%q, %q) = %q, want %q", c.listener, c.route, got, c.want)
		}
	}
	if hostMatches("*.example.com", "a.b.example.com", true) {
		t.Error("an Ingress wildcard must match one label only")
	}
}

func TestRulePrecedence(t *testing.T) {
	rules := []*rule{
		{match: match{pathType: "PathPrefix", path: "/"}, routeKey: "a"},
		{match: match{pathType: "PathPrefix", path: "/api"}, routeKey: "b"},
		{match: match{pathType: "Exact", path: "/api"}, routeKey: "c"},
		{match: match{pathType: "PathPrefix", path: "/api", headers: []valueMatch{{name: "x", value: "1"}}}, routeKey: "d"},
	}
	sortRules(rules)
	s := &socket{hosts: []*vhost{{rules: rules}}}
	for path, want := range map[string]string{"/api": "c", "/api/x": "b", "/apix": "a", "/": "a"} {
		_, got := s.pick(httptest.NewRequest("GET", "http://h"+path, nil))
		if got == nil || got.routeKey != want {
			t.Errorf("%s went to %v, want %s", path, got, want)
		}
	}
	r := httptest.NewRequest("GET", "http://h/api/x", nil)
	r.Header.Set("X", "1")
	if _, got := s.pick(r); got.routeKey != "d" {
		t.Errorf("a header match must win over the same prefix without one, got %s", got.routeKey)
	}
}

func TestReplacePrefix(t *testing.T) {
	for _, c := range [][4]string{
		{"/prefix/one", "/prefix", "/one", "/one/one"},
		{"/prefix", "/prefix", "/one", "/one"},
		{"/prefix/", "/prefix", "/one", "/one/"},
		{"/prefix/one", "/prefix", "/", "/one"},
	} {
		if got := replacePrefix(c[0], c[1], c[2]); got != c[3] {
			t.Errorf("replacePrefix(%q, %q, %q) = %q, want %q", c[0], c[1], c[2], got, c[3])
		}
	}
}

func TestPodNetworkRefusesAllButTheRealNodesPods(t *testing.T) {
	p := podNetwork{cidr: netip.MustParsePrefix("10.245.0.0/24"), bridge: "archetype0"}
	if err := p.check("10.245.0.7"); err != nil {
		t.Errorf("a real node pod was refused: %v", err)
	}
	for _, ip := range []string{"10.245.0.0", "10.245.0.1", "10.244.1.5", "8.8.8.8", "127.0.0.1"} {
		if p.check(ip) == nil {
			t.Errorf("%s must be refused", ip)
		}
	}
}

func TestIngressGetsAddressAndRoutes(t *testing.T) {
	class := "webapprouting.kubernetes.azure.com"
	exact := netv1.PathTypeExact
	s := &snapshot{
		ingressClasses: []*netv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: netv1.IngressClassSpec{Controller: class + "/nginx"}}},
		ingresses: []*netv1.Ingress{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
			Spec: netv1.IngressSpec{IngressClassName: &class, Rules: []netv1.IngressRule{{Host: "archetype.example.com",
				IngressRuleValue: netv1.IngressRuleValue{HTTP: &netv1.HTTPIngressRuleValue{Paths: []netv1.HTTPIngressPath{
					{Path: "/health", PathType: &exact, Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: "web", Port: netv1.ServiceBackendPort{Name: "http"}}}},
				}}}}}},
		}, {
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other-class"},
			Spec:       netv1.IngressSpec{IngressClassName: ptr("nginx")},
		}},
		services: map[string]*corev1.Service{"ns/web": {Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}},
	}
	out := compile(s, settings{ingressController: class + "/nginx", ingressIP: "127.0.0.1", ingressHTTP: 8080, ingressHTTPS: 8443})
	st, ok := out.ingresses["ns/web"]
	if !ok || st.LoadBalancer.Ingress[0].IP != "127.0.0.1" || st.LoadBalancer.Ingress[0].Ports[0].Port != 8080 {
		t.Fatalf("status = %+v", out.ingresses)
	}
	if _, ok := out.ingresses["ns/other-class"]; ok {
		t.Error("an Ingress of another class got our address")
	}
	sock := out.table.sockets["127.0.0.1:8080"]
	_, ru := sock.pick(httptest.NewRequest("GET", "http://archetype.example.com:8080/health", nil))
	if ru == nil || ru.backends[0].service != "web" || ru.backends[0].port != 80 {
		t.Fatalf("the rule was not served: %+v", ru)
	}
	if _, ru := sock.pick(httptest.NewRequest("GET", "http://archetype.example.com/health/x", nil)); ru != nil {
		t.Error("an Exact path matched a longer one")
	}
}

func TestRouteRefusedByAllowedRoutes(t *testing.T) {
	same := gwv1.NamespacesFromSame
	s := &snapshot{
		classes: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: gwv1.GatewayClassSpec{ControllerName: "me"}}},
		gateways: []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "shared"}, Spec: gwv1.GatewaySpec{
			GatewayClassName: "c", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}}}}},
		routes: []*gwv1.HTTPRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"}, Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "shared", Namespace: ptr(gwv1.Namespace("infra"))}}}}}},
		services: map[string]*corev1.Service{}, namespaces: map[string]*corev1.Namespace{},
	}
	out := compile(s, settings{controllerName: "me", gatewayIPs: []string{"127.0.0.2"}})
	parents := out.routes["app/web"]
	if len(parents) != 1 || parents[0].Conditions[0].Reason != string(gwv1.RouteReasonNotAllowedByListeners) {
		t.Fatalf("route status = %+v", parents)
	}
	gs := out.gateways["infra/shared"]
	if gs.Addresses[0].Value != "127.0.0.2" || gs.Listeners[0].AttachedRoutes != 0 {
		t.Fatalf("gateway status = %+v", gs)
	}
}

func TestRouteStatusNeverNull(t *testing.T) {
	w := writer{controllerName: "me"}
	route := &gwv1.HTTPRoute{Status: gwv1.HTTPRouteStatus{RouteStatus: gwv1.RouteStatus{Parents: []gwv1.RouteParentStatus{
		{ControllerName: "me", ParentRef: gwv1.ParentReference{Name: "gone"}},
	}}}}
	got := w.routeParents(route, nil)
	if got == nil || len(got) != 0 {
		t.Fatalf("a route whose Gateways are gone must get parents [] (the CRD requires the field), got %#v", got)
	}
}
