# shellcheck shell=bash
# The front door of the local target: tools/edge, our own controller for Ingresses of the class AKS's
# application routing add-on uses (webapprouting.kubernetes.azure.com) and for Gateway API (the standard
# channel CRDs of sigs.k8s.io/gateway-api, GatewayClass approuting-istio as AKS's Gateway API mode names it).
# Ingresses are served on 127.0.0.1 (ports 80 and 443), each Gateway on a loopback address of its own
# (127.0.0.2 on); requests go to the real node's pods through its bridge and nowhere else. It runs as its own
# identity with read access to what it routes and write access to status only.
# scripts/edge-conformance runs the upstream conformance suite against it.

EDGE_USER=archetype-local:edge
EDGE_KUBECONFIG="$STACK_DIR/edge.kubeconfig"
EDGE_HTTP_PORT=${ARCHETYPE_EDGE_HTTP_PORT:-80}
EDGE_HTTPS_PORT=${ARCHETYPE_EDGE_HTTPS_PORT:-443}
EDGE_HEALTH_ADDR=127.0.0.1:${ARCHETYPE_EDGE_HEALTH_PORT:-10280}
EDGE_CONTROLLER=archetype.local/edge
GATEWAY_CLASS=approuting-istio
GATEWAY_API_VERSION=v1.6.3

ensure_edge_pki() {
	[[ -s $PKI_DIR/edge.crt && -s $EDGE_KUBECONFIG ]] && return 0
	pki_client edge "$EDGE_USER"
	[[ -s $PKI_DIR/edge.crt ]] || die "edge: openssl could not make its client certificate in $PKI_DIR"
	write_kubeconfig "$EDGE_KUBECONFIG" edge
}

# apply_json PATH: server-side apply of the JSON object on stdin, fails the start on an error.
edge_apply() {
	local out
	out=$(kapi PATCH "$1?fieldManager=local-stack&force=true" -H 'Content-Type: application/apply-patch+yaml' --data-binary @- 2>&1) ||
		die "edge: could not apply $1: $out"
}

ensure_edge_rbac() {
	jq -cn '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole",
		metadata: {name: "archetype-local:edge", labels: {"app.kubernetes.io/managed-by": "local-stack"}},
		rules: [
			{apiGroups: [""], resources: ["services", "secrets", "namespaces"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingressclasses"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"]},
			{apiGroups: ["gateway.networking.k8s.io"], resources: ["gatewayclasses", "gateways", "httproutes", "referencegrants"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["gateway.networking.k8s.io"], resources: ["gatewayclasses/status", "gateways/status", "httproutes/status"], verbs: ["update"]}
		]}' | edge_apply /apis/rbac.authorization.k8s.io/v1/clusterroles/archetype-local:edge
	jq -cn --arg user "$EDGE_USER" '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding",
		metadata: {name: "archetype-local:edge", labels: {"app.kubernetes.io/managed-by": "local-stack"}},
		roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "archetype-local:edge"},
		subjects: [{apiGroup: "rbac.authorization.k8s.io", kind: "User", name: $user}]}' |
		edge_apply /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/archetype-local:edge
}

# The standard channel CRDs, copied out of the module at build time (build_edge), and the GatewayClass.
ensure_gateway_api() {
	local out
	out=$("$BIN_KUBECTL/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" apply --server-side --force-conflicts \
		--field-manager local-stack -f "$BIN_EDGE/crds/" 2>&1) || die "edge: could not apply the Gateway API CRDs: $out"
	"$BIN_KUBECTL/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" wait --for condition=Established --timeout 60s \
		crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
		crd/httproutes.gateway.networking.k8s.io crd/referencegrants.gateway.networking.k8s.io >/dev/null 2>&1 ||
		die "edge: the Gateway API CRDs were not Established within 60 s"
	jq -cn --arg name "$GATEWAY_CLASS" --arg controller "$EDGE_CONTROLLER" '{apiVersion: "gateway.networking.k8s.io/v1",
		kind: "GatewayClass", metadata: {name: $name, labels: {"app.kubernetes.io/managed-by": "local-stack"}},
		spec: {controllerName: $controller, description: "local stand-in for AKS application routing (tools/edge)"}}' |
		edge_apply "/apis/gateway.networking.k8s.io/v1/gatewayclasses/$GATEWAY_CLASS"
}

edge_ready() { curl -sf --max-time 3 "http://$EDGE_HEALTH_ADDR/readyz" >/dev/null; }

# After the IngressClass and the real node (without one, no pod can be reached: every request answers 503).
start_edge() {
	component_running edge && return 0
	ensure_edge_pki
	ensure_edge_rbac
	ensure_gateway_api
	local pods=()
	[[ $REAL_NODE == 1 ]] && pods=(-pod-cidr "$NODE_POD_CIDR" -bridge "$NODE_BRIDGE")
	start_bg edge "$BIN_EDGE/edge" -kubeconfig "$EDGE_KUBECONFIG" -controller-name "$EDGE_CONTROLLER" \
		-ingress-controller "$INGRESS_CLASS/nginx" -ingress-ip 127.0.0.1 \
		-ingress-http-port "$EDGE_HTTP_PORT" -ingress-https-port "$EDGE_HTTPS_PORT" \
		-gateway-ips 127.0.0.2-127.0.0.254 -health "$EDGE_HEALTH_ADDR" "${pods[@]}"
	wait_ready edge 60 edge_ready
}
