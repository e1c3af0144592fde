package process

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/ini.v1"
)

var testExpiry = time.Date(2026, 11, 22, 8, 50, 25, 0, time.UTC)

const testExpiryText = "2026-11-22T08:50:25Z"

func TestJSONIsTheVersion1DocumentOnOneLine(t *testing.T) {
	c := Credentials{
		AccessKeyID:     "ASIAEXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		SessionToken:    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
		// Not UTC, with a fraction: printed in UTC, whole seconds, with Z.
		Expiration: time.Date(2026, 11, 22, 10, 50, 25, 999, time.FixedZone("CEST", 2*3600)),
		AccountID:  "123456789012",
		Region:     "eu-west-1",
		Source:     "env",
	}
	b := c.JSON()
	if bytes.ContainsAny(b, "\r\n") {
		t.Errorf("JSON() is not one line: %q", b)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JSON() does not parse: %v: %s", err, b)
	}
	want := map[string]any{
		"Version":         float64(1),
		"AccessKeyId":     c.AccessKeyID,
		"SecretAccessKey": c.SecretAccessKey,
		"SessionToken":    c.SessionToken,
		"Expiration":      testExpiryText,
		"AccountId":       "123456789012",
	}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("JSON() = %s\nparsed %v\nwant   %v", b, doc, want)
	}
	exp, _ := doc["Expiration"].(string)
	if _, err := time.Parse(time.RFC3339, exp); err != nil || !strings.HasSuffix(exp, "Z") {
		t.Errorf("Expiration %q is not RFC 3339 UTC ending in Z (%v)", exp, err)
	}
}

func TestJSONLeavesOutWhatIsNotKnown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      Credentials
		absent []string
	}{
		{"no expiration", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"}, []string{"Expiration", "AccountId"}},
		{"no session token", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", Expiration: testExpiry}, []string{"SessionToken", "AccountId"}},
		{"long-term keys", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", AccountID: "123456789012"}, []string{"SessionToken", "Expiration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(tc.c.JSON(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["Version"] != float64(1) || doc["AccessKeyId"] != "AKID" || doc["SecretAccessKey"] != "secret" {
				t.Errorf("JSON() = %v, want Version 1 and the keys", doc)
			}
			for _, k := range tc.absent {
				if _, ok := doc[k]; ok {
					t.Errorf("JSON() has %s = %v, want it absent", k, doc[k])
				}
			}
			for _, k := range []string{"Region", "Source", "r", "src", "k", "s"} {
				if _, ok := doc[k]; ok {
					t.Errorf("JSON() has non-protocol key %s", k)
				}
			}
		})
	}
}

func TestJSONFormatIsTheSameDocumentIndented(t *testing.T) {
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: `s"e\c'ret`, SessionToken: "tok", Expiration: testExpiry, AccountID: "123456789012"}
	out, err := render(t, "json", &c, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--format json does not parse: %v: %s", err, out)
	}
	if err := json.Unmarshal(c.JSON(), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--format json = %v, JSON() = %v", got, want)
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("--format json does not end with a newline: %q", out)
	}
}

func TestJSONCarriesHostileValuesIntact(t *testing.T) {
	values := []string{"line1\nline2\r\n", "nul\x00byte", "<script>&amp;\u2028"}
	for _, h := range hostileValues {
		values = append(values, h.v)
	}
	for _, v := range values {
		c := hostileCreds(v)
		for _, b := range [][]byte{c.JSON(), []byte(mustRender(t, "json", &c))} {
			var doc struct{ AccessKeyId, SecretAccessKey, SessionToken string }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			if doc.AccessKeyId != c.AccessKeyID || doc.SecretAccessKey != c.SecretAccessKey || doc.SessionToken != c.SessionToken {
				t.Errorf("%q: JSON gives %+v", v, doc)
			}
		}
		if b := c.JSON(); bytes.ContainsAny(b, "\r\n") {
			t.Errorf("%q: JSON() is not one line: %q", v, b)
		}
	}
}

func mustRender(t *testing.T, format string, c *Credentials) string {
	t.Helper()
	out, err := render(t, format, c, FormatOptions{})
	if err != nil {
		t.Fatalf("--format %s: %v", format, err)
	}
	return out
}

// render runs Write and checks that a refused value writes nothing.
func render(t *testing.T, format string, c *Credentials, o FormatOptions) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	err := Write(&buf, format, c, o)
	if err != nil && buf.Len() != 0 {
		t.Errorf("--format %s failed (%v) but wrote %q", format, err, buf.String())
	}
	return buf.String(), err
}

