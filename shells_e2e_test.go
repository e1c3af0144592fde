package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// envOf parses `env` output.
func envOf(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestExecGivesTheChildCredentialsWithoutShadowingVariables(t *testing.T) {
	requireMoto(t)
	w := newWorld(t, "AWS_PROFILE=shadow", "AWS_DEFAULT_PROFILE=shadow",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/x", "AWS_CONTAINER_AUTHORIZATION_TOKEN=shadowtoken123")
	role := testenv.RoleARN("ExecChild")
	r := w.c9("exec", "--role", role, "--source", "env", "--", "env")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := envOf(r.stdout)
	d := parseV1(t, w.c9("--role", role, "--source", "env"))
	for k, want := range map[string]string{"AWS_ACCESS_KEY_ID": d.AccessKeyID, "AWS_SECRET_ACCESS_KEY": d.SecretAccessKey,
		"AWS_SESSION_TOKEN": d.SessionToken, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", ExecEnv: role} {
		if got[k] != want {
			t.Errorf("child %s = %q, want %q", k, got[k], want)
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
		if v, ok := got[k]; ok {
			t.Errorf("child still sees shadowing %s=%q", k, v)
		}
	}
}

func TestExecPassesTheExitCodeThrough(t *testing.T) {
	w := newWorld(t)
	for _, code := range []int{0, 1, 7, 42} {
		r := w.c9("exec", "--source", "env", "--", "sh", "-c", fmt.Sprintf("exit %d", code))
		if r.code != code {
			t.Errorf("child exit %d came out as %d (stderr %q)", code, r.code, r.stderr)
		}
	}
	r := w.c9("exec", "--source", "env", "--", "no-such-command-c9")
	if r.code != 2 || !strings.Contains(r.stderr, "no-such-command-c9") {
		t.Errorf("missing command: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestExecForwardsSIGTERMToTheChild(t *testing.T) {
	w := newWorld(t)
	mark := filepath.Join(w.home, "got-term")
	cmd := exec.Command(c9bin, "exec", "--source", "env", "--", "sh", "-c",
		`trap 'echo term > "$MARK"; exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	cmd.Env = append(w.env, "MARK="+mark)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("child did not start: %q", line)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if b, _ := os.ReadFile(mark); string(b) != "term\n" {
		t.Errorf("the child's TERM trap did not run")
	}
	if code != 42 {
		t.Errorf("exit %d, want the child's 42", code)
	}
}

func TestExecRefusesToNestUnlessForced(t *testing.T) {
	w := newWorld(t, ExecEnv+"=arn:aws:iam::123456789012:role/Outer")
	r := w.c9("exec", "--source", "env", "--", "true")
	if r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("nested exec: exit %d stderr %q", r.code, r.stderr)
	}
	if r := w.c9("exec", "--force", "--source", "env", "--", "true"); r.code != 0 {
		t.Errorf("--force: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestExecServeGivesTheChildARefreshingEndpoint(t *testing.T) {
	requireMoto(t)
	clis := awsCLIs(t)
	w := newWorld(t)
	role := testenv.RoleARN("ExecServe")
	r := w.c9("exec", "--serve", "--role", role, "--source", "env", "--",
		clis["AWS CLI v2"][0], "--endpoint-url", moto.URL, "--output", "text", "--query", "Arn", "sts", "get-caller-identity")
	if r.code != 0 || !strings.Contains(r.stdout, "assumed-role/ExecServe/") {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// served is a running `c9cred serve`.
type served struct {
	cmd   *exec.Cmd
	vars  map[string]string
	addr  string
	errb  *strings.Builder
	mu    *sync.Mutex
	first string
}

func startServe(t *testing.T, w *world, args ...string) *served {
	t.Helper()
	cmd := exec.Command(c9bin, append([]string{"serve"}, args...)...)
	cmd.Env = w.env
	out, _ := cmd.StdoutPipe()
	s := &served{cmd: cmd, vars: map[string]string{}, errb: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stderr = lockedWriter{s.mu, s.errb}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(out)
	s.first, _ = br.ReadString('\n')
	lines := []string{s.first}
	if !strings.HasPrefix(s.first, "-e ") {
		l2, _ := br.ReadString('\n')
		lines = append(lines, l2)
	}
	go io.Copy(io.Discard, br)
	for _, l := range lines {
		for _, f := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "export ")) {
			if k, v, ok := strings.Cut(f, "="); ok {
				s.vars[k] = v
			}
		}
	}
	u := s.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
	if u == "" {
		t.Fatalf("serve printed no endpoint: %q", lines)
	}
	s.addr = strings.TrimPrefix(u, "http://")
	s.addr = s.addr[:strings.Index(s.addr, "/")]
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *served) get(t *testing.T, host, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"], nil)
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("serve set a CORS header")
	}
	return resp.StatusCode, string(b)
}

func TestServeFeedsAWSCLIAndBoto3ThroughTheContainerProtocol(t *testing.T) {
	requireMoto(t)
	clis := awsCLIs(t)
	w := newWorld(t)
	role := testenv.RoleARN("Served")
	s := startServe(t, w, "--role", role, "--source", "env")
	client := cleanWorld(t, "AWS_CONTAINER_CREDENTIALS_FULL_URI="+s.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
		"AWS_CONTAINER_AUTHORIZATION_TOKEN="+s.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
	runs := map[string][]string{
		"AWS CLI v2": {clis["AWS CLI v2"][0], "--endpoint-url", moto.URL, "--output", "text", "--query", "Arn", "sts", "get-caller-identity"},
		"boto3":      {"python3", "-c", "import boto3,sys; print(boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1').get_caller_identity()['Arn'])", moto.URL},
	}
	for name, argv := range runs {
		r := client.run(argv[0], argv[1:]...)
		if r.code != 0 || !strings.Contains(r.stdout, "assumed-role/Served/") {
			t.Errorf("%s: exit %d stdout %q stderr %q", name, r.code, r.stdout, r.stderr)
		}
	}
	if n := assumeRoleCalls(t, role); n != 1 {
		t.Errorf("AssumeRole calls %d, want 1", n)
	}
}

func TestServeGivesNothingToWrongTokensOrForeignHosts(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	s := startServe(t, w, "--role", testenv.RoleARN("Guarded"), "--source", "env")
	tok := s.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	if len(tok) < 32 {
		t.Errorf("token %d hex characters, want at least 128 bits", len(tok))
	}
	_, port, _ := net.SplitHostPort(s.addr)
	cases := []struct {
		name, host, token string
		status            int
	}{
		{"missing token", "", "", 401},
		{"wrong token", "", strings.Repeat("0", len(tok)), 403},
		{"token prefix", "", tok[:len(tok)-1], 403},
		{"foreign Host (DNS rebinding)", "attacker.example:" + port, tok, 403},
		{"right token", "", tok, 200},
	}
	for _, tc := range cases {
		code, body := s.get(t, tc.host, tc.token)
		if code != tc.status {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.status)
		}
		if (tc.status == 200) != strings.Contains(body, "AccessKeyId") {
			t.Errorf("%s: body %q", tc.name, body)
		}
	}
}

func TestServeManyConcurrentRequestsShareOneRefreshAndShutdownIsClean(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	role := testenv.RoleARN("Crowd")
	s := startServe(t, w, "--role", role, "--source", "env", "--force-refresh")
	tok := s.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	var wg sync.WaitGroup
	keys := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := s.get(t, "", tok)
			var c struct{ AccessKeyId, Expiration string }
			json.Unmarshal([]byte(body), &c)
			if code != 200 || c.AccessKeyId == "" {
				t.Errorf("HTTP %d %q", code, body)
			}
			keys <- c.AccessKeyId
		}()
	}
	wg.Wait()
	close(keys)
	distinct := map[string]bool{}
	for k := range keys {
		distinct[k] = true
	}
	if len(distinct) != 1 {
		t.Errorf("%d distinct sessions served, want 1", len(distinct))
	}
	if n := assumeRoleCalls(t, role); n != 1 {
		t.Errorf("200 requests made %d AssumeRole calls, want 1", n)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens on %s after shutdown", s.addr)
	}
}

func TestServeDockerFormatAndTokenFile(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	s := startServe(t, w, "--role", testenv.RoleARN("Docker"), "--source", "env", "--format", "docker")
	if !strings.HasPrefix(s.first, "-e AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:") || !strings.Contains(s.first, " -e AWS_CONTAINER_AUTHORIZATION_TOKEN=") ||
		!strings.Contains(s.first, " -e AWS_DEFAULT_REGION=us-east-1") || strings.Count(s.first, "\n") != 1 {
		t.Errorf("docker format line: %q", s.first)
	}
	tf := filepath.Join(w.home, "serve-token")
	s2 := startServe(t, w, "--role", testenv.RoleARN("Docker"), "--source", "env", "--token-file", tf)
	if _, ok := s2.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"]; ok {
		t.Errorf("--token-file still printed the token")
	}
	if s2.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] != tf {
		t.Errorf("vars %v", s2.vars)
	}
	fi, err := os.Stat(tf)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", err, fi)
	}
	tok, _ := os.ReadFile(tf)
	if code, _ := s2.get(t, "", string(tok)); code != 200 {
		t.Errorf("token from file: HTTP %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s2.cmd.Process.Signal(syscall.SIGINT)
	for ctx.Err() == nil {
		if _, err := os.Stat(tf); os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("token file %s left behind after shutdown", tf)
}
