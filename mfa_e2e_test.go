package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"c9cred/internal/testenv"
)

// mfaScript writes an --mfa-process script that counts its runs in a file
// and prints body.
func mfaScript(t *testing.T, dir, body string) (script, counter string) {
	t.Helper()
	counter = filepath.Join(dir, "mfa-runs")
	script = filepath.Join(dir, "mfa.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho run >> '"+counter+"'\n"+body+"\n"), 0o755)
	return script, counter
}

func runsIn(counter string) int {
	b, _ := os.ReadFile(counter)
	return strings.Count(string(b), "run\n")
}

func mfaSerial(t *testing.T) string {
	return "arn:aws:iam::123456789012:mfa/" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
}

func TestParallelColdInvocationsNeedingMFARunTheCodeCommandOnce(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	script, counter := mfaScript(t, w.home, "echo 123456")
	serial := mfaSerial(t)
	roles := []string{testenv.RoleARN("MFA-A"), testenv.RoleARN("MFA-B")}
	const n = 16
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			results <- w.c9("--role", roles[i%2], "--source", "env", "--mfa-serial", serial, "--mfa-process", script)
		}(i)
	}
	for i := 0; i < n; i++ {
		parseV1(t, <-results)
	}
	if got := runsIn(counter); got != 1 {
		t.Errorf("--mfa-process ran %d times for %d parallel cold runs over 2 roles, want 1", got, n)
	}
	if c, _ := moto.Calls("GetSessionToken", map[string]string{"SerialNumber": serial}); c != 1 {
		t.Errorf("GetSessionToken calls %d, want 1", c)
	}
	for _, r := range roles {
		if c := assumeRoleCalls(t, r); c != 1 {
			t.Errorf("AssumeRole %s: %d calls, want 1", r, c)
		}
	}
}

func TestMFAProcessFailuresExitOneWithTheReason(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"hangs", "sleep 30", "did not print a code within"},
		{"prints garbage", "echo not-a-code", "not a 6-digit code"},
		{"fails", "exit 3", "failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, "C9CRED_MFA_PROCESS_TIMEOUT=1s")
			script, _ := mfaScript(t, w.home, tc.body)
			r := w.c9("--role", testenv.RoleARN("MFAFail"), "--source", "env", "--mfa-serial", mfaSerial(t), "--mfa-process", script)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d stdout %q stderr %q, want 1 and %q", r.code, r.stdout, r.stderr, tc.want)
			}
			if r.elapsed > 15*time.Second {
				t.Errorf("took %s", r.elapsed)
			}
		})
	}
}

func TestMFAWithoutTerminalFailsWithTheWayOut(t *testing.T) {
	_, err := exec.LookPath("setsid")
	testenv.Require(t, err == nil, "setsid (util-linux)")
	w := newWorld(t)
	// setsid: no controlling terminal, so /dev/tty cannot be opened.
	r := w.run("setsid", "-w", c9bin, "--role", testenv.RoleARN("NoTTY"), "--source", "env", "--mfa-serial", mfaSerial(t))
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	for _, s := range []string{"MFA code is needed", "no terminal", "hint: ", "c9cred --print"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q: %s", s, r.stderr)
		}
	}
	if r.elapsed > 10*time.Second {
		t.Errorf("took %s", r.elapsed)
	}
}

// pane drives a tmux session on a private server socket.
type pane struct {
	t      *testing.T
	socket string
}

