package main

import (
	"c9cred/internal/lazyre"
	"c9cred/internal/names"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/ini.v1"

	"c9cred/internal/securefs"
	"c9cred/process"
)

// cmdConfigure writes [profile NAME] with a credential_process line that
// runs this binary with the given flags. Everything else in the file is
// kept byte for byte: the edit is made on lines, then checked with ini.v1.
func cmdConfigure(_ context.Context, args []string, e *env) int {
	flags := flag.NewFlagSet("c9cred configure", flag.ContinueOnError)
	var cf credFlags
	cf.register(flags)
	dryRun := flags.Bool("dry-run", false, "")
	if code, done := parseCommand(flags, args, configureUsage, e); done {
		return code
	}
	if flags.NArg() > 0 {
		return e.fail(process.Usagef("configure: unexpected argument %q", flags.Arg(0)))
	}
	name := cf.profile
	if name == "" || !names.Valid(name, 64) {
		return e.fail(process.Usagef("configure needs --profile NAME (letters, digits and _.-), got %q", name))
	}
	// Here --profile names the profile to write, not settings to read.
	cf.profile = ""
	if _, _, err := cf.build(e.getenv); err != nil {
		return e.fail(err)
	}
	self, err := os.Executable()
	if err != nil {
		return e.fail(process.Failf("configure: cannot find this binary's path: %v", err))
	}
	if abs, err := filepath.Abs(self); err == nil {
		self = abs
	}
	cmdline := quoteArg(self, true) + " " + strings.Join(givenFlags(flags, args, "profile", "dry-run"), " ")
	cmdline = strings.TrimSpace(cmdline)

	cfgFile, credFile := process.SharedFiles(e.getenv)
	if err := refuseShadowing(name, cfgFile, credFile); err != nil {
		return e.fail(err)
	}
	old, err := os.ReadFile(cfgFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return e.fail(process.Failf("configure: read %s: %v", cfgFile, err))
	}
	keys := []keyValue{{"credential_process", cmdline}}
	if cf.region != "" {
		keys = append(keys, keyValue{"region", cf.region})
	}
	updated := setSection(string(old), process.SectionName(name), keys)
	if err := verifyEdit(string(old), updated, process.SectionName(name), keys); err != nil {
		return e.fail(process.Failf("configure: refusing to write %s: %v", cfgFile, err))
	}
	if *dryRun {
		fmt.Fprintf(e.stdout, "[%s]\n", process.SectionName(name))
		for _, kv := range keys {
			fmt.Fprintf(e.stdout, "%s = %s\n", kv.key, kv.value)
		}
		return 0
	}
	if updated == string(old) {
		fmt.Fprintf(e.stderr, "c9cred: [%s] in %s is already up to date\n", process.SectionName(name), cfgFile)
		return 0
	}
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o700); err != nil {
		return e.fail(process.Failf("configure: %v", err))
	}
	backup := cfgFile + ".c9cred.bak"
	if len(old) > 0 {
		if err := securefs.WriteFile(backup, old); err != nil {
			return e.fail(process.Failf("configure: backup: %v", err))
		}
	}
	if err := securefs.WriteFile(cfgFile, []byte(updated)); err != nil {
		return e.fail(process.Failf("configure: %v", err))
	}
	fmt.Fprintf(e.stderr, "c9cred: wrote [%s] to %s", process.SectionName(name), cfgFile)
	if len(old) > 0 {
		fmt.Fprintf(e.stderr, " (previous file in %s)", backup)
	}
	fmt.Fprintf(e.stderr, "\nc9cred: try: aws --profile %s sts get-caller-identity\n", name)
	return 0
}

// givenFlags returns the flags in args, in the order given, minus skip,
// each ready for a credential_process command line.
func givenFlags(fs *flag.FlagSet, args []string, skip ...string) []string {
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		name, value, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		fl := fs.Lookup(name)
		if fl == nil {
			continue
		}
		isBool := false
		if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			isBool = true
		}
		if !isBool && !inline && i+1 < len(args) {
			i++
			value = args[i]
		}
		if skipped[name] {
			continue
		}
		if isBool {
			if !inline || value == "true" {
				out = append(out, "--"+name)
			}
			continue
		}
		out = append(out, "--"+name, quoteArg(value, false))
	}
	return out
}

// quoteArg quotes s for botocore's shlex split. The program path gets
// double quotes when it has spaces, as the AWS CLI documents; other values
// get single quotes when they need any.
func quoteArg(s string, program bool) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r))
	}) {
		return s
	}
	if program && !strings.ContainsAny(s, "\"\\$`") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// refuseShadowing refuses when the AWS CLI would never run credential_process
