# shellcheck shell=bash
# Docker engine (Debian's docker.io, data in the stack dir), the buildx CLI
# plugin, the base image, and the authenticated OCI registry on 127.0.0.1:5000.

DOCKER_DIR="$STACK_DIR/docker"
REGISTRY_DIR="$STACK_DIR/registry"

docker_answers() { curl -sf --max-time 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping | grep -q OK; }

start_docker() {
	if component_running dockerd || docker_answers; then
		component_running dockerd || log "using the Docker engine already answering on $DOCKER_SOCK"
		return 0
	fi
	# A socket left by a dead engine would make dockerd refuse to start.
	if [[ -S $DOCKER_SOCK ]] && ! pgrep -x dockerd >/dev/null; then
		rm -f "$DOCKER_SOCK"
	fi
	pgrep -x dockerd >/dev/null &&
		die "dockerd: a dockerd not started by local-stack is running but $DOCKER_SOCK does not answer; stop it or fix it"
	mkdir -p "$DOCKER_DIR/data" "$DOCKER_DIR/exec"
	start_bg dockerd /usr/sbin/dockerd \
		--data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
		--pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$DOCKER_SOCK"
}

wait_docker() {
	wait_ready dockerd 60 docker_answers
	docker_answers || die "dockerd: $DOCKER_SOCK does not answer /_ping"
}

# The machine's docker client may be newer than the engine (Docker 28 client,
# API 1.50, vs engine 20.10, API 1.41): the client negotiates down. Check it.
check_docker_client() {
	command -v docker >/dev/null || die "no docker client on PATH (Debian's docker.io installs /usr/bin/docker)"
	local out
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker version --format '{{.Client.APIVersion}} / {{.Server.APIVersion}}' 2>&1) ||
		die "the docker client ($(command -v docker)) cannot talk to the engine on $DOCKER_SOCK: $out
  (try: export DOCKER_API_VERSION=1.41)"
}

install_buildx() {
	local dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
	[[ -x $BIN_BUILDX/buildx ]] || die "buildx: $BIN_BUILDX/buildx is missing; run: scripts/local-stack build"
	if ! cmp -s "$BIN_BUILDX/buildx" "$dir/docker-buildx"; then
		mkdir -p "$dir"
		install -m 0755 "$BIN_BUILDX/buildx" "$dir/docker-buildx.tmp"
		mv "$dir/docker-buildx.tmp" "$dir/docker-buildx"
		log "installed buildx $BUILDX_VERSION as $dir/docker-buildx"
	fi
	local out
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker buildx version 2>&1) || die "buildx: 'docker buildx version' failed: $out"
	[[ $out == *"${BUILDX_VERSION}"* ]] || die "buildx: 'docker buildx version' printed '$out', expected $BUILDX_VERSION"
}

ensure_base_image() {
	local key
	key=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker image inspect --format '{{ index .Config.Labels "local.archetype.base-key" }}' "$BASE_IMAGE" 2>/dev/null || true)
	[[ $key == "$BASE_KEY" ]] && return 0
	[[ -s $BASE_TARBALL ]] || die "base image: $BASE_TARBALL is missing; run: scripts/local-stack build"
	log "importing $BASE_IMAGE from $BASE_TARBALL"
	local out
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change "ENV NODE_VERSION=$NODE_VERSION" \
		--change "LABEL local.archetype.base-key=$BASE_KEY" \
		--change 'CMD ["node"]' \
		"$BASE_TARBALL" "$BASE_IMAGE" 2>&1) || die "base image: docker import of $BASE_TARBALL failed: $out"
}

registry_password() { cat "$REGISTRY_DIR/password"; }

# registry_answers: /v2/ refuses anonymous requests and accepts our credentials.
registry_answers() {
	local anon auth
	anon=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$REGISTRY_ADDR/v2/") || return 1
	auth=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -u "$REGISTRY_USER:$(registry_password)" "http://$REGISTRY_ADDR/v2/") || return 1
	[[ $anon == 401 && $auth == 200 ]]
}

start_registry() {
	component_running registry && return 0
	check_port registry "${REGISTRY_ADDR##*:}"
	command -v docker-registry >/dev/null || die "registry: docker-registry is not installed (apt-get install docker-registry)"
	mkdir -p "$REGISTRY_DIR/data"
	if [[ ! -s $REGISTRY_DIR/password ]]; then
		(umask 077 && openssl rand -hex 16 >"$REGISTRY_DIR/password")
	fi
	htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$(registry_password)" 2>/dev/null ||
		die "registry: htpasswd could not write $REGISTRY_DIR/htpasswd"
	cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  secret: $(openssl rand -hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: archetype-local-registry
    path: $REGISTRY_DIR/htpasswd
EOF
	start_bg registry "$(command -v docker-registry)" serve "$REGISTRY_DIR/config.yml"
}

wait_registry() { wait_ready registry 30 registry_answers; }
