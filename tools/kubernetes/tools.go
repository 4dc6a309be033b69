//go:build tools

// Package tools pins the Kubernetes commands that scripts/local-stack builds:
// the control plane, the kubelet of the stack's real node, and kubectl for the tests
// that make objects by hand.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