func (p pane) tmux(args ...string) string {
	out, err := exec.Command("tmux", append([]string{"-S", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (p pane) waitFor(text string, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := p.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "c9")
		if strings.Contains(screen, text) {
			return screen
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%q did not appear in the pane within %s; screen:\n%s", text, timeout, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMFAPromptAppearsInTheTerminalOnceForTheWholeSession(t *testing.T) {
	requireMoto(t)
	clis := awsCLIs(t)
	_, err := exec.LookPath("tmux")
	testenv.Require(t, err == nil, "tmux")
	w := newWorld(t)
	serial := mfaSerial(t)
	w.writeConfig(fmt.Sprintf("[profile one]\ncredential_process = %s --role %s --source env --mfa-serial %s\n\n[profile two]\ncredential_process = %s --role %s --source env --mfa-serial %s\n",
		c9bin, testenv.RoleARN("TmuxOne"), serial, c9bin, testenv.RoleARN("TmuxTwo"), serial))
	// The pane's shell gets exactly the test world's environment.
	rc := filepath.Join(w.home, "env.sh")
	var b strings.Builder
	for _, kv := range w.env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
	}
	fmt.Fprintf(&b, "aws() { %s --endpoint-url %s --output text --query Arn \"$@\"; echo \"EXIT=$?\"; }\nPS1='$ '\n", clis["AWS CLI v2"][0], moto.URL)
	os.WriteFile(rc, []byte(b.String()), 0o600)
	p := pane{t: t, socket: filepath.Join(w.home, "tmux.sock")}
	p.tmux("new-session", "-d", "-s", "c9", "-x", "200", "-y", "50", "env -i bash --noprofile --rcfile "+rc)
	defer exec.Command("tmux", "-S", p.socket, "kill-server").Run()

	p.tmux("send-keys", "-t", "c9", "aws --profile one sts get-caller-identity", "Enter")
	p.waitFor("MFA code for "+serial, 60*time.Second)
	p.tmux("send-keys", "-t", "c9", "123456", "Enter")
	screen := p.waitFor("EXIT=", 60*time.Second)
	if !strings.Contains(screen, "assumed-role/TmuxOne/") || !strings.Contains(screen, "EXIT=0") {
		t.Fatalf("first call did not succeed:\n%s", screen)
	}
	p.tmux("send-keys", "-t", "c9", "echo ROUND-TWO; aws --profile one sts get-caller-identity; aws --profile two sts get-caller-identity; echo DONE-TWO", "Enter")
	screen = p.waitFor("\nDONE-TWO", 60*time.Second)
	// Only what the second round printed (after the echo's own output line).
	screen = screen[strings.LastIndex(screen, "\nROUND-TWO")+1:]
	if strings.Contains(screen, "MFA code for") {
		t.Errorf("asked for a code again:\n%s", screen)
	}
	if strings.Count(screen, "EXIT=0") != 2 {
		t.Errorf("second and third calls did not both succeed:\n%s", screen)
	}
	if c, _ := moto.Calls("GetSessionToken", map[string]string{"SerialNumber": serial}); c != 1 {
		t.Errorf("GetSessionToken calls %d, want 1", c)
	}
}

func TestProfileSettingsAreHonouredAndFlagsOverride(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	script, _ := mfaScript(t, w.home, "echo 654321")
	role := testenv.RoleARN("FromProfile")
	serial := mfaSerial(t)
	w.writeConfig(fmt.Sprintf(`[profile settings]
role_arn = %s
external_id = ext-1234
mfa_serial = %s
duration_seconds = 1800
role_session_name = from-profile
region = eu-central-1
c9cred_source = env
c9cred_mfa_process = %s
c9cred_refresh_window = 5m

[profile self]
role_arn = %s
credential_process = %s --profile self
`, role, serial, script, role, c9bin))
	r := w.c9("--profile", "settings", "--print", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := map[string]string{"RoleArn": role, "ExternalId": "ext-1234", "DurationSeconds": "1800", "RoleSessionName": "from-profile"}
	if c, _ := moto.Calls("AssumeRole", want); c != 1 {
		t.Errorf("no AssumeRole with %v", want)
	}
	if c, _ := moto.Calls("GetSessionToken", map[string]string{"SerialNumber": serial, "TokenCode": "654321"}); c != 1 {
		t.Errorf("mfa_serial / c9cred_mfa_process not honoured")
	}
	if got := evalExports(w, w.c9("--profile", "settings", "--print").stdout); got["AWS_REGION"] != "eu-central-1" {
		t.Errorf("region from the profile: %q", got["AWS_REGION"])
	}
	if r := w.c9("--profile", "settings", "--session-name", "from-flag"); r.code != 0 {
		t.Fatalf("override: exit %d: %s", r.code, r.stderr)
	}
	if c, _ := moto.Calls("AssumeRole", map[string]string{"RoleArn": role, "RoleSessionName": "from-flag"}); c != 1 {
		t.Errorf("--session-name did not override role_session_name")
	}
	r = w.c9("--profile", "self")
	if r.code != 2 || !strings.Contains(r.stderr, "c9cred --profile self") || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("self-invoking profile: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestConfigureWritesAWorkingProfileAndKeepsTheRestOfTheFile(t *testing.T) {
	requireMoto(t)
	clis := awsCLIs(t)
	w := newWorld(t)
	original := "# company config -- do not lose this comment\n[default]\nregion=us-west-2   \noutput =json\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region=us-east-1\n  \n[profile  dev ]\n; a comment in the section\noutput = text\n[profile other]\nregion = eu-west-1\n"
	w.writeConfig(original)
	cfgPath := filepath.Join(w.home, ".aws", "config")
	role := testenv.RoleARN("Configured")
	args := []string{"configure", "--profile", "dev", "--role", role, "--source", "env", "--region", "us-east-1"}

	dry := w.c9(append(args, "--dry-run")...)
	if b, _ := os.ReadFile(cfgPath); string(b) != original || !strings.Contains(dry.stdout, "credential_process = "+c9bin+" --role "+role+" --source env --region us-east-1") {
		t.Fatalf("--dry-run wrote or printed wrong: %q %q", dry.stdout, dry.stderr)
	}
	if r := w.c9(args...); r.code != 0 {
		t.Fatalf("configure: exit %d: %s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(cfgPath)
	// Every line of the original is still there, in order.
	rest := string(after)
	for _, l := range strings.SplitAfter(original, "\n") {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Fatalf("line %q lost or reordered:\n%s", l, after)
		}
		rest = rest[i+len(l):]
	}
	if bak, _ := os.ReadFile(cfgPath + ".c9cred.bak"); string(bak) != original {
		t.Errorf("backup does not hold the original")
	}
	if r := w.c9(args...); r.code != 0 {
		t.Fatalf("second configure: exit %d", r.code)
	}
	if again, _ := os.ReadFile(cfgPath); string(again) != string(after) {
		t.Errorf("running configure twice changed the file")
	}
	out := w.run(clis["AWS CLI v2"][0], "--profile", "dev", "--endpoint-url", moto.URL, "--output", "text", "--query", "Arn", "sts", "get-caller-identity")
	if out.code != 0 || !strings.Contains(out.stdout, "assumed-role/Configured/") {
		t.Errorf("AWS CLI v2 with the written profile: exit %d %q %q", out.code, out.stdout, out.stderr)
	}

	os.WriteFile(filepath.Join(w.home, ".aws", "credentials"), []byte("[static]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n"), 0o600)
	r := w.c9("configure", "--profile", "static", "--role", role)
	if r.code != 2 || !strings.Contains(r.stderr, "static keys") {
		t.Errorf("static keys: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestNoMFASessionSendsTheCodeWithAssumeRoleItself(t *testing.T) {
	requireMoto(t)
	w := newWorld(t)
	script, counter := mfaScript(t, w.home, "echo 246810")
	serial := mfaSerial(t)
	role := testenv.RoleARN("MFAOnAssume")
	args := []string{"--role", role, "--source", "env", "--mfa-serial", serial, "--mfa-process", script, "--no-mfa-session"}
	first := parseV1(t, w.c9(args...))
	if c, _ := moto.Calls("AssumeRole", map[string]string{"RoleArn": role, "SerialNumber": serial, "TokenCode": "246810"}); c != 1 {
		t.Errorf("AssumeRole did not carry SerialNumber and TokenCode")
	}
	if c, _ := moto.Calls("GetSessionToken", map[string]string{"SerialNumber": serial}); c != 0 {
		t.Errorf("--no-mfa-session still opened an MFA session")
	}
	// The role session itself is cached: no second code within its life.
	if again := parseV1(t, w.c9(args...)); again.AccessKeyID != first.AccessKeyID || runsIn(counter) != 1 {
		t.Errorf("second run asked again: %d code runs", runsIn(counter))
	}
}