// hostileValues are credential values that break naive quoting. None holds
// a line break: those are tested on their own.
var hostileValues = []struct {
	name string
	v    string
	// iniPlain: nothing here for an ini parser to misread; the ini format
	// must carry it.
	iniPlain bool
	// fish and ps are the values quoted by hand for fish and PowerShell.
	fish, ps string
}{
	{"realistic secret", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", true, `'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'`, `'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'`},
	{"single quote", "it's", true, `'it\'s'`, `'it''s'`},
	{"posix quote escape", `a'\''b`, true, `'a\'\\\'\'b'`, `'a''\''''b'`},
	{"double quotes", `say"hi"now`, true, `'say"hi"now'`, `'say"hi"now'`},
	{"dollar HOME", "$HOME", true, `'$HOME'`, `'$HOME'`},
	{"command substitution", "$(id)", true, `'$(id)'`, `'$(id)'`},
	{"backticks", "x`id`x", true, "'x`id`x'", "'x`id`x'"},
	{"spaces", "a b  c", true, `'a b  c'`, `'a b  c'`},
	{"leading and trailing spaces", " padded ", false, `' padded '`, `' padded '`},
	{"tab", "a\tb", true, "'a\tb'", "'a\tb'"},
	{"unicode", "é日本😀", true, `'é日本😀'`, `'é日本😀'`},
	{"backslashes", `C:\back\slash`, true, `'C:\\back\\slash'`, `'C:\back\slash'`},
	{"backslash n", `a\nb`, true, `'a\\nb'`, `'a\nb'`},
	{"smart quotes", "‘smart’ ‚low‛", true, `'‘smart’ ‚low‛'`, `'‘‘smart’’ ‚‚low‛‛'`},
	{"smart quote at the end", "x’", true, `'x’'`, `'x’’'`},
	{"glob characters", "a*b?[c]", true, `'a*b?[c]'`, `'a*b?[c]'`},
	{"equals and percent", "a=b==%s%d", true, `'a=b==%s%d'`, `'a=b==%s%d'`},
	{"hash and semicolon", "x#y;z", false, `'x#y;z'`, `'x#y;z'`},
	{"history and braces", "!!{a,b}~", true, `'!!{a,b}~'`, `'!!{a,b}~'`},
	{"fish special characters", "(echo x)$x{a,b}*", true, `'(echo x)$x{a,b}*'`, `'(echo x)$x{a,b}*'`},
	{"powershell special characters", "$env:PATH @(1) `n", true, "'$env:PATH @(1) `n'", "'$env:PATH @(1) `n'"},
	// At the very start or end of a value.
	{"starts with a backtick", "`id`", false, "'`id`'", "'`id`'"},
	{"ends with a backslash", `back\slash\`, false, `'back\\slash\\'`, `'back\slash\'`},
	{"wrapped in double quotes", `"quoted"`, false, `'"quoted"'`, `'"quoted"'`},
	{"wrapped in single quotes", "'single'", false, `'\'single\''`, `'''single'''`},
	{"starts with triple quotes", `"""x`, false, `'"""x'`, `'"""x'`},
}

// hostileCreds puts v at the start, the end and the middle of the values.
func hostileCreds(v string) Credentials {
	return Credentials{
		AccessKeyID:     v,
		SecretAccessKey: v + "/secret",
		SessionToken:    "token/" + v,
		Expiration:      testExpiry,
		Region:          "eu-west-1",
	}
}

// wantVars is what a consumer should see after reading the output.
func wantVars(c *Credentials) []string {
	return []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, testExpiryText, c.Region, c.Region}
}

const printVars = `printf "%s\0" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_REGION" "$AWS_DEFAULT_REGION"`

func splitNUL(t *testing.T, out []byte) []string {
	t.Helper()
	s := string(out)
	if !strings.HasSuffix(s, "\x00") {
		t.Fatalf("consumer output %q does not end in NUL", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
}

func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Skipf("%s is not on PATH", prog)
	}
	return p
}

// cleanEnv is a minimal environment that holds no AWS variables.
func cleanEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
}

