package process

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// JSON returns the version-1 credential_process document on one line.
func (c *Credentials) JSON() []byte {
	b, _ := json.Marshal(c.v1())
	return b
}

type v1Doc struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
	AccountID       string `json:"AccountId,omitempty"`
}

func (c *Credentials) v1() v1Doc {
	d := v1Doc{Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, AccountID: c.AccountID}
	if c.CanExpire() {
		d.Expiration = c.Expiration.UTC().Format(time.RFC3339)
	}
	return d
}

// Var is one environment variable of the --print formats.
type Var struct{ Name, Value string }

// Vars lists the environment variables that carry c, in a fixed order:
// keys, token, expiry, and the region when one is known.
func (c *Credentials) Vars() []Var {
	vs := []Var{{"AWS_ACCESS_KEY_ID", c.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey}}
	if c.SessionToken != "" {
		vs = append(vs, Var{"AWS_SESSION_TOKEN", c.SessionToken})
	}
	if c.CanExpire() {
		vs = append(vs, Var{"AWS_CREDENTIAL_EXPIRATION", c.Expiration.UTC().Format(time.RFC3339)})
	}
	if c.Region != "" {
		vs = append(vs, Var{"AWS_REGION", c.Region}, Var{"AWS_DEFAULT_REGION", c.Region})
	}
	return vs
}

// unsetVars are the variables a format should clear when c does not set
// them, so stale values from an earlier session do not linger.
func (c *Credentials) unsetVars() []string {
	var out []string
	if c.SessionToken == "" {
		out = append(out, "AWS_SESSION_TOKEN")
	}
	if !c.CanExpire() {
		out = append(out, "AWS_CREDENTIAL_EXPIRATION")
	}
	return out
}

// FormatOptions tunes some formats.
type FormatOptions struct {
	// ProfileName is the section name of the ini format.
	ProfileName string
}

type formatter func(w io.Writer, c *Credentials, o FormatOptions) error

var formats = map[string]formatter{
	"export":     writeExport,
	"json":       writeJSONIndented,
	"env":        writeEnv,
	"dotenv":     writeEnv,
	"docker":     writeDocker,
	"ini":        writeINI,
	"fish":       writeFish,
	"powershell": writePowerShell,
}

// Formats lists the accepted --format values.
func Formats() []string {
	var out []string
	for k := range formats {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseFormat checks a --format value.
func ParseFormat(s string) (string, error) {
	if _, ok := formats[s]; !ok {
		return "", Usagef("--format %q is not an output format; accepted: %s", s, strings.Join(Formats(), ", "))
	}
	return s, nil
}

// Write renders c in format.
func Write(w io.Writer, format string, c *Credentials, o FormatOptions) error {
	f, ok := formats[format]
	if !ok {
		_, err := ParseFormat(format)
		return err
	}
	if o.ProfileName == "" {
		o.ProfileName = "c9cred"
	}
	// Render fully before writing, so a refused value prints nothing.
	var b strings.Builder
	if err := f(&b, c, o); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSONIndented(w io.Writer, c *Credentials, _ FormatOptions) error {
	b, err := json.MarshalIndent(c.v1(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// shQuote quotes s for POSIX shells: single quotes, with ' as '\”.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeExport(w io.Writer, c *Credentials, _ FormatOptions) error {
	for _, v := range c.Vars() {
		fmt.Fprintf(w, "export %s=%s\n", v.Name, shQuote(v.Value))
	}
	if u := c.unsetVars(); len(u) > 0 {
		fmt.Fprintf(w, "unset %s\n", strings.Join(u, " "))
	}
	return nil
}

// refuse reports a value that a format cannot carry intact.
func refuse(format string, v Var, why string) error {
	return Failf("--format %s cannot carry %s: its value %s", format, v.Name, why).
		WithHint("use --format export or --format json")
}

func writeEnv(w io.Writer, c *Credentials, _ FormatOptions) error {
	for _, v := range c.Vars() {
		if strings.ContainsAny(v.Value, "\r\n\x00") {
			return refuse("env/dotenv", v, "contains a line break")
		}
		fmt.Fprintf(w, "%s=%s\n", v.Name, v.Value)
	}
	return nil
}

func writeDocker(w io.Writer, c *Credentials, _ FormatOptions) error {
	var parts []string
	for _, v := range c.Vars() {
		// $(...) output is split on white space and globbed, nothing else.
		if strings.ContainsAny(v.Value, " \t\r\n\x00*?[") {
			return refuse("docker", v, "contains white space or a glob character")
		}
		parts = append(parts, "-e", v.Name+"="+v.Value)
	}
	_, err := fmt.Fprintln(w, strings.Join(parts, " "))
	return err
}

func writeINI(w io.Writer, c *Credentials, o FormatOptions) error {
	if strings.ContainsAny(o.ProfileName, "[]\r\n") || strings.TrimSpace(o.ProfileName) != o.ProfileName || o.ProfileName == "" {
		return Usagef("--profile-name %q is not a usable ini section name; use letters, digits and -_.", o.ProfileName)
	}
	fmt.Fprintf(w, "[%s]\n", o.ProfileName)
	for _, v := range c.Vars() {
		if strings.ContainsAny(v.Value, "\r\n\x00#;") || strings.TrimSpace(v.Value) != v.Value {
			return refuse("ini", v, "contains a line break, a comment character or surrounding spaces")
		}
		if strings.ContainsAny(v.Value[:min(1, len(v.Value))], "'\"`") || strings.HasSuffix(v.Value, `\`) {
			return refuse("ini", v, "starts with a quote or backtick or ends with a backslash, which ini parsers read specially")
		}
		key := strings.ToLower(v.Name)
		switch v.Name {
		case "AWS_CREDENTIAL_EXPIRATION":
			key = "aws_expiration"
		case "AWS_DEFAULT_REGION":
			continue
		case "AWS_REGION":
			key = "region"
		}
		fmt.Fprintf(w, "%s = %s\n", key, v.Value)
	}
	return nil
}

// fishQuote: inside fish single quotes only \ and ' are special.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFish(w io.Writer, c *Credentials, _ FormatOptions) error {
	for _, v := range c.Vars() {
		fmt.Fprintf(w, "set -gx %s %s\n", v.Name, fishQuote(v.Value))
	}
	for _, u := range c.unsetVars() {
		fmt.Fprintf(w, "set -e %s\n", u)
	}
	return nil
}

// psQuote: PowerShell single-quoted strings end at any of ' ‘ ’ ‚ ‛, and
// each is escaped by doubling it.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

func writePowerShell(w io.Writer, c *Credentials, _ FormatOptions) error {
	for _, v := range c.Vars() {
		fmt.Fprintf(w, "$Env:%s = %s\n", v.Name, psQuote(v.Value))
	}
	for _, u := range c.unsetVars() {
		fmt.Fprintf(w, "Remove-Item Env:%s -ErrorAction SilentlyContinue\n", u)
	}
	return nil
}
