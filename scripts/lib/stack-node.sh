# shellcheck shell=bash
# The real node beside the kwok nodes: Debian's containerd (root, state, socket
# and runc state in the stack dir) with a CNI bridge of its own, and a kubelet
# built from the control plane's Kubernetes version, registered as node
# "localhost" and tainted so that only pods that ask for it land there. Plus
# node-egress, the API server's only way to dial a kubelet or a pod.
#
# What this node changes outside the stack dir, and `down` takes back: the
# bridge (and the pods' veths and network namespaces), kube-router's iptables
# chains and ipsets and bridge-nf-call-iptables (stack-router.sh), cgroups under
# NODE_CGROUP, the kernel settings the kubelet sets (KUBELET_SYSCTLS, values
# recorded before it starts), the kubelet's /var/log/containers links and
# libcni's /var/lib/cni/results entries, the kubelet's device plugin socket
# (folders removed if up made them).

CONTAINERD_DIR="$NODE_DIR/containerd"
CONTAINERD_SOCK="$NODE_DIR/containerd.sock"
KUBELET_DIR="$NODE_DIR/kubelet"
CNI_NETWORK=archetype-node
NODE_CGROUP="/$NODE_BRIDGE" # the kubelet's cgroupRoot, in every cgroup v1 hierarchy
REAL_NODE_TAINT_KEY=$REAL_NODE_LABEL
NODE_STATE="$NODE_DIR/host-state" # what the machine looked like before the node started
KUBELET_SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes)
# Folders outside the stack dir that the kubelet (its log links, and the device
# plugin socket, whose path is fixed), libcni or the shims create.
NODE_SYSTEM_DIRS=(/var/log/containers /var/lib/cni /var/lib/cni/results /run/containerd /run/containerd/s
	/var/lib/kubelet /var/lib/kubelet/device-plugins)

# NODE_POD_CIDR must be a /24 (x.y.z.0/24): the bridge takes x.y.z.1, pods .10 on.
node_net_prefix() {
	[[ $NODE_POD_CIDR =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]] ||
		die "ARCHETYPE_NODE_POD_CIDR='$NODE_POD_CIDR' must be a /24 such as 10.245.0.0/24"
	echo "${BASH_REMATCH[1]}"
}
node_gateway() { echo "$(node_net_prefix).1"; }