func TestExportFormatRoundTripsThroughBash(t *testing.T) {
	bash := need(t, "bash")
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "export", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, "-c", `eval "$1"; `+printVars, "_", out)
			cmd.Env = append(cleanEnv(), "HOME=/nonexistent-home")
			cmd.Dir = t.TempDir()
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, wantVars(&c)) {
				t.Errorf("after eval of\n%s\nbash sees %q\nwant       %q", out, g, wantVars(&c))
			}
		})
	}
}

func TestExportFormatCarriesLineBreaksThroughBash(t *testing.T) {
	bash := need(t, "bash")
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "line1\nline2\r\n'x'\n", SessionToken: "\ntoken"}
	out, err := render(t, "export", &c, FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(bash, "-c", `eval "$1"; printf "%s\0" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"`, "_", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	if g, w := splitNUL(t, got), []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken}; !reflect.DeepEqual(g, w) {
		t.Errorf("bash sees %q, want %q", g, w)
	}
}

func TestEnvFormatRoundTripsThroughEnvI(t *testing.T) {
	envProg := need(t, "env")
	sh := need(t, "sh")
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "env", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("env output does not end with a newline: %q", out)
			}
			args := append([]string{"-i"}, strings.Split(strings.TrimSuffix(out, "\n"), "\n")...)
			args = append(args, sh, "-c", printVars)
			got, err := exec.Command(envProg, args...).Output()
			if err != nil {
				t.Fatalf("env -i: %v\n%s", err, out)
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, wantVars(&c)) {
				t.Errorf("from\n%s\nenv -i gives %q\nwant         %q", out, g, wantVars(&c))
			}
		})
	}
}

// parseDockerEnvFile reads an env file the way `docker run --env-file`
// does (docker/cli opts/envfile.go): lines split by bufio.Scanner, leading
// white space trimmed, blank and # lines skipped, KEY=VALUE split at the
// first =, the value taken literally with no quote processing.
func parseDockerEnvFile(t *testing.T, content string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if !utf8.Valid(b) {
			t.Fatalf("env file line %d is not UTF-8: %q", n, b)
		}
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
		}
		line := strings.TrimLeftFunc(string(b), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimLeft(k, " \t")
		if !ok || strings.ContainsAny(k, " \t") {
			t.Fatalf("env file line %d %q is not KEY=VALUE", n, line)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDotenvFormatRoundTripsThroughDockerEnvFileRules(t *testing.T) {
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "dotenv", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := parseDockerEnvFile(t, out)
			want := map[string]string{
				"AWS_ACCESS_KEY_ID":         c.AccessKeyID,
				"AWS_SECRET_ACCESS_KEY":     c.SecretAccessKey,
				"AWS_SESSION_TOKEN":         c.SessionToken,
				"AWS_CREDENTIAL_EXPIRATION": testExpiryText,
				"AWS_REGION":                "eu-west-1",
				"AWS_DEFAULT_REGION":        "eu-west-1",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("from\n%s\ndocker reads %q\nwant         %q", out, got, want)
			}
		})
	}
}

// TestINIFormatRoundTripsOrRefuses: the ini format carries a value intact
// through gopkg.in/ini.v1 or refuses it and writes nothing; plain values
// are always carried.
func TestINIFormatRoundTripsOrRefuses(t *testing.T) {
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "ini", &c, FormatOptions{})
			if err != nil {
				if h.iniPlain {
					t.Fatalf("ini refused a plain value: %v", err)
				}
				e, ok := err.(*Error)
				if !ok || e.Exit != ExitFailure || e.Hint == "" {
					t.Errorf("refusal %v (%T) is not a *Error with exit 1 and a hint", err, err)
				}
				return
			}
			f, err := ini.Load([]byte(out))
			if err != nil {
				t.Fatalf("ini.v1 cannot read the output: %v\n%s", err, out)
			}
			sec, err := f.GetSection("c9cred")
			if err != nil {
				t.Fatalf("no [c9cred] section in\n%s", out)
			}
			got := map[string]string{}
			for _, k := range sec.Keys() {
				got[k.Name()] = k.Value()
			}
			want := map[string]string{
				"aws_access_key_id":     c.AccessKeyID,
				"aws_secret_access_key": c.SecretAccessKey,
				"aws_session_token":     c.SessionToken,
				"aws_expiration":        testExpiryText,
				"region":                "eu-west-1",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ini.v1 reads\n%s\nas %q\nwant %q", out, got, want)
			}
		})
	}
}