// for the profile: static keys in the credentials file, or settings in the
// config section that the CLI acts on first.
func refuseShadowing(name, cfgFile, credFile string) error {
	if creds, err := ini.Load(credFile); err == nil {
		if sec, err := creds.GetSection(name); err == nil && sec.HasKey("aws_access_key_id") {
			return process.Usagef("configure: [%s] in %s has static keys (aws_access_key_id); the AWS CLI uses them before credential_process, so c9cred would never run", name, credFile).
				WithHint("remove those keys (save them with `c9cred store NAME` first), or configure another profile name")
		}
	}
	cfg, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true}, cfgFile)
	if err != nil {
		return nil
	}
	sec := process.FindSection(cfg, process.SectionName(name))
	if sec == nil {
		return nil
	}
	for _, k := range []string{"aws_access_key_id", "role_arn", "source_profile", "credential_source", "sso_session", "sso_start_url", "web_identity_token_file"} {
		if sec.HasKey(k) {
			return process.Usagef("configure: [%s] in %s sets %s, which the AWS CLI acts on before credential_process, so c9cred would never run", process.SectionName(name), cfgFile, k).
				WithHint("remove it from that profile (c9cred takes --role, --source and the rest as flags), or configure another profile name")
		}
	}
	return nil
}

type keyValue struct{ key, value string }

var headerRE = lazyre.New(`^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$`)

// setSection sets keys in section, editing only the lines that hold them
// (or appending lines, or a new section at the end).
func setSection(content, section string, keys []keyValue) string {
	lines := strings.SplitAfter(content, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	start, end := -1, len(lines)
	for i, l := range lines {
		m := headerRE().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if strings.Join(strings.Fields(m[1]), " ") == section {
			start = i
		}
	}
	render := func(kv keyValue) string { return kv.key + " = " + kv.value + "\n" }
	if start < 0 {
		var b strings.Builder
		b.WriteString(content)
		if content != "" && !strings.HasSuffix(content, "\n") {
			b.WriteString("\n")
		}
		if content != "" {
			b.WriteString("\n")
		}
		b.WriteString("[" + section + "]\n")
		for _, kv := range keys {
			b.WriteString(render(kv))
		}
		return b.String()
	}
	// A copy: appending to a subslice of lines would overwrite what follows.
	body := append([]string{}, lines[start+1:end]...)
	var missing []keyValue
	for _, kv := range keys {
		found := false
		for i, l := range body {
			k, _, ok := strings.Cut(l, "=")
			if ok && strings.TrimSpace(k) == kv.key && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
				if strings.TrimSpace(l) != strings.TrimSpace(render(kv)) {
					body[i] = render(kv)
				}
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, kv)
		}
	}
	// New keys go after the section's last non-blank line.
	at := len(body)
	for at > 0 && strings.TrimSpace(body[at-1]) == "" {
		at--
	}
	if at > 0 && !strings.HasSuffix(body[at-1], "\n") {
		body[at-1] += "\n"
	}
	var ins []string
	for _, kv := range missing {
		ins = append(ins, render(kv))
	}
	body = append(body[:at], append(ins, body[at:]...)...)
	out := append(append(append([]string{}, lines[:start+1]...), body...), lines[end:]...)
	return strings.Join(out, "")
}

// verifyEdit parses old and new with ini.v1: section must hold keys, and
// every other section must be unchanged.
func verifyEdit(oldContent, newContent, section string, keys []keyValue) error {
	opts := ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true, Insensitive: false}
	before, err := ini.LoadSources(opts, []byte(oldContent))
	if err != nil {
		return fmt.Errorf("the current file does not parse: %w", err)
	}
	after, err := ini.LoadSources(opts, []byte(newContent))
	if err != nil {
		return fmt.Errorf("the edited file would not parse: %w", err)
	}
	sec := process.FindSection(after, section)
	if sec == nil {
		return fmt.Errorf("section [%s] missing after the edit", section)
	}
	for _, kv := range keys {
		if got := sec.Key(kv.key).String(); got != kv.value {
			return fmt.Errorf("%s reads back as %q", kv.key, got)
		}
	}
	for _, s := range before.Sections() {
		if s == process.FindSection(before, section) {
			continue
		}
		a, err := after.GetSection(s.Name())
		if err != nil || fmt.Sprint(a.KeysHash()) != fmt.Sprint(s.KeysHash()) {
			return fmt.Errorf("the edit would change section [%s]", s.Name())
		}
	}
	return nil
}

const configureUsage = `Usage: c9cred configure --profile NAME [--role ARN] [--source SPEC] [--mfa-serial ARN] [other flags] [--dry-run]

Writes [profile NAME] in the shared config file (AWS_CONFIG_FILE, default
~/.aws/config) with credential_process = this binary and the flags given, in
the order given, plus region when --region is given. Every other line of the
file stays as it was; the previous file is kept as config.c9cred.bak.
`
