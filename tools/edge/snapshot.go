package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// snapshot: the objects one compile reads, copied out of the informers' caches.
type snapshot struct {
	classes        []*gwv1.GatewayClass
	gateways       []*gwv1.Gateway
	routes         []*gwv1.HTTPRoute
	grants         []*gwv1.ReferenceGrant
	services       map[string]*corev1.Service // namespace/name
	secrets        map[string]*corev1.Secret
	namespaces     map[string]*corev1.Namespace
	ingresses      []*netv1.Ingress
	ingressClasses []*netv1.IngressClass
}

// settings: who this controller is and where it listens.
type settings struct {
	controllerName    string // GatewayClass spec.controllerName it serves
	ingressController string // IngressClass spec.controller it serves
	ingressIP         string
	ingressHTTP       int32
	ingressHTTPS      int32
	gatewayIPs        []string // one per Gateway, given out in this order
	bindErrors        map[string]string // "ip:port" → why it could not be opened
}

func key(namespace, name string) string { return namespace + "/" + name }

func condition(kind string, ok bool, reason, message string, generation int64) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{Type: kind, Status: status, Reason: reason, Message: message, ObservedGeneration: generation}
}

func createdAt(m metav1.ObjectMeta) time.Time { return m.CreationTimestamp.Time }

type (
	corev1Service   = corev1.Service
	corev1Secret    = corev1.Secret
	corev1Namespace = corev1.Namespace
)