crictl_node() { timeout 60 "$BIN_CRICTL/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --image-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s "$@"; }
ctr_node() { timeout 120 ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# Record, once, what the machine has before the node changes it.
node_record_host_state() {
	[[ -s $NODE_STATE/sysctls ]] && return 0
	mkdir -p "$NODE_STATE"
	local key dir
	for key in "${KUBELET_SYSCTLS[@]}"; do
		printf '%s=%s\n' "$key" "$(cat "/proc/sys/$key")"
	done >"$NODE_STATE/sysctls.tmp"
	: >"$NODE_STATE/created-dirs"
	for dir in "${NODE_SYSTEM_DIRS[@]}"; do
		[[ -e $dir ]] || echo "$dir" >>"$NODE_STATE/created-dirs"
	done
	mv "$NODE_STATE/sysctls.tmp" "$NODE_STATE/sysctls"
}

ensure_node_bridge() {
	local gw
	gw=$(node_gateway)
	if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
		ip link add "$NODE_BRIDGE" type bridge || die "real node: could not create bridge $NODE_BRIDGE"
	fi
	ip -4 addr show dev "$NODE_BRIDGE" | grep -qF " $gw/24 " || ip addr add "$gw/24" dev "$NODE_BRIDGE" ||
		die "real node: could not give $NODE_BRIDGE the address $gw/24"
	ip link set "$NODE_BRIDGE" up
}

write_node_config() {
	local prefix
	prefix=$(node_net_prefix)
	mkdir -p "$CONTAINERD_DIR" "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam" "$KUBELET_DIR" "$NODE_DIR/pod-logs" "$NODE_DIR/volume-plugins"
	# The pods' network: the bridge has the gateway address (so the host can
	# reach pods), but the pods get no route past their /24 (isGateway false, no
	# routes from IPAM, no masquerade) and the plugin never touches ip_forward.
	jq -n --arg name "$CNI_NETWORK" --arg bridge "$NODE_BRIDGE" --arg subnet "$NODE_POD_CIDR" \
		--arg start "$prefix.10" --arg gw "$prefix.1" --arg data "$NODE_DIR/cni/ipam" '{
		cniVersion: "1.0.0", name: $name,
		plugins: [{type: "bridge", bridge: $bridge, isGateway: false, ipMasq: false, hairpinMode: false,
			ipam: {type: "host-local", dataDir: $data, ranges: [[{subnet: $subnet, rangeStart: $start, gateway: $gw}]]}}]
	}' >"$NODE_DIR/cni/net.d/10-$CNI_NETWORK.conflist"
	# Pulls from the local registries over plain HTTP, credentials from the pod's imagePullSecrets.
	local addr
	for addr in "$REGISTRY_ADDR" "$REGISTRY_BEARER_ADDR"; do
		mkdir -p "$NODE_DIR/certs.d/$addr"
		printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$addr" "$addr" \
			>"$NODE_DIR/certs.d/$addr/hosts.toml"
	done
	# restrict_oom_score_adj: no CAP_SYS_RESOURCE here, so the sandbox's -998 would fail in runc.
	cat >"$CONTAINERD_DIR/config.toml" <<EOF
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CONTAINERD_SOCK"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_DIR/opt"

# the tasks service needs it loaded (the CRI uses runc v2); its runc state stays here too
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "$NODE_DIR/runc-v1"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$NODE_DIR/runc"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$NODE_DIR/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE_DIR/certs.d"
EOF
	# Kubelet: loopback only, client certificates and webhook authorization,
	# cgroupfs on cgroup v1, nothing in /var/lib/kubelet, /var/log/pods or
	# iptables; image GC off (the pause image cannot be pulled back).
	cat >"$KUBELET_DIR/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI_DIR/kubelet-serving.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: $NODE_CGROUP
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
podLogsDir: $NODE_DIR/pod-logs
volumePluginDir: $NODE_DIR/volume-plugins
clusterDomain: cluster.local
clusterDNS: [10.96.0.10]
resolvConf: ""
hairpinMode: none
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%, imagefs.inodesFree: 1%}
registerWithTaints:
- {key: $REAL_NODE_TAINT_KEY, value: "true", effect: NoSchedule}
EOF
}

