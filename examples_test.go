package main

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/ini.v1"

	"c9cred/process"
)

// TestExamplesAreValidConfigsWithValidC9credCommands parses every example
// config as the SDKs would and checks each credential_process line is a
// c9cred command line that c9cred itself accepts.
func TestExamplesAreValidConfigsWithValidC9credCommands(t *testing.T) {
	files, _ := filepath.Glob("examples/*.config")
	want := map[string]bool{"examples/laptop-role.config": false, "examples/cloudshell.config": false, "examples/cloud9.config": false}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := ini.Load(f)
			if err != nil {
				t.Fatalf("not an ini file: %v", err)
			}
			n := 0
			for _, sec := range cfg.Sections() {
				cp := sec.Key("credential_process").String()
				if cp == "" {
					continue
				}
				n++
				if !strings.HasPrefix(sec.Name(), "profile ") {
					t.Errorf("section [%s] is not a [profile NAME] section", sec.Name())
				}
				words, err := process.SplitCommand(cp)
				if err != nil || len(words) == 0 || !process.RunsC9cred(cp) {
					t.Fatalf("[%s] credential_process %q does not run c9cred", sec.Name(), cp)
				}
				fs := flag.NewFlagSet("c9cred", flag.ContinueOnError)
				var cf credFlags
				cf.register(fs)
				if err := parseFlags(fs, words[1:]); err != nil {
					t.Fatalf("[%s]: %v", sec.Name(), err)
				}
				req, _, err := cf.build(func(string) string { return "" })
				if err != nil {
					t.Fatalf("[%s]: c9cred rejects %q: %v", sec.Name(), cp, err)
				}
				if req.RoleARN == "" {
					t.Errorf("[%s] assumes no role", sec.Name())
				}
			}
			if n == 0 {
				t.Errorf("%s has no credential_process profile", f)
			}
		})
		want[f] = true
	}
	for f, seen := range want {
		if !seen {
			t.Errorf("example %s is missing", f)
		}
	}
}
