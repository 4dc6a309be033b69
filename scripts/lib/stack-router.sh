# shellcheck shell=bash
# NetworkPolicy for the real node's pods: kube-router's policy controller only (--run-firewall; no BGP
# router, no service proxy, nothing dialled but the API server), built from its Go module. It writes iptables
# chains (KUBE-ROUTER-INPUT/FORWARD/OUTPUT, KUBE-NWPLCY-*, KUBE-POD-FW-*) and ipsets (KUBE-SRC-*, KUBE-DST-*)
# for the pods whose hostIP is the node's InternalIP (the bridge's gateway, stack-node.sh), and REJECTs what no
# policy of theirs allows. The kwok nodes' pods exist only as objects: nothing to enforce there.
#
# How the traffic meets it: pod-to-pod traffic is switched by the bridge, and reaches iptables' FORWARD
# chain only with net.bridge.bridge-nf-call-iptables=1 (set here, the old value put back by `down`).
# Traffic from the node itself (the kubelet's probes, the API server's proxy through node-egress) leaves
# from the bridge's gateway address, a LOCAL address, which kube-router lets into every pod ("permit the
# traffic to pods when source is the pod's local node").
#
# What `down` takes back: kube-router's jumps in INPUT/FORWARD/OUTPUT, its chains and its ipsets, by name
# (kube-router's own --cleanup-config also resets routing and IPVS state, and in v2.1.0 does not clean the
# policy chains at all); every other rule of the machine stays as it is. Its ClusterRole and binding live in
# etcd and go with the stack.

ROUTER_USER=archetype-local:kube-router # the CN of its client certificate; the ClusterRole binds this user
ROUTER_KUBECONFIG="$STACK_DIR/kube-router.kubeconfig"
ROUTER_STATE="$NODE_DIR/router-state" # the bridge-nf-call-iptables value before kube-router started
ROUTER_SYSCTL=net/bridge/bridge-nf-call-iptables
ROUTER_CHAINS_RE='^(KUBE-ROUTER-(INPUT|FORWARD|OUTPUT)|KUBE-NWPLCY-.*|KUBE-POD-FW-.*)$'
ROUTER_IPSETS_RE='^(inet6:)?KUBE-(SRC|DST)-'

ipt() { timeout 30 iptables -w 10 "$@"; }

# Its own client certificate of the stack's CA (made once; an existing stack dir gets it on the next up).
ensure_router_pki() {
	[[ -s $PKI_DIR/kube-router.crt && -s $ROUTER_KUBECONFIG ]] && return 0
	pki_client kube-router "$ROUTER_USER"
	[[ -s $PKI_DIR/kube-router.crt ]] || die "kube-router: openssl could not make its client certificate in $PKI_DIR"
	write_kubeconfig "$ROUTER_KUBECONFIG" kube-router
}

# Read only, and only what kube-router v2.1.0 reads with --run-firewall alone: the policy controller's pods,
# namespaces, networkpolicies and its node; services, endpoints and endpointslices because its informer
# factory starts those informers whatever runs, and gives up when they do not sync (--cache-sync-timeout).
# Its daemonset RBAC also grants leases and services/status: those are the load balancer allocator's.
ensure_router_rbac() {
	local out
	out=$(jq -cn '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole",
		metadata: {name: "archetype-local:kube-router", labels: {"app.kubernetes.io/managed-by": "local-stack"}},
		rules: [
			{apiGroups: [""], resources: ["pods", "namespaces", "nodes", "services", "endpoints"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"]},
			{apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"]}
		]}' |
		kapi PATCH "/apis/rbac.authorization.k8s.io/v1/clusterroles/archetype-local:kube-router?fieldManager=local-stack&force=true" \
			-H 'Content-Type: application/apply-patch+yaml' --data-binary @- 2>&1) ||
		die "kube-router: could not apply its ClusterRole: $out"
	out=$(jq -cn --arg user "$ROUTER_USER" '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding",
		metadata: {name: "archetype-local:kube-router", labels: {"app.kubernetes.io/managed-by": "local-stack"}},
		roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "archetype-local:kube-router"},
		subjects: [{apiGroup: "rbac.authorization.k8s.io", kind: "User", name: $user}]}' |
		kapi PATCH "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/archetype-local:kube-router?fieldManager=local-stack&force=true" \
			-H 'Content-Type: application/apply-patch+yaml' --data-binary @- 2>&1) ||
		die "kube-router: could not apply its ClusterRoleBinding: $out"
}