ensure_node_cgroups() {
	local h
	for h in /sys/fs/cgroup/*/; do
		if [[ -e $h/cgroup.procs ]]; then mkdir -p "${h%/}$NODE_CGROUP"; fi
	done
}

containerd_answers() { timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
# ctr answers before containerd's CRI plugin is initialized; a kubelet started then exits at once
# ("server is not initialized yet"), as it once did with the node's old Ready status still showing.
cri_answers() { timeout 10 "$BIN_CRICTL/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 5s info >/dev/null 2>&1; }

start_node_egress() {
	component_running node-egress && return 0
	start_bg node-egress "$BIN_EGRESS/node-egress" -listen "$STACK_DIR/$EGRESS_SOCK_NAME" \
		-kubelet-host "$REAL_NODE_NAME" -kubelet-port "$KUBELET_PORT" \
		-pod-cidr "$NODE_POD_CIDR" -bridge "$NODE_BRIDGE"
}

start_containerd() {
	component_running containerd && return 0
	[[ -S $CONTAINERD_SOCK ]] && rm -f "$CONTAINERD_SOCK"
	start_bg containerd "$(command -v containerd)" --config "$CONTAINERD_DIR/config.toml"
}

# The sandbox image, imported from the cache (never pulled).
ensure_pause_image() {
	# grep reads the whole list (no -q): under pipefail, a grep that stops at its match leaves ctr writing
	# into a closed pipe (SIGPIPE) once the list is long, and the pipeline fails though the image is there
	ctr_node images ls -q 2>/dev/null | grep -xF "$PAUSE_IMAGE" >/dev/null && return 0
	[[ -s $PAUSE_TARBALL ]] || die "real node: $PAUSE_TARBALL is missing; run: scripts/local-stack build"
	local out
	out=$(ctr_node images import "$PAUSE_TARBALL" 2>&1) || die "real node: ctr images import $PAUSE_TARBALL failed: $out"
	# seen once right after a fresh start: the import reported done and the list lagged; bounded re-check
	for _ in 1 2 3 4 5; do
		ctr_node images ls -q | grep -xF "$PAUSE_IMAGE" >/dev/null && return 0
		sleep 1
	done
	die "real node: $PAUSE_IMAGE is not in containerd after the import: $out"
}

start_kubelet() {
	component_running kubelet && return 0
	check_port kubelet "$KUBELET_PORT"
	KUBELET_STARTED=$(date +%s)
	start_bg kubelet "$BIN_KUBELET/kubelet" \
		--config "$KUBELET_DIR/config.yaml" --kubeconfig "$STACK_DIR/kubelet.kubeconfig" \
		--root-dir "$KUBELET_DIR" --cert-dir "$KUBELET_DIR/pki" \
		--hostname-override "$REAL_NODE_NAME" --node-ip "$(node_gateway)" \
		--node-labels "$REAL_NODE_LABEL=true,node.kubernetes.io/instance-type=local-real-node"
}

# Ready, reported by the kubelet this start ran (not the Node's status left by an earlier one), and the node
# lifecycle controller has lifted the not-ready taint.
real_node_ready() {
	component_running kubelet || return 1
	kapi GET "/api/v1/nodes/$REAL_NODE_NAME" | jq -e --argjson since "${KUBELET_STARTED:-0}" '
		any(.status.conditions[]?; .type == "Ready" and .status == "True"
			and (.lastHeartbeatTime | fromdateiso8601) >= $since - 1)
		and all(.spec.taints[]?; .key != "node.kubernetes.io/not-ready" and .key != "node.kubernetes.io/unreachable")' >/dev/null
}

# The node's podCIDR, as nodeipam would set it (nodeipam is off): what `get nodes` and the pods agree on.
ensure_real_node_cidr() {
	kapi GET "/api/v1/nodes/$REAL_NODE_NAME" | jq -e '.spec.podCIDR' >/dev/null && return 0
	kapi PATCH "/api/v1/nodes/$REAL_NODE_NAME" -H 'Content-Type: application/merge-patch+json' \
		--data-binary "{\"spec\":{\"podCIDR\":\"$NODE_POD_CIDR\",\"podCIDRs\":[\"$NODE_POD_CIDR\"]}}" >/dev/null
}

start_real_node() {
	[[ $REAL_NODE == 1 ]] || return 0
	[[ $(id -u) == 0 ]] || die "real node: needs root (network namespaces, cgroups); or set ARCHETYPE_REAL_NODE=0"
	mkdir -p "$NODE_DIR"
	node_record_host_state
	ensure_node_bridge
	write_node_config
	ensure_node_cgroups
	start_containerd
	wait_ready containerd 30 containerd_answers
	wait_ready containerd 30 cri_answers
	ensure_pause_image
	start_kubelet
}

wait_real_node() {
	[[ $REAL_NODE == 1 ]] || return 0
	wait_ready kubelet 90 real_node_ready
	ensure_real_node_cidr
}

# pids_in_node_cgroups: every process in the node's cgroups (pods, shims that joined them).
pids_in_node_cgroups() {
	local h
	for h in /sys/fs/cgroup/*/; do
		if [[ -d ${h%/}$NODE_CGROUP ]]; then find "${h%/}$NODE_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
	done | sort -un
}

# pids_of_node_shims: containerd shims started for our containerd (they outlive it by design).
pids_of_node_shims() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		tr '\0' '\n' <"$f" 2>/dev/null | grep -qxF -- "$CONTAINERD_SOCK" || continue
		tr '\0' ' ' <"$f" 2>/dev/null | grep -q 'containerd-shim' || continue
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done
}

