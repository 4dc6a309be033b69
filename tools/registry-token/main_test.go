package main

// The token endpoint as distribution's docs/spec/auth/token.md describes it: a token for the scopes asked,
// whose "access" claim holds what the client was granted, which may be less than it asked for. A pull-only
// user (ACR's identity with AcrPull only, Azure/acr docs/AAD-OAuth.md) gets a token without "push", so the
// registry refuses the push itself.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T) *server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &server{user: "pusher", pullUser: "puller", password: "secret", issuer: "test", key: key, certDER: []byte{1}, ttl: time.Minute}
}

// grantsOf asks for scope as user (GET with Basic auth) and returns the status and the token's access claim.
func grantsOf(t *testing.T, s *server, user, password, scope string) (int, []access) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/oauth2/token?service=reg&scope="+url.QueryEscape(scope), nil)
	r.SetBasicAuth(user, password)
	w := httptest.NewRecorder()
	s.token(w, r)
	if w.Code != http.StatusOK {
		return w.Code, nil
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(w.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(body.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", body.Token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Sub    string   `json:"sub"`
		Access []access `json:"access"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != user {
		t.Fatalf("sub %q, want %q", claims.Sub, user)
	}
	return w.Code, claims.Access
}

func TestGrants(t *testing.T) {
	s := testServer(t)
	cases := []struct {
		user, scope string
		want        []access
	}{
		{"pusher", "repository:app:pull,push", []access{{Type: "repository", Name: "app", Actions: []string{"pull", "push"}}}},
		{"puller", "repository:app:pull,push", []access{{Type: "repository", Name: "app", Actions: []string{"pull"}}}},
		{"puller", "repository:app:push", []access{}},
		{"puller", "repository:app:pull", []access{{Type: "repository", Name: "app", Actions: []string{"pull"}}}},
	}
	for _, c := range cases {
		code, got := grantsOf(t, s, c.user, "secret", c.scope)
		if code != http.StatusOK || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s asking %s: HTTP %d, access %+v; want 200, %+v", c.user, c.scope, code, got, c.want)
		}
	}
}

func TestRefusesWrongCredentials(t *testing.T) {
	s := testServer(t)
	for _, c := range [][2]string{{"pusher", "wrong"}, {"puller", "wrong"}, {"stranger", "secret"}} {
		if code, _ := grantsOf(t, s, c[0], c[1], "repository:app:pull"); code != http.StatusUnauthorized {
			t.Errorf("%s/%s: HTTP %d, want 401", c[0], c[1], code)
		}
	}
	s.pullUser = ""
	if code, _ := grantsOf(t, s, "", "secret", "repository:app:pull"); code != http.StatusUnauthorized {
		t.Errorf("an empty user name with no -pull-user: HTTP %d, want 401", code)
	}
}