# Bridged frames through iptables: recorded once, set, put back by stop_network_policy.
ensure_bridge_netfilter() {
	if [[ ! -e /proc/sys/$ROUTER_SYSCTL ]]; then
		modprobe br_netfilter 2>/dev/null || true
		[[ -e /proc/sys/$ROUTER_SYSCTL ]] ||
			die "kube-router: /proc/sys/$ROUTER_SYSCTL is missing (no br_netfilter): bridged pod traffic would bypass the policies; or set ARCHETYPE_NETWORK_POLICY=0"
	fi
	mkdir -p "$ROUTER_STATE"
	[[ -s $ROUTER_STATE/bridge-nf-call-iptables ]] || cat "/proc/sys/$ROUTER_SYSCTL" >"$ROUTER_STATE/bridge-nf-call-iptables"
	[[ $(cat "/proc/sys/$ROUTER_SYSCTL") == 1 ]] || echo 1 >"/proc/sys/$ROUTER_SYSCTL" ||
		die "kube-router: could not set $ROUTER_SYSCTL=1"
}

# After the real node is Ready (kube-router reads the node's InternalIP once, at start, and exits without it).
start_network_policy() {
	[[ $NETWORK_POLICY == 1 ]] || return 0
	component_running kube-router && return 0
	command -v ipset >/dev/null || die "kube-router: the ipset command is missing (apt package ipset); run: scripts/local-stack build"
	ensure_router_pki
	ensure_router_rbac
	ensure_bridge_netfilter
	# NODE_NAME first: kube-router tries it, then the machine's hostname, and only then --hostname-override.
	# Health and metrics listeners off (its health port would listen on every address).
	NODE_NAME=$REAL_NODE_NAME start_bg kube-router "$BIN_ROUTER/kube-router" \
		--kubeconfig "$ROUTER_KUBECONFIG" --hostname-override "$REAL_NODE_NAME" \
		--run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
		--enable-ipv4=true --enable-ipv6=false --enable-pprof=false \
		--health-port=0 --metrics-port=0 \
		--service-cluster-ip-range 10.96.0.0/16 \
		--cache-sync-timeout=60s --iptables-sync-period=5m
	wait_ready kube-router 90 router_synced
}

# A full sync done: the top-level chain ends with kube-router's explicit ACCEPT of what passed the policies.
router_synced() {
	ipt -S FORWARD 2>/dev/null | grep -q -- '-j KUBE-ROUTER-FORWARD' &&
		ipt -S KUBE-ROUTER-FORWARD 2>/dev/null | grep -q -- '--mark 0x20000/0x20000 -j ACCEPT'
}

# Bounded: kube-router's jumps out of the built-in chains, then its chains (flushed first: they jump to each
# other), then its ipsets (only once no rule names them).
clean_router_host() {
	local chain n tries
	for chain in INPUT FORWARD OUTPUT; do
		for ((tries = 0; tries < 20; tries++)); do
			n=$(ipt -L "$chain" -n --line-numbers 2>/dev/null | awk '$2 ~ /^KUBE-ROUTER-/ { print $1; exit }')
			[[ -n $n ]] || break
			ipt -D "$chain" "$n" || break
		done
	done
	local chains
	chains=$(ipt -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep -E "$ROUTER_CHAINS_RE" || true)
	for chain in $chains; do ipt -F "$chain" 2>/dev/null || true; done
	for chain in $chains; do ipt -X "$chain" 2>/dev/null || log "could not delete iptables chain $chain"; done
	local set
	for set in $(timeout 30 ipset list -n 2>/dev/null | grep -E "$ROUTER_IPSETS_RE" || true); do
		timeout 30 ipset destroy "$set" 2>/dev/null || log "could not destroy ipset $set"
	done
	if [[ -s $ROUTER_STATE/bridge-nf-call-iptables ]]; then
		local was
		was=$(cat "$ROUTER_STATE/bridge-nf-call-iptables")
		[[ $(cat "/proc/sys/$ROUTER_SYSCTL" 2>/dev/null) == "$was" ]] || echo "$was" >"/proc/sys/$ROUTER_SYSCTL" ||
			log "could not restore $ROUTER_SYSCTL to $was"
	fi
	rm -rf "$ROUTER_STATE"
}

# After the node's pods are gone (they stay isolated until then); cleans up even when kube-router had died.
stop_network_policy() {
	stop_component kube-router
	command -v iptables >/dev/null && clean_router_host
	return 0
}