func TestINIFormatUsesTheProfileNameAsSection(t *testing.T) {
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	for _, tc := range []struct{ name, want string }{{"", "[c9cred]\n"}, {"dev", "[dev]\n"}, {"profile dev", "[profile dev]\n"}} {
		out, err := render(t, "ini", &c, FormatOptions{ProfileName: tc.name})
		if err != nil || !strings.HasPrefix(out, tc.want) {
			t.Errorf("ProfileName %q: %q, %v; want it to start with %q", tc.name, out, err, tc.want)
		}
	}
	for _, name := range []string{" dev", "dev ", "a]b", "[a", "a\nb"} {
		_, err := render(t, "ini", &c, FormatOptions{ProfileName: name})
		usageError(t, err, fmt.Sprintf("%q", name))
	}
}

func dockerRefuses(v string) bool { return strings.ContainsAny(v, " \t*?[") }

// TestDockerFormatGivesDashEPairsOrRefuses: the output of
// `docker run $(c9cred --print --format docker)` is split on white space
// and globbed; a value that would be changed by that is refused.
func TestDockerFormatGivesDashEPairsOrRefuses(t *testing.T) {
	bash, _ := exec.LookPath("bash")
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "docker", &c, FormatOptions{})
			if dockerRefuses(h.v) {
				if err == nil {
					t.Fatalf("docker carried a value with white space or a glob character: %q", out)
				}
				if e, ok := err.(*Error); !ok || e.Hint == "" {
					t.Errorf("refusal %v (%T) is not a *Error with a hint", err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("docker refused %q: %v", h.v, err)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Errorf("docker output is not one line: %q", out)
			}
			want := []string{
				"-e", "AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
				"-e", "AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
				"-e", "AWS_SESSION_TOKEN=" + c.SessionToken,
				"-e", "AWS_CREDENTIAL_EXPIRATION=" + testExpiryText,
				"-e", "AWS_REGION=eu-west-1",
				"-e", "AWS_DEFAULT_REGION=eu-west-1",
			}
			if got := strings.Fields(out); !reflect.DeepEqual(got, want) {
				t.Errorf("docker output splits into %q\nwant %q", got, want)
			}
			if bash == "" {
				return
			}
			// What the shell passes to docker for an unquoted expansion.
			cmd := exec.Command(bash, "-c", `set -- $1; printf "%s\0" "$@"`, "_", out)
			cmd.Dir = t.TempDir()
			cmd.Env = cleanEnv()
			got, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, want) {
				t.Errorf("bash expands the docker output to %q\nwant %q", g, want)
			}
		})
	}
}

