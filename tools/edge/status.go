package main

import (
	"context"
	"time"

	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// writer puts the compiled status on each object, only where it changed, keeping
// lastTransitionTime where a condition's status did not change.
type writer struct {
	kube           kubernetes.Interface
	gateway        gwclient.Interface
	controllerName string
}

// keepTimes: next with each condition's lastTransitionTime from prev when its status is the same.
func keepTimes(prev, next []metav1.Condition) []metav1.Condition {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	out := make([]metav1.Condition, len(next))
	for i, c := range next {
		c.LastTransitionTime = now
		for _, p := range prev {
			if p.Type == c.Type && p.Status == c.Status {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		out[i] = c
	}
	return out
}

// write returns how many objects it updated and the errors (conflicts are retried by the next pass).
func (w writer) write(ctx context.Context, s *snapshot, c compiled) (int, []error) {
	n := 0
	var errs []error
	done := func(err error) {
		if err != nil {
			errs = append(errs, err)
		} else {
			n++
		}
	}
	for _, obj := range s.classes {
		want, ok := c.classes[obj.Name]
		if !ok {
			continue
		}
		want.Conditions = keepTimes(obj.Status.Conditions, want.Conditions)
		if !equality.Semantic.DeepEqual(obj.Status, want) {
			cp := obj.DeepCopy()
			cp.Status = want
			_, err := w.gateway.GatewayV1().GatewayClasses().UpdateStatus(ctx, cp, metav1.UpdateOptions{})
			done(err)
		}
	}
	for _, obj := range s.gateways {
		want, ok := c.gateways[key(obj.Namespace, obj.Name)]
		if !ok {
			continue
		}
		want.Conditions = keepTimes(obj.Status.Conditions, want.Conditions)
		for i := range want.Listeners {
			var prev []metav1.Condition
			for _, p := range obj.Status.Listeners {
				if p.Name == want.Listeners[i].Name {
					prev = p.Conditions
				}
			}
			want.Listeners[i].Conditions = keepTimes(prev, want.Listeners[i].Conditions)
		}
		if !equality.Semantic.DeepEqual(obj.Status, want) {
			cp := obj.DeepCopy()
			cp.Status = want
			_, err := w.gateway.GatewayV1().Gateways(obj.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
			done(err)
		}
	}
	for _, obj := range s.routes {
		if obj.DeletionTimestamp != nil {
			continue
		}
		want := w.routeParents(obj, c.routes[key(obj.Namespace, obj.Name)])
		if !equality.Semantic.DeepEqual(obj.Status.Parents, want) {
			cp := obj.DeepCopy()
			cp.Status.Parents = want
			_, err := w.gateway.GatewayV1().HTTPRoutes(obj.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
			done(err)
		}
	}
	for _, obj := range s.ingresses {
		want, ok := c.ingresses[key(obj.Namespace, obj.Name)]
		if !ok || equality.Semantic.DeepEqual(obj.Status, want) {
			continue
		}
		cp := obj.DeepCopy()
		cp.Status = want
		_, err := w.kube.NetworkingV1().Ingresses(obj.Namespace).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
		done(err)
	}
	return n, errs
}

// routeParents: other controllers' entries as they are, then ours.
func (w writer) routeParents(obj *gwv1.HTTPRoute, ours []gwv1.RouteParentStatus) []gwv1.RouteParentStatus {
	out := []gwv1.RouteParentStatus{} // never null: the CRD requires status.parents
	for _, p := range obj.Status.Parents {
		if string(p.ControllerName) != w.controllerName {
			out = append(out, p)
		}
	}
	for _, p := range ours {
		var prev []metav1.Condition
		for _, q := range obj.Status.Parents {
			if string(q.ControllerName) == w.controllerName && equality.Semantic.DeepEqual(q.ParentRef, p.ParentRef) {
				prev = q.Conditions
			}
		}
		p.Conditions = keepTimes(prev, p.Conditions)
		out = append(out, p)
	}
	return out
}

var _ = netv1.IngressStatus{}
