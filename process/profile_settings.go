package process

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"gopkg.in/ini.v1"
)

// ProfileSettings are the keys c9cred reads from [profile NAME] for
// --profile NAME, as flag name -> value.
type ProfileSettings struct {
	Profile string
	File    string
	Values  map[string]string
	// SelfInvocation is the profile's own credential_process when it runs
	// `c9cred --profile NAME` on this very profile.
	SelfInvocation string
}

// profileKeys maps shared-config keys to c9cred flags.
var profileKeys = []struct{ key, flag string }{
	{"role_arn", "role"},
	{"external_id", "external-id"},
	{"mfa_serial", "mfa-serial"},
	{"duration_seconds", "duration"},
	{"role_session_name", "session-name"},
	{"region", "region"},
	{"c9cred_mfa_process", "mfa-process"},
	{"c9cred_refresh_window", "refresh-window"},
}

// credentialSources maps credential_source values to c9cred sources.
var credentialSources = map[string]string{
	"Environment": "env", "Ec2InstanceMetadata": "imds", "EcsContainer": "container",
}

// SectionName is the config-file section of a profile.
func SectionName(profile string) string {
	if profile == "default" {
		return "default"
	}
	return "profile " + profile
}

// FindSection finds a section the way botocore does, which splits section
// names on white space: "[profile  dev ]" is profile dev.
func FindSection(cfg *ini.File, name string) *ini.Section {
	for _, s := range cfg.Sections() {
		if strings.Join(strings.Fields(s.Name()), " ") == name {
			return s
		}
	}
	return nil
}

// LoadProfileSettings reads [profile NAME] from the shared config file.
func LoadProfileSettings(getenv func(string) string, name string) (ProfileSettings, error) {
	file, _ := SharedFiles(getenv)
	ps := ProfileSettings{Profile: name, File: file, Values: map[string]string{}}
	cfg, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true}, file)
	if errors.Is(err, fs.ErrNotExist) {
		return ps, Usagef("--profile %s: the config file %s does not exist", name, file)
	}
	if err != nil {
		return ps, Usagef("--profile %s: cannot read %s: %v", name, file, err)
	}
	sec := FindSection(cfg, SectionName(name))
	if sec == nil && name == "default" {
		sec = FindSection(cfg, "profile default")
	}
	if sec == nil {
		return ps, Usagef("--profile %s: no [%s] section in %s", name, SectionName(name), file)
	}
	for _, pk := range profileKeys {
		if v := strings.TrimSpace(sec.Key(pk.key).String()); v != "" {
			ps.Values[pk.flag] = v
		}
	}
	if v := sec.Key("source_profile").String(); v != "" {
		ps.Values["source"] = "profile:" + v
	}
	if v := sec.Key("credential_source").String(); v != "" {
		src, ok := credentialSources[v]
		if !ok {
			return ps, Usagef("--profile %s: credential_source %q is not one of Environment, Ec2InstanceMetadata, EcsContainer", name, v)
		}
		ps.Values["source"] = src
	}
	if v := sec.Key("c9cred_source").String(); v != "" {
		ps.Values["source"] = v
	}
	if cp := sec.Key("credential_process").String(); cp != "" && RunsC9cred(cp) {
		words, _ := SplitCommand(cp)
		for i, w := range words {
			if w == "--profile="+name || (w == "--profile" || w == "-profile") && i+1 < len(words) && words[i+1] == name {
				ps.SelfInvocation = cp
			}
		}
	}
	if ps.SelfInvocation != "" {
		return ps, Usagef("--profile %s: [%s] in %s both holds c9cred's settings and runs `%s`", name, SectionName(name), file, ps.SelfInvocation).
			WithHint("%s", fmt.Sprintf("the AWS CLI would act on role_arn/source_profile in that profile itself and never run c9cred; keep the settings in their own profile (e.g. [profile %s-c9cred]) and point credential_process at `c9cred --profile %s-c9cred`, or run `c9cred configure`", name, name))
	}
	return ps, nil
}