func TestFishFormatQuotesOnlyBackslashAndSingleQuote(t *testing.T) {
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: h.v, SessionToken: h.v}
			out, err := render(t, "fish", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := "set -gx AWS_ACCESS_KEY_ID 'AKIDEXAMPLE'\n" +
				"set -gx AWS_SECRET_ACCESS_KEY " + h.fish + "\n" +
				"set -gx AWS_SESSION_TOKEN " + h.fish + "\n" +
				"set -e AWS_CREDENTIAL_EXPIRATION\n"
			if out != want {
				t.Errorf("fish output\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func TestPowerShellFormatDoublesEverySingleQuoteKind(t *testing.T) {
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: h.v, SessionToken: h.v}
			out, err := render(t, "powershell", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := "$Env:AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE'\n" +
				"$Env:AWS_SECRET_ACCESS_KEY = " + h.ps + "\n" +
				"$Env:AWS_SESSION_TOKEN = " + h.ps + "\n" +
				"Remove-Item Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue\n"
			if out != want {
				t.Errorf("powershell output\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func TestFishAndPowerShellFormatsWriteEveryVariable(t *testing.T) {
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token", Expiration: testExpiry, Region: "eu-west-1"}
	for _, tc := range []struct{ format, want string }{
		{"fish", "set -gx AWS_ACCESS_KEY_ID 'AKID'\n" +
			"set -gx AWS_SECRET_ACCESS_KEY 'secret'\n" +
			"set -gx AWS_SESSION_TOKEN 'token'\n" +
			"set -gx AWS_CREDENTIAL_EXPIRATION '2026-11-22T08:50:25Z'\n" +
			"set -gx AWS_REGION 'eu-west-1'\n" +
			"set -gx AWS_DEFAULT_REGION 'eu-west-1'\n"},
		{"powershell", "$Env:AWS_ACCESS_KEY_ID = 'AKID'\n" +
			"$Env:AWS_SECRET_ACCESS_KEY = 'secret'\n" +
			"$Env:AWS_SESSION_TOKEN = 'token'\n" +
			"$Env:AWS_CREDENTIAL_EXPIRATION = '2026-11-22T08:50:25Z'\n" +
			"$Env:AWS_REGION = 'eu-west-1'\n" +
			"$Env:AWS_DEFAULT_REGION = 'eu-west-1'\n"},
	} {
		if out, err := render(t, tc.format, &c, FormatOptions{}); err != nil || out != tc.want {
			t.Errorf("--format %s = %q, %v\nwant %q", tc.format, out, err, tc.want)
		}
	}
}

func TestFishFormatRoundTripsThroughFish(t *testing.T) {
	fish := need(t, "fish")
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "fish", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "creds.fish")
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(fish, "--no-config", "-c",
				`source $argv[1]; and printf '%s\0' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "$AWS_REGION" "$AWS_DEFAULT_REGION"`, file)
			cmd.Env = append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
			cmd.Dir = dir
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("fish: %v\n%s", err, out)
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, wantVars(&c)) {
				t.Errorf("after source of\n%s\nfish sees %q\nwant      %q", out, g, wantVars(&c))
			}
		})
	}
}

func TestPowerShellFormatRoundTripsThroughPwsh(t *testing.T) {
	pwsh := need(t, "pwsh")
	for _, h := range hostileValues {
		t.Run(h.name, func(t *testing.T) {
			c := hostileCreds(h.v)
			out, err := render(t, "powershell", &c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			script := filepath.Join(dir, "creds.ps1")
			// A BOM makes every PowerShell version read the script as UTF-8.
			body := "\uFEFF" + out + "\n[Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false)\n" +
				"foreach ($n in 'AWS_ACCESS_KEY_ID','AWS_SECRET_ACCESS_KEY','AWS_SESSION_TOKEN','AWS_CREDENTIAL_EXPIRATION','AWS_REGION','AWS_DEFAULT_REGION') {\n" +
				"  [Console]::Out.Write([Environment]::GetEnvironmentVariable($n) + [char]0)\n}\n"
			if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(pwsh, "-NoProfile", "-NonInteractive", "-File", script)
			cmd.Env = append(cleanEnv(), "HOME="+dir)
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("pwsh: %v\n%s", err, out)
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, wantVars(&c)) {
				t.Errorf("after running\n%s\npwsh sees %q\nwant      %q", out, g, wantVars(&c))
			}
		})
	}
}

func TestLineFormatsRefuseLineBreaksAndWriteNothing(t *testing.T) {
	for _, format := range []string{"env", "dotenv", "ini", "docker"} {
		for _, bad := range []string{"line1\nline2", "line1\r\nline2", "cr\ronly", "trailing\n", "\nleading", "nul\x00byte"} {
			for _, field := range []string{"AccessKeyID", "SecretAccessKey", "SessionToken"} {
				t.Run(fmt.Sprintf("%s/%s/%q", format, field, bad), func(t *testing.T) {
					c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token", Expiration: testExpiry}
					reflect.ValueOf(&c).Elem().FieldByName(field).SetString(bad)
					out, err := render(t, format, &c, FormatOptions{})
					if err == nil {
						t.Fatalf("--format %s carried a line break: %q", format, out)
					}
					e, ok := err.(*Error)
					if !ok || e.Hint == "" {
						t.Errorf("refusal %v (%T) is not a *Error with a hint", err, err)
					}
					if strings.Contains(err.Error(), bad) {
						t.Errorf("the refusal quotes the value: %q", err)
					}
				})
			}
		}
	}
}

