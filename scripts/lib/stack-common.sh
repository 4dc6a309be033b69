# shellcheck shell=bash
# Shared settings and helpers for scripts/local-stack: paths, versions, logging,
# background processes started and stopped by pid, bounded waits.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIB_DIR="$REPO_ROOT/scripts/lib"
TOOLS_DIR="$REPO_ROOT/tools"

STACK_DIR=${ARCHETYPE_STACK_DIR:-/tmp/archetype-stack}
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/archetype-deploy

# Versions. Kubernetes and etcd follow the wrapper modules under tools/, so the
# cache key can never drift from what is built.
go_mod_version() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { print ($1 == "require" ? $3 : $2); exit }' "$1"; }
KUBE_VERSION=$(go_mod_version "$TOOLS_DIR/kubernetes/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(go_mod_version "$TOOLS_DIR/etcd/go.mod" go.etcd.io/etcd/server/v3)
KWOK_VERSION=v0.8.0
CRICTL_VERSION=v1.34.0 # sigs.k8s.io/cri-tools, the release line of the kubelet
BUILDX_VERSION=v0.38.2
KUBE_ROUTER_VERSION=v2.1.0 # github.com/cloudnativelabs/kube-router/v2: the real node's NetworkPolicy engine
# what renders a user's overlay or chart (GitHub's hosted runners ship both): on the tests' PATH, as there
KUSTOMIZE_VERSION=v5.8.1 # sigs.k8s.io/kustomize/kustomize/v5
HELM_VERSION=v4.3.2      # helm.sh/helm/v4
NODE_VERSION=${ARCHETYPE_NODE_VERSION:-24.22.3}
NPM_VERSION=${ARCHETYPE_NPM_VERSION:-11.21.2}
DEBIAN_SUITE=bookworm
BASE_RECIPE=1 # bump when the base image recipe changes
BASE_IMAGE=archetype/node-base:24
BASE_KEY="node-base-${DEBIAN_SUITE}-node${NODE_VERSION}-npm${NPM_VERSION}-r${BASE_RECIPE}"

# Addresses: everything on loopback.
REGISTRY_ADDR=127.0.0.1:${ARCHETYPE_REGISTRY_PORT:-5000}
# The same storage is also served with bearer-token auth, as ACR does: the
# registry on REGISTRY_BEARER_ADDR sends clients to the token server.
REGISTRY_BEARER_ADDR=127.0.0.1:${ARCHETYPE_REGISTRY_BEARER_PORT:-5001}
TOKEN_SERVER_ADDR=127.0.0.1:${ARCHETYPE_TOKEN_SERVER_PORT:-5002}
# The Microsoft Entra ID stand-in's issuer: the API server trusts the tokens signed with its key, for the
# AKS server application's audience, as AKS does (stack-kube.sh).
ENTRA_ISSUER_ADDR=127.0.0.1:${ARCHETYPE_ENTRA_ISSUER_PORT:-5003}
ENTRA_TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
ENTRA_KID=archetype-local-entra
ENTRA_ISSUER="https://$ENTRA_ISSUER_ADDR/$ENTRA_TENANT/v2.0"
AKS_SERVER_APP_ID=6dae42f8-4368-4678-94ff-3960e28e3630
REGISTRY_USER=archetype
# bearer mode only: a user (same password) the token server grants pull alone, as ACR an identity with AcrPull
REGISTRY_PULL_USER=archetype-pull
ETCD_PORT=${ARCHETYPE_ETCD_PORT:-2379}
ETCD_PEER_PORT=${ARCHETYPE_ETCD_PEER_PORT:-2380}
APISERVER_PORT=${ARCHETYPE_APISERVER_PORT:-6443}
CM_PORT=${ARCHETYPE_CONTROLLER_MANAGER_PORT:-10257}
SCHEDULER_PORT=${ARCHETYPE_SCHEDULER_PORT:-10259}
NODE_COUNT=${ARCHETYPE_NODE_COUNT:-2}
# The real node (kubelet + containerd): ARCHETYPE_REAL_NODE=0 leaves it out.
REAL_NODE=${ARCHETYPE_REAL_NODE:-1}
# Named localhost: the API server dials the node's Hostname address, so logs and
# exec go to 127.0.0.1 (a kubelet publishes no loopback InternalIP).
REAL_NODE_NAME=localhost
REAL_NODE_LABEL=archetype.local/real-node
KUBELET_PORT=${ARCHETYPE_KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${ARCHETYPE_KUBELET_HEALTHZ_PORT:-10248}
# The real node's pods: a /24 on a bridge of their own, with no route beyond it.
NODE_POD_CIDR=${ARCHETYPE_NODE_POD_CIDR:-10.245.0.0/24}
NODE_BRIDGE=${ARCHETYPE_NODE_BRIDGE:-archetype0}
# NetworkPolicy enforced for the real node's pods (kube-router's firewall, stack-router.sh):
# ARCHETYPE_NETWORK_POLICY=0 leaves it out (then no policy is enforced anywhere).
NETWORK_POLICY=${ARCHETYPE_NETWORK_POLICY:-1}
[[ $REAL_NODE == 1 ]] || NETWORK_POLICY=0
# Another socket (and extra dockerd flags, e.g. "--bridge=none --iptables=false"
# beside an engine that already owns docker0) lets a second engine run here.
DOCKER_SOCK=${ARCHETYPE_DOCKER_SOCK:-/var/run/docker.sock}
DOCKERD_FLAGS=${ARCHETYPE_DOCKERD_FLAGS:-}

BIN_KUBE="$CACHE_DIR/kubernetes-$KUBE_VERSION"
BIN_ETCD="$CACHE_DIR/etcd-$ETCD_VERSION"
BIN_KWOK="$CACHE_DIR/kwok-$KWOK_VERSION"
# The real node's kubelet: same module and version as the control plane, its own
# cache entry (a control plane cached before the real node existed stays valid).
BIN_KUBELET="$CACHE_DIR/kubelet-$KUBE_VERSION"
# kubectl of the control plane's version, for tests that make objects by hand the way users do
BIN_KUBECTL="$CACHE_DIR/kubectl-$KUBE_VERSION"
BIN_CRICTL="$CACHE_DIR/crictl-$CRICTL_VERSION"
BIN_BUILDX="$CACHE_DIR/buildx-$BUILDX_VERSION"
BIN_ROUTER="$CACHE_DIR/kube-router-$KUBE_ROUTER_VERSION"
BIN_KUSTOMIZE="$CACHE_DIR/kustomize-$KUSTOMIZE_VERSION"
BIN_HELM="$CACHE_DIR/helm-$HELM_VERSION"
BASE_TARBALL="$CACHE_DIR/base/$BASE_KEY.tar.gz"
# Our own tool: keyed by the hash of its source.
TOKEN_KEY=$(cat "$TOOLS_DIR/registry-token/go.mod" "$TOOLS_DIR/registry-token/main.go" | sha256sum | cut -c1-12)
BIN_TOKEN="$CACHE_DIR/registry-token-$TOKEN_KEY"
# tools/edge without its conformance module (scripts/edge-conformance builds that)
EDGE_KEY=$(cat "$TOOLS_DIR"/edge/go.mod "$TOOLS_DIR"/edge/go.sum "$TOOLS_DIR"/edge/*.go | sha256sum | cut -c1-12)
BIN_EDGE="$CACHE_DIR/edge-$EDGE_KEY"
EGRESS_KEY=$(cat "$TOOLS_DIR/node-egress/go.mod" "$TOOLS_DIR/node-egress/main.go" | sha256sum | cut -c1-12)
BIN_EGRESS="$CACHE_DIR/node-egress-$EGRESS_KEY"
ISSUER_KEY=$(cat "$TOOLS_DIR/entra-issuer/go.mod" "$TOOLS_DIR/entra-issuer/main.go" | sha256sum | cut -c1-12)
BIN_ISSUER="$CACHE_DIR/entra-issuer-$ISSUER_KEY"
# The pod sandbox image, built from tools/pause/pause.c (no image is ever pulled from outside).
PAUSE_KEY=$(cat "$TOOLS_DIR/pause/pause.c" | sha256sum | cut -c1-12)
PAUSE_TARBALL="$CACHE_DIR/pause/pause-$PAUSE_KEY.oci.tar"
PAUSE_IMAGE="archetype.local/pause:$PAUSE_KEY"
BUILD_LOGS="$CACHE_DIR/logs"

PID_DIR="$STACK_DIR/pids"
NODE_DIR="$STACK_DIR/node"
LOG_DIR="$STACK_DIR/logs"
PKI_DIR="$STACK_DIR/pki"
KUBECONFIG_ADMIN="$STACK_DIR/kubeconfig"

STOP_TIMEOUT=${ARCHETYPE_STOP_TIMEOUT:-20}

log() { printf '[local-stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[local-stack] ERROR: %s\n' "$*" >&2; exit 1; }

# fail_component NAME LOGFILE MESSAGE: say which part failed, show the end of its log.
fail_component() {
	local name=$1 logfile=$2 msg=$3
	{
		printf '[local-stack] ERROR: %s failed to start: %s\n' "$name" "$msg"
		if [[ -s $logfile ]]; then
			printf '[local-stack] last lines of %s:\n' "$logfile"
			# Only this run's lines: from the last start marker on.
			awk '/^=== local-stack: starting / { n = 0 } { buf[n++] = $0 } END { for (i = (n > 25 ? n - 25 : 0); i < n; i++) print buf[i] }' "$logfile" |
				sed 's/^/    /'
			printf '[local-stack] full log: %s\n' "$logfile"
		fi
	} >&2
	exit 1
}

# wait_until SECONDS CMD...: run CMD every 0.25 s until it succeeds or time runs out.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	"$@" >/dev/null 2>&1
}

# A pid we started is alive only if its command line still names our binary:
# a recycled pid is never ours.
pid_alive() {
	local pid=$1 exe=$2
	[[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$exe"
}

# pid_gone PID: the process has exited (no such process, or a zombie). Unlike pid_alive, it does not ask
# that the command line name the binary: right after start_bg the process may not have exec'd it yet (still
# the forked shell, or setsid), and a process we have just started cannot be a reused pid.
pid_gone() {
	local pid=$1 state
	[[ -n $pid && -r /proc/$pid/stat ]] || return 0
	state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 0
	[[ $state == Z || -z $state ]]
}

component_pid() { [[ -r $PID_DIR/$1.pid ]] && cat "$PID_DIR/$1.pid"; }
component_exe() { [[ -r $PID_DIR/$1.exe ]] && cat "$PID_DIR/$1.exe"; }
component_running() { pid_alive "$(component_pid "$1")" "$(component_exe "$1")"; }

# start_bg NAME EXE ARGS...: start EXE detached (own session, no inherited
# stdio, so callers that wait for our output never hang), log to LOG_DIR/NAME.log.
start_bg() {
	local name=$1 exe=$2
	shift 2
	mkdir -p "$PID_DIR" "$LOG_DIR"
	if component_running "$name"; then
		return 0
	fi
	[[ -x $exe ]] || die "$name: binary $exe is missing; run: scripts/local-stack build"
	log "starting $name"
	printf '=== local-stack: starting %s at %s: %s %s\n' "$name" "$(date -u +%FT%TZ)" "$exe" "$*" >>"$LOG_DIR/$name.log"
	# 9>&-: never hand the flock descriptor to a daemon (it would hold the lock forever).
	setsid "$exe" "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 9>&- &
	echo $! >"$PID_DIR/$name.pid"
	echo "$exe" >"$PID_DIR/$name.exe"
}

# ensure_alive NAME: fail with its log if the process we started has exited.
ensure_alive() {
	component_running "$1" || fail_component "$1" "$LOG_DIR/$1.log" "process exited"
}

# wait_ready NAME SECONDS CHECK...: wait for CHECK, failing fast if NAME died.
wait_ready() {
	local name=$1 secs=$2 deadline=$((SECONDS + $2))
	shift 2
	while ((SECONDS < deadline)); do
		"$@" >/dev/null 2>&1 && return 0
		if [[ -e $PID_DIR/$name.pid ]] && pid_gone "$(component_pid "$name")"; then
			fail_component "$name" "$LOG_DIR/$name.log" "process exited"
		fi
		sleep 0.25
	done
	"$@" >/dev/null 2>&1 || fail_component "$name" "$LOG_DIR/$name.log" "not ready after ${secs}s (check: $*)"
}

# stop_component NAME: SIGTERM, bounded wait, then SIGKILL.
stop_component() {
	local name=$1 pid exe
	pid=$(component_pid "$name") || return 0
	exe=$(component_exe "$name")
	if pid_alive "$pid" "$exe"; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + STOP_TIMEOUT))
		while pid_alive "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.2; done
		if pid_alive "$pid" "$exe"; then
			log "$name did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			deadline=$((SECONDS + 10))
			while pid_alive "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.2; done
		fi
	fi
	rm -f "$PID_DIR/$name.pid" "$PID_DIR/$name.exe"
}

# port_busy PORT: something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# check_port NAME PORT: refuse to start NAME over a port someone else holds.
check_port() {
	if ! component_running "$1" && port_busy "$2"; then
		die "$1: port 127.0.0.1:$2 is already in use by another process (not started by local-stack); free it or stop that process"
	fi
}

# umount_under DIR: unmount whatever is mounted below DIR (deepest first).
umount_under() {
	local dir mnt
	dir=$(realpath -m "$1")
	{ awk '{print $2}' /proc/self/mounts | grep -E "^${dir}(/|$)" || true; } | sort -r | while read -r mnt; do
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	done
	return 0
}

# safe_rm DIR: remove DIR, never crossing into a mount.
safe_rm() {
	local dir=$1
	[[ -e $dir ]] || return 0
	umount_under "$dir"
	if awk '{print $2}' /proc/self/mounts | grep -qE "^$(realpath -m "$dir")(/|$)"; then
		die "cannot remove $dir: something is still mounted below it"
	fi
	rm -rf --one-file-system "$dir"
}

# with_lock FILE CMD...: serialize concurrent runs (bounded wait).
with_lock() {
	local file=$1
	shift
	mkdir -p "$(dirname "$file")"
	(
		flock -w 3600 9 || die "timed out after 3600s waiting for lock $file (another local-stack run?)"
		"$@"
	) 9>"$file"
}