kill_pids() { # SIGNAL PID...
	local sig=$1
	shift
	(($# == 0)) || kill "-$sig" "$@" 2>/dev/null || true
}

stop_real_node() {
	# The kubelet first, or it starts again what is stopped below.
	stop_component kubelet
	if component_running containerd && containerd_answers; then
		# Through the CRI: each sandbox's network torn down by CNI DEL, then removed.
		local pods
		pods=$(crictl_node pods -q 2>/dev/null || true)
		if [[ -n $pods ]]; then
			log "removing $(wc -w <<<"$pods") pod sandbox(es) of the real node"
			# shellcheck disable=SC2086 # one id per word
			crictl_node stopp $pods >/dev/null 2>&1 || true
			# shellcheck disable=SC2086
			crictl_node rmp --force $pods >/dev/null 2>&1 || true
		fi
	fi
	stop_component containerd
	# What survived that (a sandbox the CRI could not stop): by pid, ours only.
	local pids left deadline
	pids=$(
		pids_of_node_shims
		pids_in_node_cgroups
	)
	if [[ -n $pids ]]; then
		log "killing leftover processes of the real node: $(echo $pids)"
		# shellcheck disable=SC2086
		kill_pids KILL $pids
		deadline=$((SECONDS + 10))
		while ((SECONDS < deadline)); do
			left=$(
				pids_of_node_shims
				pids_in_node_cgroups
			)
			[[ -z $left ]] && break
			sleep 0.2
		done
	fi
	# the pods are gone: only now their NetworkPolicy engine, its chains and ipsets (stack-router.sh)
	stop_network_policy
	stop_component node-egress
	clean_real_node_host
}

# Everything outside the stack dir that the node made, taken back.
clean_real_node_host() {
	# Network namespaces and rootfs mounts live under NODE_DIR: unmounting the
	# namespaces frees them, and their veths go with them.
	if [[ -d $NODE_DIR ]]; then umount_under "$NODE_DIR"; fi
	if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
		ip link delete "$NODE_BRIDGE" type bridge 2>/dev/null || log "could not delete bridge $NODE_BRIDGE"
	fi
	local h
	for h in /sys/fs/cgroup/*/; do
		[[ -d ${h%/}$NODE_CGROUP ]] || continue
		find "${h%/}$NODE_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null ||
			log "could not remove cgroup ${h%/}$NODE_CGROUP (processes left in it?)"
	done
	# CNI DEL drops these; what a sandbox that could not be stopped left (its network and its loopback)
	local cached id
	for cached in /var/lib/cni/results/"$CNI_NETWORK"-*; do
		[[ -e $cached ]] || continue
		id=${cached#/var/lib/cni/results/"$CNI_NETWORK"-}
		id=${id%-*}
		rm -f "$cached" "/var/lib/cni/results/cni-loopback-$id-lo"
	done
	local link
	for link in /var/log/containers/*.log; do
		if [[ -L $link && $(readlink "$link") == "$NODE_DIR"/* ]]; then rm -f "$link"; fi
	done
	if [[ -s $NODE_STATE/sysctls ]]; then
		local line
		while IFS= read -r line; do
			[[ $(cat "/proc/sys/${line%%=*}") == "${line#*=}" ]] || echo "${line#*=}" >"/proc/sys/${line%%=*}" ||
				log "could not restore ${line%%=*} to ${line#*=}"
		done <"$NODE_STATE/sysctls"
	fi
	if grep -qxF /var/lib/kubelet/device-plugins "$NODE_STATE/created-dirs" 2>/dev/null; then
		rm -f /var/lib/kubelet/device-plugins/kubelet.sock
	fi
	if [[ -f $NODE_STATE/created-dirs ]]; then
		local dir
		# deepest first; a folder someone else has put something in stays
		sort -r "$NODE_STATE/created-dirs" | while read -r dir; do
			if [[ -d $dir ]]; then rmdir "$dir" 2>/dev/null || true; fi
		done
	fi
	rm -rf "$NODE_STATE"
	return 0
}