// failWriter fails the test on any write.
type failWriter struct{ t *testing.T }

func (w failWriter) Write(p []byte) (int, error) {
	w.t.Errorf("Write wrote %q after refusing", p)
	return len(p), nil
}

func TestWriteRefusesUnknownFormatWithoutWriting(t *testing.T) {
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	err := Write(failWriter{t}, "yaml", &c, FormatOptions{})
	usageError(t, err, `"yaml"`, "export")
	c.SecretAccessKey = "a b"
	if err := Write(failWriter{t}, "docker", &c, FormatOptions{}); err == nil {
		t.Error("docker carried a space")
	}
}

func TestExportWithoutTokenUnsetsStaleVariables(t *testing.T) {
	for _, tc := range []struct {
		name     string
		c        Credentials
		lastLine string
	}{
		{"no token, no expiry", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, "unset AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION"},
		{"no token, with expiry", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", Expiration: testExpiry}, "unset AWS_SESSION_TOKEN"},
		{"token, no expiry", Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"}, "unset AWS_CREDENTIAL_EXPIRATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := render(t, "export", &tc.c, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if got := lines[len(lines)-1]; got != tc.lastLine {
				t.Errorf("last line %q, want %q in\n%s", got, tc.lastLine, out)
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				return
			}
			cmd := exec.Command(bash, "-c", `export AWS_SESSION_TOKEN=stale-token AWS_CREDENTIAL_EXPIRATION=2000-01-01T00:00:00Z
eval "$1"
printf "%s\0" "${AWS_ACCESS_KEY_ID-<unset>}" "${AWS_SESSION_TOKEN-<unset>}" "${AWS_CREDENTIAL_EXPIRATION-<unset>}"`, "_", out)
			cmd.Env = cleanEnv()
			got, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"AKID", cmp.Or(tc.c.SessionToken, "<unset>"), "<unset>"}
			if tc.c.CanExpire() {
				want[2] = testExpiryText
			}
			if g := splitNUL(t, got); !reflect.DeepEqual(g, want) {
				t.Errorf("after eval bash sees %q, want %q", g, want)
			}
		})
	}
}

func TestFishAndPowerShellWithoutTokenRemoveStaleVariables(t *testing.T) {
	c := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	for _, tc := range []struct{ format, want string }{
		{"fish", "set -e AWS_SESSION_TOKEN\nset -e AWS_CREDENTIAL_EXPIRATION\n"},
		{"powershell", "Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\nRemove-Item Env:AWS_CREDENTIAL_EXPIRATION -ErrorAction SilentlyContinue\n"},
	} {
		out, err := render(t, tc.format, &c, FormatOptions{})
		if err != nil || !strings.HasSuffix(out, tc.want) {
			t.Errorf("--format %s = %q, %v; want it to end with %q", tc.format, out, err, tc.want)
		}
	}
}

func TestRegionVariablesAppearOnlyWithARegion(t *testing.T) {
	names := func(out string) []string {
		var found []string
		for _, n := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "region ="} {
			if strings.Contains(out, n) {
				found = append(found, n)
			}
		}
		sort.Strings(found)
		return found
	}
	for _, format := range allFormats {
		t.Run(format, func(t *testing.T) {
			with := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token", Region: "eu-west-1"}
			without := with
			without.Region = ""
			outWith, err := render(t, format, &with, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			outWithout, err := render(t, format, &without, FormatOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			switch format {
			case "json": // the v1 document has no region
			case "ini":
				want = []string{"region ="}
			default:
				want = []string{"AWS_DEFAULT_REGION", "AWS_REGION"}
			}
			if got := names(outWith); !reflect.DeepEqual(got, want) {
				t.Errorf("with a region: %q in\n%s\nwant %q", got, outWith, want)
			}
			if want != nil && !strings.Contains(outWith, "eu-west-1") {
				t.Errorf("with a region the output does not name it:\n%s", outWith)
			}
			if got := names(outWithout); got != nil {
				t.Errorf("without a region: %q in\n%s", got, outWithout)
			}
		})
	}
}
