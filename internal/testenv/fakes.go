package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"
)

// Creds are the credentials a fake endpoint hands out.
type Creds struct {
	AccessKeyID, SecretAccessKey, Token string
	Expiration                          time.Time
}

// ContainerEndpoint fakes the container credentials endpoint as AWS
// CloudShell serves it: GET with the Authorization header set to the token,
// JSON with Type/Code/LastUpdated alongside the keys.
type ContainerEndpoint struct {
	*httptest.Server
	Token    string
	Creds    Creds
	body     atomic.Pointer[string]
	Requests atomic.Int64
}

// NewContainerEndpoint starts the fake on loopback.
func NewContainerEndpoint(token string, c Creds) *ContainerEndpoint {
	f := &ContainerEndpoint{Token: token, Creds: c}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Requests.Add(1)
		if r.Header.Get("Authorization") != f.Token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"code":"AccessDenied","message":"Invalid authorization token"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if b := f.body.Load(); b != nil {
			fmt.Fprint(w, *b)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"Type":            "",
			"AccessKeyId":     f.Creds.AccessKeyID,
			"SecretAccessKey": f.Creds.SecretAccessKey,
			"Token":           f.Creds.Token,
			"Expiration":      f.Creds.Expiration.UTC().Format(time.RFC3339),
			"Code":            "Success",
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
		})
	}))
	return f
}

// SetBody makes the endpoint answer body instead of credentials JSON.
func (f *ContainerEndpoint) SetBody(body string) { f.body.Store(&body) }

// URL is the FULL_URI clients are given.
func (f *ContainerEndpoint) URL() string {
	return f.Server.URL + "/latest/meta-data/container/security-credentials"
}

// IMDS fakes EC2 instance metadata, IMDSv2 only: a PUT for a session
// token, then GETs with it for the role name and its credentials.
type IMDS struct {
	*httptest.Server
	Role     string
	Creds    Creds
	Requests atomic.Int64
}

const imdsToken = "fake-imds-session-token-0123456789"

// NewIMDS starts the fake on loopback.
func NewIMDS(role string, c Creds) *IMDS {
	f := &IMDS{Role: role, Creds: c}
	mux := http.NewServeMux()
	mux.HandleFunc("/latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		f.Requests.Add(1)
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		fmt.Fprint(w, imdsToken)
	})
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.Requests.Add(1)
			if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
				http.Error(w, "", http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/latest/meta-data/iam/security-credentials/", authed(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, f.Role)
	}))
	mux.HandleFunc("/latest/meta-data/iam/security-credentials/{role}", authed(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("role") != f.Role {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"Code":            "Success",
			"LastUpdated":     time.Now().UTC().Format(time.RFC3339),
			"Type":            "AWS-HMAC",
			"AccessKeyId":     f.Creds.AccessKeyID,
			"SecretAccessKey": f.Creds.SecretAccessKey,
			"Token":           f.Creds.Token,
			"Expiration":      f.Creds.Expiration.UTC().Format(time.RFC3339),
		})
	}))
	f.Server = httptest.NewServer(mux)
	return f
}

// Blackhole accepts TCP connections and never answers: an IMDS or endpoint
// that hangs. Close it when done.
func Blackhole() (addr string, closeFn func(), err error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	return srv.URL, srv.Close, nil
}
