# shellcheck shell=bash
# Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, and kwok playing NODE_COUNT nodes. All on 127.0.0.1. The real
# node beside them is in stack-node.sh.

ETCD_DIR="$STACK_DIR/etcd"
KWOK_NODE_ANNOTATION=kwok.x-k8s.io/node=fake
POD_CIDR_PREFIX=10.244 # node i gets 10.244.i.0/24; node-egress refuses them (see egress below)

start_etcd() {
	component_running etcd && return 0
	check_port etcd "$ETCD_PORT"
	check_port etcd "$ETCD_PEER_PORT"
	mkdir -p "$ETCD_DIR"
	start_bg etcd "$BIN_ETCD/etcd" \
		--name archetype --data-dir "$ETCD_DIR/data" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "archetype=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync --log-level warn
}

etcd_answers() { curl -sf --max-time 3 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }

# The API server sends all traffic for nodes, pods and services (proxy, logs,
# exec, port-forward) to node-egress on a unix socket (HTTP CONNECT). It lets
# through only the real node's kubelet (localhost:$KUBELET_PORT, at 127.0.0.1)
# and the real node's pods (dialed through its bridge only); kwok nodes and
# their pods are refused at once. Nothing the API server dials leaves this
# machine. Without the real node nothing listens there: every such call fails.
EGRESS_SOCK_NAME=cluster-egress.sock

write_egress_config() {
	cat >"$STACK_DIR/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $STACK_DIR/$EGRESS_SOCK_NAME
EOF
}

# Bearer tokens are checked as AKS checks Microsoft Entra tokens: a JWT issuer (structured authentication
# configuration) whose discovery document and keys the API server reads from entra-issuer, audience the
# AKS server application, expiry enforced, the user named by the token's oid (an Entra object id, as AKS
# names it) and its groups by the groups claim. Client certificates keep working beside it.
write_authentication_config() {
	local ca
	ca=$(sed 's/^/        /' "$PKI_DIR/ca.crt")
	cat >"$STACK_DIR/authentication.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
  - issuer:
      url: $ENTRA_ISSUER
      audiences: [$AKS_SERVER_APP_ID]
      certificateAuthority: |
$ca
    claimMappings:
      username:
        claim: oid
        prefix: ''
      groups:
        claim: groups
        prefix: ''
EOF
}

start_entra_issuer() {
	component_running entra-issuer && return 0
	check_port entra-issuer "${ENTRA_ISSUER_ADDR##*:}"
	start_bg entra-issuer "$BIN_ISSUER/entra-issuer" -addr "$ENTRA_ISSUER_ADDR" -tenant "$ENTRA_TENANT" \
		-cert "$PKI_DIR/entra-issuer.crt" -key "$PKI_DIR/entra-issuer.key" \
		-signing-public-key "$PKI_DIR/entra-signing.pub" -kid "$ENTRA_KID"
}

entra_issuer_answers() {
	curl -sf --max-time 3 --cacert "$PKI_DIR/ca.crt" "https://$ENTRA_ISSUER_ADDR/healthz" | grep -q ok
}

start_apiserver() {
	component_running kube-apiserver && return 0
	check_port kube-apiserver "$APISERVER_PORT"
	write_egress_config
	write_authentication_config
	start_bg kube-apiserver "$BIN_KUBE/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
		--tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
		--client-ca-file "$PKI_DIR/ca.crt" \
		--authentication-config "$STACK_DIR/authentication.yaml" \
		--requestheader-client-ca-file "$PKI_DIR/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
		--requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
		--requestheader-extra-headers-prefix X-Remote-Extra- \
		--proxy-client-cert-file "$PKI_DIR/front-proxy-client.crt" --proxy-client-key-file "$PKI_DIR/front-proxy-client.key" \
		--authorization-mode Node,RBAC \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI_DIR/sa.pub" --service-account-signing-key-file "$PKI_DIR/sa.key" \
		--service-cluster-ip-range 10.96.0.0/16 \
		--endpoint-reconciler-type none \
		--egress-selector-config-file "$STACK_DIR/egress-selector.yaml" \
		--kubelet-preferred-address-types Hostname \
		--kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" \
		--kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority "$PKI_DIR/ca.crt" \
		--allow-privileged=true --profiling=false \
		--cert-dir "$STACK_DIR/kube-apiserver"
}

kube_healthz() { curl -sf --max-time 3 -k "https://127.0.0.1:$1/healthz" | grep -q ok; }
apiserver_ready() { kapi GET /readyz | grep -q ok; }

