// Command registry-token is the token server of the local registry's bearer
// mode (scripts/local-stack): it implements the Docker Registry v2 token
// authentication protocol (distribution's docs/spec/auth/token.md, and
// oauth.md for the POST form), the flow ACR's /oauth2/token follows.
//
// A client that gets `401 WWW-Authenticate: Bearer realm=...,service=...,
// scope=...` from the registry asks this server for a token:
//
//	GET  /oauth2/token?service=S&scope=repository:NAME:pull,push   (Basic auth)
//	POST /oauth2/token  grant_type=password&username=U&password=P&service=S&scope=...
//
// and gets {"token", "access_token", "expires_in", "issued_at"}: a JWT signed
// with ES256 whose x5c header carries the certificate the registry trusts
// (its auth.token.rootcertbundle). The user (-user) may do anything it asks
// for; anonymous and wrong credentials get 401. The pull-only user
// (-pull-user, same password) is ACR's identity that holds AcrPull only: as
// ACR's /oauth2/token does (Azure/acr docs/AAD-OAuth.md), it gets a token for
// any scope it asks, with the access it has (token.md: "the access the client
// was granted", which may be less than it asked for), so the registry itself
// refuses its push: 401 with error="insufficient_scope". Standard library only.
package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

type server struct {
	user, password string
	// pullUser may only pull: its grants keep the "pull" action alone
	pullUser string
	issuer   string
	key      *ecdsa.PrivateKey
	certDER  []byte
	ttl      time.Duration
}

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5002", "listen address (loopback only)")
	user := flag.String("user", "", "the user that may push and pull")
	pullUser := flag.String("pull-user", "", "a user, with the same password, that may only pull (optional)")
	passwordFile := flag.String("password-file", "", "file holding that user's password")
	keyFile := flag.String("key", "", "PEM EC private key that signs tokens")
	certFile := flag.String("cert", "", "PEM certificate of that key (the registry's rootcertbundle)")
	issuer := flag.String("issuer", "archetype-local-token", "iss claim; the registry's auth.token.issuer")
	ttl := flag.Duration("ttl", 5*time.Minute, "token lifetime")
	flag.Parse()

	s, err := load(*user, *passwordFile, *keyFile, *certFile, *issuer, *ttl)
	if err != nil {
		log.Fatalf("registry-token: %v", err)
	}
	if *pullUser == *user {
		log.Fatalf("registry-token: -pull-user %q is -user too", *pullUser)
	}
	s.pullUser = *pullUser
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		log.Fatalf("registry-token: -addr %q: %v", *addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatalf("registry-token: -addr %q: must be a loopback address", *addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth2/token", s.token)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	log.Printf("registry-token: listening on http://%s/oauth2/token", *addr)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func load(user, passwordFile, keyFile, certFile, issuer string, ttl time.Duration) (*server, error) {
	if user == "" || passwordFile == "" || keyFile == "" || certFile == "" {
		return nil, errors.New("-user, -password-file, -key and -cert are required")
	}
	pw, err := os.ReadFile(passwordFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", keyFile)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		k, err8 := x509.ParsePKCS8PrivateKey(block.Bytes)
		ec, ok := k.(*ecdsa.PrivateKey)
		if err8 != nil || !ok {
			return nil, fmt.Errorf("%s: not an EC private key: %v", keyFile, err)
		}
		key = ec
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	cblock, _ := pem.Decode(certPEM)
	if cblock == nil {
		return nil, fmt.Errorf("%s: no PEM block", certFile)
	}
	return &server{user: user, password: strings.TrimSpace(string(pw)), issuer: issuer, key: key, certDER: cblock.Bytes, ttl: ttl}, nil
}

func (s *server) token(w http.ResponseWriter, r *http.Request) {
	var user, password string
	var scopes []string
	service := r.FormValue("service")
	switch r.Method {
	case http.MethodGet:
		var ok bool
		user, password, ok = r.BasicAuth()
		if !ok {
			s.deny(w, "credentials required")
			return
		}
		scopes = r.URL.Query()["scope"]
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if gt := r.PostForm.Get("grant_type"); gt != "password" {
			http.Error(w, fmt.Sprintf(`{"error":"unsupported_grant_type","error_description":"grant_type %q: only password"}`, gt), http.StatusBadRequest)
			return
		}
		user, password = r.PostForm.Get("username"), r.PostForm.Get("password")
		scopes = strings.Fields(r.PostForm.Get("scope"))
	default:
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	allowed, ok := s.allowed(user, password)
	if !ok {
		s.deny(w, "invalid username or password")
		return
	}
	now := time.Now()
	grants := []access{}
	for _, scope := range scopes {
		if a, ok := parseScope(scope); ok {
			if a = a.within(allowed); len(a.Actions) > 0 {
				grants = append(grants, a)
			}
		}
	}
	jwt, err := s.sign(map[string]any{
		"iss": s.issuer, "sub": user, "aud": service,
		"iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(), "exp": now.Add(s.ttl).Unix(),
		"jti": randomID(), "access": grants,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": jwt, "access_token": jwt, "expires_in": int(s.ttl.Seconds()), "issued_at": now.UTC().Format(time.RFC3339),
	})
	log.Printf("registry-token: %s %s service=%q scopes=%q granted=%v", r.Method, user, service, scopes, grants)
}

// allowed says whether user and password match a user, and which actions that user may take
// (nil: any it asks for).
func (s *server) allowed(user, password string) ([]string, bool) {
	if subtle.ConstantTimeCompare([]byte(password), []byte(s.password)) != 1 {
		return nil, false
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(user), []byte(s.user)) == 1:
		return nil, true
	case s.pullUser != "" && subtle.ConstantTimeCompare([]byte(user), []byte(s.pullUser)) == 1:
		return []string{"pull"}, true
	}
	return nil, false
}

// within keeps the actions of a that allowed holds (nil allows all).
func (a access) within(allowed []string) access {
	if allowed == nil {
		return a
	}
	kept := []string{}
	for _, action := range a.Actions {
		for _, ok := range allowed {
			if action == ok {
				kept = append(kept, action)
				break
			}
		}
	}
	a.Actions = kept
	return a
}

func (s *server) deny(w http.ResponseWriter, why string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="archetype-local-token"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": why}}})
}

// parseScope reads "repository:NAME:pull,push" (NAME may hold colons only in
// the type's resource class form, e.g. "repository(plugin):NAME:pull").
func parseScope(scope string) (access, bool) {
	first := strings.Index(scope, ":")
	last := strings.LastIndex(scope, ":")
	if first < 0 || last <= first {
		return access{}, false
	}
	typ := scope[:first]
	if i := strings.Index(typ, "("); i >= 0 {
		typ = typ[:i]
	}
	return access{Type: typ, Name: scope[first+1 : last], Actions: strings.Split(scope[last+1:], ",")}, true
}

func (s *server) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]any{
		"typ": "JWT", "alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(s.certDER)},
	})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signingInput))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256: the signature is r || s, each 32 bytes big-endian.
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	sig.FillBytes(raw[32:])
	return signingInput + "." + enc.EncodeToString(raw), nil
}

func randomID() string {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return fmt.Sprint(time.Now().UnixNano())
	}
	return n.Text(16)
}
