package main

import (
	"crypto/tls"
	"fmt"

	netv1 "k8s.io/api/networking/v1"
)

const defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

// compileIngresses serves every Ingress of our IngressClasses on the ingress sockets
// and writes the address they are reached at.
func compileIngresses(s *snapshot, cfg settings, hosts hostTable, status map[string]netv1.IngressStatus) {
	ours, hasDefault := map[string]bool{}, false
	for _, c := range s.ingressClasses {
		if c.Spec.Controller == cfg.ingressController {
			ours[c.Name] = true
			hasDefault = hasDefault || c.Annotations[defaultClassAnnotation] == "true"
		}
	}
	if len(ours) == 0 {
		return
	}
	httpSock := hosts.socket(cfg.ingressIP, cfg.ingressHTTP, false)
	httpsSock := hosts.socket(cfg.ingressIP, cfg.ingressHTTPS, true)
	lb := netv1.IngressLoadBalancerIngress{IP: cfg.ingressIP}
	if cfg.ingressHTTP != 80 {
		lb.Ports = []netv1.IngressPortStatus{{Port: cfg.ingressHTTP, Protocol: "TCP"}}
	}
	for _, ing := range s.ingresses {
		class := ""
		switch {
		case ing.Spec.IngressClassName != nil:
			class = *ing.Spec.IngressClassName
		case ing.Annotations["kubernetes.io/ingress.class"] != "":
			class = ing.Annotations["kubernetes.io/ingress.class"]
		}
		if !(ours[class] || (class == "" && hasDefault)) {
			continue
		}
		status[key(ing.Namespace, ing.Name)] = netv1.IngressStatus{LoadBalancer: netv1.IngressLoadBalancerStatus{
			Ingress: []netv1.IngressLoadBalancerIngress{lb}}}
		if b := ing.Spec.DefaultBackend; b != nil {
			r := ingressRule(s, ing, b, "PathPrefix", "/", 1<<20)
			for _, sock := range []*socket{httpSock, httpsSock} {
				if sock.fallback == nil {
					sock.fallback = r
				}
			}
		}
		for i, ir := range ing.Spec.Rules {
			if ir.HTTP == nil {
				continue
			}
			var rules []*rule
			for j, p := range ir.HTTP.Paths {
				pathType := "PathPrefix"
				if p.PathType != nil && *p.PathType == netv1.PathTypeExact {
					pathType = "Exact"
				}
				path := p.Path
				if path == "" {
					path = "/"
				}
				rules = append(rules, ingressRule(s, ing, &p.Backend, pathType, path, i*1000+j))
			}
			for _, sock := range []*socket{httpSock, httpsSock} {
				hosts.add(sock.ip, sock.port, sock.https, "", ir.Host, true, rules)
			}
		}
		for _, t := range ing.Spec.TLS {
			secret := s.secrets[key(ing.Namespace, t.SecretName)]
			if secret == nil {
				continue
			}
			c, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
			if err != nil {
				continue
			}
			for _, h := range t.Hosts {
				httpsSock.certs = append(httpsSock.certs, cert{host: h, cert: &c})
			}
			if len(t.Hosts) == 0 {
				httpsSock.certs = append(httpsSock.certs, cert{cert: &c})
			}
		}
	}
}

func ingressRule(s *snapshot, ing *netv1.Ingress, b *netv1.IngressBackend, pathType, path string, index int) *rule {
	r := &rule{
		match:   match{pathType: pathType, path: path},
		created: createdAt(ing.ObjectMeta), routeKey: key(ing.Namespace, ing.Name), index: index,
		routeName: "Ingress " + key(ing.Namespace, ing.Name),
	}
	be := backend{weight: 1}
	switch svc := s.services[key(ing.Namespace, backendName(b))]; {
	case b.Service == nil:
		be.invalid = "only Service backends are served"
	case svc == nil:
		be.invalid = fmt.Sprintf("Service %s/%s not found", ing.Namespace, b.Service.Name)
	default:
		port := servicePort(svc, b.Service.Port.Number, b.Service.Port.Name)
		if port == nil {
			be.invalid = fmt.Sprintf("Service %s/%s has no port %d%s", ing.Namespace, b.Service.Name, b.Service.Port.Number, b.Service.Port.Name)
		} else {
			be.namespace, be.service, be.port, be.portName = ing.Namespace, b.Service.Name, port.Port, port.Name
			if port.AppProtocol != nil {
				be.protocol = *port.AppProtocol
			}
		}
	}
	r.backends = []backend{be}
	return r
}

func backendName(b *netv1.IngressBackend) string {
	if b.Service == nil {
		return ""
	}
	return b.Service.Name
}
