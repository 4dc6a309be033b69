package conformance

import (
	"io/fs"
	"os"
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
)

// TestConformance: the upstream suite, for the features the controller's
// GatewayClass claims in its status (tools/edge/features.go). scripts/edge-conformance
// builds and pushes the echo server and sets the environment.
func TestConformance(t *testing.T) {
	image := os.Getenv("EDGE_CONFORMANCE_IMAGE")
	if image == "" {
		t.Skip("EDGE_CONFORMANCE_IMAGE is not set: run scripts/edge-conformance")
	}
	opts := conformance.DefaultOptions(t)
	opts.ManifestFS = []fs.FS{manifestFS{
		base:    &conformance.Manifests,
		node:    realNode{image: image, label: os.Getenv("REAL_NODE_LABEL"), pullSecret: os.Getenv("EDGE_CONFORMANCE_PULL_SECRET")},
		dropped: map[string]bool{"gateway-conformance-infra/coredns": true},
	}}
	opts.GatewayClassName = envOr("EDGE_CONFORMANCE_CLASS", "approuting-istio")
	opts.ReportOutputPath = os.Getenv("EDGE_CONFORMANCE_REPORT")
	opts.ConformanceProfiles = []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName}
	opts.Implementation = confv1.Implementation{
		Organization: "archetype-deploy",
		Project:      "edge (the local target's controller, tools/edge)",
		URL:          "https://github.com/archetype-deploy/archetype-deploy/tree/main/tools/edge",
		Version:      "v0.1.0",
		Contact:      []string{"@archetype-deploy/maintainers"},
	}
	// the suite's namespaces and pods go afterwards unless kept for a quicker next run
	opts.CleanupBaseResources = os.Getenv("EDGE_CONFORMANCE_KEEP") != "1"
	if run := os.Getenv("EDGE_CONFORMANCE_RUN"); run != "" {
		opts.RunTest = run
	}
	conformance.RunConformanceWithOptions(t, opts)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
