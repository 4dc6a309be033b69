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
	if [[ -S $DOCKER_SOCK ]]; then
		# An engine may be starting right now; a socket nobody listens on is stale.
		wait_until 10 docker_answers && return 0
		if ss -xlpn 2>/dev/null | grep -qF " $DOCKER_SOCK "; then
			die "dockerd: something listens on $DOCKER_SOCK but does not answer /_ping; stop it or set ARCHETYPE_DOCKER_SOCK"
		fi
		rm -f "$DOCKER_SOCK"
	fi
	mkdir -p "$DOCKER_DIR/data" "$DOCKER_DIR/exec"
	# shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of flags
	start_bg dockerd /usr/sbin/dockerd \
		--data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
		--pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$DOCKER_SOCK" $DOCKERD_FLAGS
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
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" timeout 30 docker version --format '{{.Client.APIVersion}} / {{.Server.APIVersion}}' 2>&1) ||
		die "the docker client ($(command -v docker)) cannot talk to the engine on $DOCKER_SOCK: $out
  (try: export DOCKER_API_VERSION=1.41)"
}

# buildx goes to ~/.docker/cli-plugins and, as root, to the system plugin dir
# too, so a client with a private DOCKER_CONFIG (the action's) finds it.
install_buildx() {
	[[ -x $BIN_BUILDX/buildx ]] || die "buildx: $BIN_BUILDX/buildx is missing; run: scripts/local-stack build"
	local dirs=("${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins") dir
	[[ $(id -u) == 0 ]] && dirs+=(/usr/local/lib/docker/cli-plugins)
	for dir in "${dirs[@]}"; do
		cmp -s "$BIN_BUILDX/buildx" "$dir/docker-buildx" && continue
		mkdir -p "$dir"
		install -m 0755 "$BIN_BUILDX/buildx" "$dir/docker-buildx.tmp"
		mv "$dir/docker-buildx.tmp" "$dir/docker-buildx"
		log "installed buildx $BUILDX_VERSION as $dir/docker-buildx"
	done
	local out
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" timeout 30 docker buildx version 2>&1) || die "buildx: 'docker buildx version' failed: $out"
	[[ $out == *"${BUILDX_VERSION}"* ]] || die "buildx: 'docker buildx version' printed '$out', expected $BUILDX_VERSION"
}

ensure_base_image() {
	local key
	key=$(DOCKER_HOST="unix://$DOCKER_SOCK" timeout 30 docker image inspect --format '{{ index .Config.Labels "local.archetype.base-key" }}' "$BASE_IMAGE" 2>/dev/null || true)
	[[ $key == "$BASE_KEY" ]] && return 0
	[[ -s $BASE_TARBALL ]] || die "base image: $BASE_TARBALL is missing; run: scripts/local-stack build"
	log "importing $BASE_IMAGE from $BASE_TARBALL"
	local out
	out=$(DOCKER_HOST="unix://$DOCKER_SOCK" timeout 600 docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change "ENV NODE_VERSION=$NODE_VERSION" \
		--change "LABEL local.archetype.base-key=$BASE_KEY" \
		--change 'CMD ["node"]' \
		"$BASE_TARBALL" "$BASE_IMAGE" 2>&1) || die "base image: docker import of $BASE_TARBALL failed: $out"
}

registry_password() { cat "$REGISTRY_DIR/password"; }

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@"; }

# registry_answers: /v2/ refuses anonymous requests and accepts our credentials.
registry_answers() {
	[[ $(http_code "http://$REGISTRY_ADDR/v2/") == 401 &&
		$(http_code -u "$REGISTRY_USER:$(registry_password)" "http://$REGISTRY_ADDR/v2/") == 200 ]]
}

# registry_bearer_answers: /v2/ challenges with Bearer, and a token from the
# token server (Basic auth, as docker does) opens it.
registry_bearer_answers() {
	local challenge token
	challenge=$(curl -s -D - -o /dev/null --max-time 3 "http://$REGISTRY_BEARER_ADDR/v2/" | tr -d '\r' | grep -i '^www-authenticate: Bearer ') || return 1
	token=$(curl -sf --max-time 3 -u "$REGISTRY_USER:$(registry_password)" \
		"http://$TOKEN_SERVER_ADDR/oauth2/token?service=$REGISTRY_BEARER_ADDR&scope=registry:catalog:*" | jq -r .token) || return 1
	[[ -n $challenge && $(http_code -H "Authorization: Bearer $token" "http://$REGISTRY_BEARER_ADDR/v2/") == 200 ]]
}

# registry_config FILE ADDR AUTH-YAML: both registries serve the same storage
# (no in-memory blob cache, which would go stale across the two).
registry_config() {
	cat >"$1" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $2
  secret: $(openssl rand -hex 16)
  headers:
    X-Content-Type-Options: [nosniff]
auth:
$3
EOF
}

start_registry() {
	command -v docker-registry >/dev/null || die "registry: docker-registry is not installed (apt-get install docker-registry)"
	mkdir -p "$REGISTRY_DIR/data"
	if [[ ! -s $REGISTRY_DIR/password ]]; then
		(umask 077 && openssl rand -hex 16 >"$REGISTRY_DIR/password")
	fi
	if ! component_running registry; then
		check_port registry "${REGISTRY_ADDR##*:}"
		htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$(registry_password)" 2>/dev/null ||
			die "registry: htpasswd could not write $REGISTRY_DIR/htpasswd"
		registry_config "$REGISTRY_DIR/config.yml" "$REGISTRY_ADDR" "  htpasswd:
    realm: archetype-local-registry
    path: $REGISTRY_DIR/htpasswd"
		start_bg registry "$(command -v docker-registry)" serve "$REGISTRY_DIR/config.yml"
	fi
	if [[ ! -s $REGISTRY_DIR/token.crt ]]; then
		openssl ecparam -name prime256v1 -genkey -noout -out "$REGISTRY_DIR/token.key" 2>/dev/null
		openssl req -x509 -new -key "$REGISTRY_DIR/token.key" -subj "/CN=archetype-local-token" -days 365 -sha256 \
			-out "$REGISTRY_DIR/token.crt" 2>/dev/null || die "registry-token: openssl could not make the signing certificate"
	fi
	if ! component_running registry-token; then
		check_port registry-token "${TOKEN_SERVER_ADDR##*:}"
		start_bg registry-token "$BIN_TOKEN/registry-token" -addr "$TOKEN_SERVER_ADDR" \
			-user "$REGISTRY_USER" -pull-user "$REGISTRY_PULL_USER" -password-file "$REGISTRY_DIR/password" \
			-key "$REGISTRY_DIR/token.key" -cert "$REGISTRY_DIR/token.crt" -issuer archetype-local-token
	fi
	if ! component_running registry-bearer; then
		check_port registry-bearer "${REGISTRY_BEARER_ADDR##*:}"
		registry_config "$REGISTRY_DIR/config-bearer.yml" "$REGISTRY_BEARER_ADDR" "  token:
    realm: http://$TOKEN_SERVER_ADDR/oauth2/token
    service: $REGISTRY_BEARER_ADDR
    issuer: archetype-local-token
    rootcertbundle: $REGISTRY_DIR/token.crt"
		start_bg registry-bearer "$(command -v docker-registry)" serve "$REGISTRY_DIR/config-bearer.yml"
	fi
}

wait_registry() {
	wait_ready registry 30 registry_answers
	wait_ready registry-token 30 curl -sf --max-time 3 "http://$TOKEN_SERVER_ADDR/healthz"
	wait_ready registry-bearer 30 registry_bearer_answers
}
