// Command entra-issuer publishes the OpenID Connect discovery document and the signing keys of the local
// target's Microsoft Entra ID stand-in, as login.microsoftonline.com publishes a tenant's:
//
//	GET /{tenant}/v2.0/.well-known/openid-configuration   (OpenID Connect Discovery 1.0)
//	GET /{tenant}/discovery/v2.0/keys                      (a JWK Set, RFC 7517)
//
// The local kube-apiserver reads both (--authentication-config, a JWT issuer) and then accepts the access
// tokens that the tests' Entra stand-in signs with the matching private key, as AKS accepts Entra tokens
// for its server application. It serves HTTPS only (the API server requires it) on a loopback address, and
// signs nothing itself. Standard library only.
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5003", "listen address (loopback)")
	tenant := flag.String("tenant", "", "tenant id: the issuer is https://<addr>/<tenant>/v2.0")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS private key (PEM)")
	signing := flag.String("signing-public-key", "", "RSA public key (PEM) the tokens are signed with")
	kid := flag.String("kid", "", "key id the tokens carry")
	flag.Parse()
	if *tenant == "" || *cert == "" || *key == "" || *signing == "" || *kid == "" {
		log.Fatal("entra-issuer: -tenant, -cert, -key, -signing-public-key and -kid are required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("entra-issuer: -addr %q is not a loopback address", *addr)
	}
	jwk, err := publicJWK(*signing, *kid)
	if err != nil {
		log.Fatalf("entra-issuer: %v", err)
	}
	base := "https://" + *addr + "/" + *tenant
	discovery := map[string]any{
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /"+*tenant+"/v2.0/.well-known/openid-configuration", serveJSON(discovery))
	mux.HandleFunc("GET /"+*tenant+"/discovery/v2.0/keys", serveJSON(map[string]any{"keys": []any{jwk}}))
	server := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("entra-issuer: issuer %s/v2.0, key %s", base, *kid)
	log.Fatal(server.ListenAndServeTLS(*cert, *key))
}

func serveJSON(value any) http.HandlerFunc {
	body, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s", r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func publicJWK(path, kid string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	key, ok := parsed.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an RSA public key", path)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": kid,
		"n":   b64(key.N.Bytes()),
		"e":   b64(big.NewInt(int64(key.E)).Bytes()),
	}, nil
}
