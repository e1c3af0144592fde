package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"c9cred/internal/securefs"
	"c9cred/process"
)

// credPath is the URL path the endpoint serves credentials on.
const credPath = "/c9cred/credentials"

// credServer serves the container credentials protocol (the one behind
// AWS_CONTAINER_CREDENTIALS_FULL_URI) from the same sources, role, cache
// and refresh rules as credential_process.
type credServer struct {
	e      *env
	req    *process.Request
	co     cacheOptions
	token  string
	ln     net.Listener
	srv    *http.Server
	hosts  map[string]bool // Host header values accepted
	mu     sync.Mutex      // one refresh at a time; holders of mu see current
	creds  process.Credentials
	loaded bool
}

// newCredServer listens on addr. A non-loopback address must be asked for
// explicitly and is warned about.
func newCredServer(req *process.Request, co cacheOptions, addr string, e *env) (*credServer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, process.Usagef("--addr %q is not HOST:PORT; use e.g. 127.0.0.1:0 (any free port) or 127.0.0.1:9911", addr)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		e.warn("serving credentials on %s, which is not a loopback address: anyone who can reach it and knows the token gets your credentials", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, process.Failf("serve: listen on %s: %v", addr, err)
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		ln.Close()
		return nil, process.Failf("serve: token: %v", err)
	}
	s := &credServer{e: e, req: req, co: co, token: hex.EncodeToString(tok), ln: ln}
	// Only the listen address itself is an acceptable Host: a DNS-rebinding
	// page arrives with its own host name.
	_, realPort, _ := net.SplitHostPort(ln.Addr().String())
	s.hosts = map[string]bool{ln.Addr().String(): true}
	if ip != nil && ip.IsLoopback() || host == "localhost" {
		s.hosts["localhost:"+realPort] = true
		s.hosts["127.0.0.1:"+realPort] = true
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// URL is what clients put in AWS_CONTAINER_CREDENTIALS_FULL_URI.
func (s *credServer) URL() string { return "http://" + s.ln.Addr().String() + credPath }

func (s *credServer) serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *credServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
}

func (s *credServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case !s.hosts[r.Host]:
		http.Error(w, "wrong Host", http.StatusForbidden)
		return
	case r.URL.Path != credPath:
		http.NotFound(w, r)
		return
	case r.Method != http.MethodGet:
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		http.Error(w, "missing authorization token", http.StatusUnauthorized)
		return
	}
	if subtle.ConstantTimeCompare([]byte(auth), []byte(s.token)) != 1 {
		http.Error(w, "wrong authorization token", http.StatusForbidden)
		return
	}
	c, err := s.current(r.Context())
	if err != nil {
		pe := process.AsError(err)
		s.e.warn("serve: %s", pe.Msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"code": "CredentialsUnavailable", "message": pe.Msg})
		return
	}
	exp := c.Expiration
	if !c.CanExpire() {
		// The protocol wants an expiry; long-term keys get a nominal one so
		// clients come back hourly.
		exp = time.Now().Add(time.Hour)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"AccessKeyId":     c.AccessKeyID,
		"SecretAccessKey": c.SecretAccessKey,
		"Token":           c.SessionToken,
		"Expiration":      exp.UTC().Format(time.RFC3339),
		"AccountId":       c.AccountID,
	})
}

// current returns credentials with more than the refresh window left,
// refreshing at most once at a time however many requests arrive.
func (s *credServer) current(ctx context.Context) (process.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.loaded && (!s.creds.CanExpire() || s.creds.Expiration.Sub(now) > s.co.policy.Window) {
		return s.creds, nil
	}
	co := s.co
	if s.loaded {
		co.policy.Force = false
	}
	c, err := obtain(ctx, s.req, co, s.e)
	if err != nil {
		if s.loaded && s.creds.CanExpire() && s.creds.Expiration.Sub(now) > time.Minute {
			s.e.warn("serve: refresh failed, still serving credentials that expire at %s: %s", s.creds.Expiration.Format(time.RFC3339), process.AsError(err).Msg)
			return s.creds, nil
		}
		return process.Credentials{}, err
	}
	s.creds, s.loaded = c, true
	return c, nil
}

func cmdServe(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred serve", flag.ContinueOnError)
	var cf credFlags
	cf.register(fs)
	addr := fs.String("addr", "127.0.0.1:0", "")
	format := fs.String("format", "env", "")
	tokenFile := fs.String("token-file", "", "")
	if code, done := parseCommand(fs, args, serveUsage, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return e.fail(process.Usagef("serve: unexpected argument %q", fs.Arg(0)))
	}
	switch *format {
	case "env", "export", "docker":
	default:
		return e.fail(process.Usagef("serve --format %q is not accepted; use env (KEY=value lines), export or docker (-e arguments)", *format))
	}
	req, co, err := cf.build(e.getenv)
	if err != nil {
		return e.fail(err)
	}
	s, err := newCredServer(req, co, *addr, e)
	if err != nil {
		return e.fail(err)
	}
	// Fail at start, not at the first client, when credentials cannot be had.
	if _, err := s.current(ctx); err != nil {
		s.ln.Close()
		return e.fail(err)
	}
	vars := []process.Var{{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: s.URL()}}
	if *tokenFile != "" {
		if err := securefs.WriteFile(*tokenFile, []byte(s.token)); err != nil {
			s.ln.Close()
			return e.fail(process.Failf("serve: --token-file: %v", err))
		}
		defer os.Remove(*tokenFile)
		vars = append(vars, process.Var{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: *tokenFile})
	} else {
		vars = append(vars, process.Var{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN", Value: s.token})
	}
	// botocore reads only AWS_DEFAULT_REGION, the others AWS_REGION; a
	// container given just the endpoint would otherwise have no region.
	if region := req.KnownRegion(); region != "" {
		vars = append(vars, process.Var{Name: "AWS_REGION", Value: region}, process.Var{Name: "AWS_DEFAULT_REGION", Value: region})
	}
	var lines []string
	for _, v := range vars {
		switch *format {
		case "docker":
			lines = append(lines, "-e "+v.Name+"="+v.Value)
		case "export":
			lines = append(lines, "export "+v.Name+"="+v.Value+"\n")
		default:
			lines = append(lines, v.Name+"="+v.Value+"\n")
		}
	}
	if *format == "docker" {
		fmt.Fprintln(e.stdout, strings.Join(lines, " "))
	} else {
		fmt.Fprint(e.stdout, strings.Join(lines, ""))
	}
	if f, ok := e.stdout.(*os.File); ok {
		f.Sync()
	}
	fmt.Fprintf(e.stderr, "c9cred: serving credentials on %s until interrupted\n", s.URL())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan error, 1)
	go func() { done <- s.serve() }()
	select {
	case err := <-done:
		return e.fail(process.Failf("serve: %v", err))
	case <-sigs:
	case <-ctx.Done():
	}
	s.shutdown()
	fmt.Fprintln(e.stderr, "c9cred: stopped serving")
	return 0
}

const serveUsage = `Usage: c9cred serve [credential flags] [--addr 127.0.0.1:0] [--format env|export|docker] [--token-file PATH]

Serves the container credentials protocol that every AWS SDK and the AWS CLI
understand, refreshing long before expiry. Prints the two variables a client
needs; with --format docker as -e arguments for docker run --network host.
`
