# shellcheck shell=bash
# Certificates (openssl) and kubeconfigs for the local control plane: one CA,
# the API server's serving certificate, a client certificate per component,
# and the service-account signing key pair. Made once per stack dir.

pki_cert() { # NAME SUBJECT EXTFILE-CONTENT
	local name=$1 subj=$2 ext=$3
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
	openssl req -new -key "$PKI_DIR/$name.key" -subj "$subj" -out "$PKI_DIR/$name.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$PKI_DIR/$name.ext"
	openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
		-CAcreateserial -days 365 -sha256 -extfile "$PKI_DIR/$name.ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
	rm -f "$PKI_DIR/$name.csr" "$PKI_DIR/$name.ext"
}

pki_client() { # NAME CN [O]
	local subj="/CN=$2"
	[[ -n ${3:-} ]] && subj="/O=$3/CN=$2"
	pki_cert "$1" "$subj" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
}

write_kubeconfig() { # FILE USER-CERT-NAME
	local file=$1 name=$2
	local ca crt key
	ca=$(base64 -w0 <"$PKI_DIR/ca.crt")
	crt=$(base64 -w0 <"$PKI_DIR/$name.crt")
	key=$(base64 -w0 <"$PKI_DIR/$name.key")
	cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: archetype-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $ca
users:
- name: $name
  user:
    client-certificate-data: $crt
    client-key-data: $key
contexts:
- name: archetype-local
  context:
    cluster: archetype-local
    user: $name
    namespace: default
current-context: archetype-local
EOF
	chmod 600 "$file.tmp"
	mv "$file.tmp" "$file"
}

PKI_RECIPE=4 # bump when the set of certificates changes: older stack dirs regenerate

ensure_pki() {
	[[ $(cat "$PKI_DIR/done" 2>/dev/null) == "$PKI_RECIPE" ]] && return 0
	if component_running kube-apiserver; then
		die "the running stack's certificates come from an older local-stack; run: scripts/local-stack down && scripts/local-stack up"
	fi
	log "generating certificates in $PKI_DIR"
	rm -rf "$PKI_DIR"
	mkdir -p "$PKI_DIR"
	chmod 700 "$PKI_DIR"
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=archetype-local-ca" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$PKI_DIR/ca.crt" 2>/dev/null || die "openssl could not create the CA in $PKI_DIR"
	pki_cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	pki_client admin archetype-admin system:masters
	pki_client controller-manager system:kube-controller-manager
	pki_client scheduler system:kube-scheduler
	# kwok plays every node's kubelet: it writes node and pod status for all of them.
	pki_client kwok kwok-controller system:masters
	# The real node: the API server's client certificate for kubelets (logs, exec),
	# the kubelet's own (the Node authorizer knows it by system:node:<name>), and
	# the kubelet's serving certificate, for the name the API server dials.
	pki_client apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
	pki_client kubelet "system:node:$REAL_NODE_NAME" system:nodes
	pki_cert kubelet-serving "/CN=$REAL_NODE_NAME" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$REAL_NODE_NAME,IP:127.0.0.1"
	# Front-proxy (aggregation) CA: without it every component logs a missing
	# requestheader-client-ca-file bundle.
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/front-proxy-ca.key" 2>/dev/null
	openssl req -x509 -new -key "$PKI_DIR/front-proxy-ca.key" -subj "/CN=archetype-local-front-proxy-ca" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$PKI_DIR/front-proxy-ca.crt" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/front-proxy-client.key" 2>/dev/null
	openssl req -new -key "$PKI_DIR/front-proxy-client.key" -subj "/CN=front-proxy-client" 2>/dev/null |
		openssl x509 -req -CA "$PKI_DIR/front-proxy-ca.crt" -CAkey "$PKI_DIR/front-proxy-ca.key" -CAcreateserial \
			-days 365 -sha256 -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$PKI_DIR/front-proxy-client.crt" 2>/dev/null
	# The Entra stand-in: its issuer's serving certificate, and the key pair its access tokens are signed with.
	pki_cert entra-issuer "/CN=entra-issuer" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1"
	openssl genrsa -out "$PKI_DIR/entra-signing.key" 2048 2>/dev/null
	openssl rsa -in "$PKI_DIR/entra-signing.key" -pubout -out "$PKI_DIR/entra-signing.pub" 2>/dev/null
	openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
	openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
	[[ -s $PKI_DIR/sa.pub && -s $PKI_DIR/entra-signing.pub && -s $PKI_DIR/kwok.crt && -s $PKI_DIR/front-proxy-client.crt && -s $PKI_DIR/kubelet-serving.crt ]] || die "openssl failed while creating certificates in $PKI_DIR"
	write_kubeconfig "$KUBECONFIG_ADMIN" admin
	write_kubeconfig "$STACK_DIR/controller-manager.kubeconfig" controller-manager
	write_kubeconfig "$STACK_DIR/scheduler.kubeconfig" scheduler
	write_kubeconfig "$STACK_DIR/kwok.kubeconfig" kwok
	write_kubeconfig "$STACK_DIR/kubelet.kubeconfig" kubelet
	echo "$PKI_RECIPE" >"$PKI_DIR/done"
}

# kapi METHOD PATH [CURL-ARGS...]: call the API server as the admin user.
kapi() {
	local method=$1 path=$2
	shift 2
	curl -sS --fail-with-body --max-time 10 -X "$method" \
		--cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT$path" "$@"
}