start_controllers() {
	if ! component_running kube-controller-manager; then
		check_port kube-controller-manager "$CM_PORT"
		mkdir -p "$STACK_DIR/kube-controller-manager"
		# nodeipam off: nodes carry their podCIDR. The node lifecycle controller
		# stays on: only it lifts the not-ready taint once kwok reports Ready.
		start_bg kube-controller-manager "$BIN_KUBE/kube-controller-manager" \
			--kubeconfig "$STACK_DIR/controller-manager.kubeconfig" \
			--authentication-kubeconfig "$STACK_DIR/controller-manager.kubeconfig" \
			--authorization-kubeconfig "$STACK_DIR/controller-manager.kubeconfig" \
			--bind-address 127.0.0.1 --secure-port "$CM_PORT" --cert-dir "$STACK_DIR/kube-controller-manager" \
			--leader-elect=false --controllers '*,-nodeipam' \
			--service-account-private-key-file "$PKI_DIR/sa.key" --root-ca-file "$PKI_DIR/ca.crt" \
			--use-service-account-credentials=true \
			--cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" \
			--profiling=false
	fi
	if ! component_running kube-scheduler; then
		check_port kube-scheduler "$SCHEDULER_PORT"
		mkdir -p "$STACK_DIR/kube-scheduler"
		start_bg kube-scheduler "$BIN_KUBE/kube-scheduler" \
			--kubeconfig "$STACK_DIR/scheduler.kubeconfig" \
			--authentication-kubeconfig "$STACK_DIR/scheduler.kubeconfig" \
			--authorization-kubeconfig "$STACK_DIR/scheduler.kubeconfig" \
			--bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --cert-dir "$STACK_DIR/kube-scheduler" \
			--leader-elect=false --profiling=false
	fi
	if ! component_running kwok; then
		cp "$LIB_DIR/kwok-stages.yaml" "$STACK_DIR/kwok-stages.yaml"
		start_bg kwok "$BIN_KWOK/kwok" \
			--kubeconfig "$STACK_DIR/kwok.kubeconfig" --config "$STACK_DIR/kwok-stages.yaml" \
			--manage-nodes-with-annotation-selector "$KWOK_NODE_ANNOTATION" \
			--node-ip 127.0.0.1 --cidr "$POD_CIDR_PREFIX.0.0/16" --node-lease-duration-seconds 40
	fi
}

node_json() { # NAME INDEX
	jq -n --arg name "$1" --arg cidr "$POD_CIDR_PREFIX.$2.0/24" --arg kv "$KUBE_VERSION" \
		--arg cpu "${ARCHETYPE_NODE_CPU:-2}" --arg mem "${ARCHETYPE_NODE_MEMORY:-8Gi}" --arg pods "${ARCHETYPE_NODE_PODS:-110}" '{
		apiVersion: "v1", kind: "Node",
		metadata: {
			name: $name,
			annotations: {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			labels: {
				"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "kubernetes.io/hostname": $name,
				"type": "kwok", "node.kubernetes.io/instance-type": "kwok"
			}
		},
		spec: {podCIDR: $cidr, podCIDRs: [$cidr]},
		status: {
			addresses: [{type: "InternalIP", address: "127.0.0.1"}, {type: "Hostname", address: $name}],
			allocatable: {cpu: $cpu, memory: $mem, pods: $pods, "ephemeral-storage": "100Gi"},
			capacity: {cpu: $cpu, memory: $mem, pods: $pods, "ephemeral-storage": "100Gi"},
			nodeInfo: {architecture: "amd64", operatingSystem: "linux", kubeletVersion: $kv,
				kubeProxyVersion: $kv, containerRuntimeVersion: "kwok://v0.8.0", kernelVersion: "kwok",
				osImage: "kwok", bootID: "", machineID: "", systemUUID: ""}
		}
	}'
}

ensure_nodes() {
	local i name out
	for ((i = 0; i < NODE_COUNT; i++)); do
		name="kwok-node-$i"
		kapi GET "/api/v1/nodes/$name" >/dev/null 2>&1 && continue
		out=$(node_json "$name" "$i" | kapi POST /api/v1/nodes -H 'Content-Type: application/json' --data-binary @- 2>&1) ||
			fail_component kwok "$LOG_DIR/kwok.log" "could not create node $name: $out"
	done
}

# The IngressClass of the AKS application routing add-on (k8s/ingress.yaml names it): the local
# cluster looks like an AKS cluster with the add-on, so the action's preflight finds the class.
# Server-side apply: idempotent, and it takes over a class a test created earlier.
INGRESS_CLASS=webapprouting.kubernetes.azure.com

ensure_ingress_class() {
	local out
	out=$(printf '%s\n' \
		'apiVersion: networking.k8s.io/v1' 'kind: IngressClass' \
		"metadata: {name: $INGRESS_CLASS}" \
		"spec: {controller: $INGRESS_CLASS/nginx}" |
		kapi PATCH "/apis/networking.k8s.io/v1/ingressclasses/$INGRESS_CLASS?fieldManager=local-stack&force=true" \
			-H 'Content-Type: application/apply-patch+yaml' --data-binary @- 2>&1) ||
		fail_component kube-apiserver "$LOG_DIR/kube-apiserver.log" "could not apply IngressClass $INGRESS_CLASS: $out"
}

# Nodes Ready and schedulable (the not-ready taint lifted), and the default
# service account made, so that pods can be created and scheduled.
cluster_ready() {
	local ready
	ready=$(kapi GET /api/v1/nodes | jq '[.items[]
		| select(.metadata.annotations["kwok.x-k8s.io/node"] == "fake")
		| select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))
		| select(all(.spec.taints[]?; .key != "node.kubernetes.io/not-ready" and .key != "node.kubernetes.io/unreachable"))
		] | length') || return 1
	((ready >= NODE_COUNT)) || return 1
	kapi GET /api/v1/namespaces/default/serviceaccounts/default >/dev/null
}
