package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"c9cred/cache"
	"c9cred/keychain"
	"c9cred/process"
)

// doctorReport is what `c9cred doctor` finds. It never holds a secret:
// identities are ARNs, stored keys are names and access key ids.
type doctorReport struct {
	Environment string          `json:"environment"`
	Sources     []sourceCheck   `json:"sources"`
	Cache       cacheCheck      `json:"cache"`
	StoredKeys  []storedKeyInfo `json:"stored_keys"`
	ClockSkew   string          `json:"clock_skew,omitempty"`
	Problems    []problem       `json:"problems"`
	Usable      bool            `json:"usable"`
}

type sourceCheck struct {
	Source     string `json:"source"`
	Configured bool   `json:"configured"`
	Works      bool   `json:"works"`
	Identity   string `json:"identity,omitempty"`
	Detail     string `json:"detail,omitempty"`
}

type cacheCheck struct {
	Backend string       `json:"backend"`
	Why     string       `json:"why"`
	Dir     string       `json:"dir"`
	Entries []cacheEntry `json:"entries"`
}

type cacheEntry struct {
	Role     string `json:"role,omitempty"`
	Source   string `json:"source"`
	TimeLeft string `json:"time_left"`
}

type storedKeyInfo struct {
	Name        string `json:"name"`
	AccessKeyID string `json:"access_key_id"`
	Store       string `json:"store"`
}

type problem struct {
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}

// doctorTimeout bounds each check; doctor must answer even when
// everything hangs.
const doctorTimeout = 8 * time.Second

func cmdDoctor(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	region := fs.String("region", "", "")
	if code, done := parseCommand(fs, args, "Usage: c9cred doctor [--json] [--region REGION]\n", e); done {
		return code
	}
	if fs.NArg() > 0 {
		return e.fail(process.Usagef("doctor: unexpected argument %q; usage: c9cred doctor [--json]", fs.Arg(0)))
	}
	if _, err := process.ParseRegion(*region); err != nil {
		return e.fail(err)
	}
	rep := diagnose(ctx, e, *region)
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		printReport(e, rep)
	}
	if !rep.Usable {
		return process.ExitFailure
	}
	return 0
}

func diagnose(ctx context.Context, e *env, region string) doctorReport {
	rep := doctorReport{Problems: []problem{}, StoredKeys: []storedKeyInfo{}}
	_, credFile := process.SharedFiles(e.getenv)
	cloud9File := process.IsCloud9ManagedFile(credFile)

	// Sources, in auto's order; stored keys by every saved name.
	specs := []string{"env", "container"}
	eachStored(ctx, e, func(kr keychain.Keyring, name, keyID string) {
		rep.StoredKeys = append(rep.StoredKeys, storedKeyInfo{Name: name, AccessKeyID: keyID, Store: kr.Store.Kind()})
		specs = append(specs, "stored:"+name)
	})
	profile := process.DefaultProfile(e.getenv)
	specs = append(specs, "profile:"+profile, "imds")
	var skew time.Duration
	imdsWorks := false
	for _, s := range specs {
		chk, id, err := checkSource(ctx, e, s, region)
		rep.Sources = append(rep.Sources, chk)
		if chk.Works {
			rep.Usable = true
			imdsWorks = imdsWorks || s == "imds"
		}
		if id.ClockSkew != 0 && skew == 0 {
			skew = id.ClockSkew
		}
		if err == nil {
			continue
		}
		pe := process.AsError(err)
		switch {
		case strings.Contains(pe.Msg, "would run c9cred again"):
			rep.Problems = append(rep.Problems, problem{pe.Msg, pe.Hint})
		case id.Cloud9Managed && pe.Hint != "":
			rep.Problems = append(rep.Problems, problem{"AWS Cloud9 managed temporary credentials: " + pe.Msg, pe.Hint})
		case chk.Configured && pe.Hint != "":
			rep.Problems = append(rep.Problems, problem{"source " + s + ": " + pe.Msg, pe.Hint})
		}
	}

	rep.Environment = detectEnvironment(e, cloud9File, imdsWorks)
	if cloud9File {
		rep.Problems = append(rep.Problems, problem{
			"this machine uses AWS Cloud9 managed temporary credentials (" + credFile + ")",
			process.Cloud9HintAssumeRole + ". " + process.Cloud9HintBlocked + ". " + process.Cloud9HintExpired,
		})
	}
	if skew != 0 {
		rep.ClockSkew = skew.String()
		if skew > 2*time.Minute || skew < -2*time.Minute {
			rep.Problems = append(rep.Problems, problem{
				fmt.Sprintf("this machine's clock is %s off STS's (STS minus local)", skew),
				"sync the clock (e.g. enable NTP: timedatectl set-ntp true); c9cred judges freshness by the local clock, so sessions are refreshed too early or too late by as much",
			})
		}
	}
	rep.Problems = append(rep.Problems, shadowedProfiles(e)...)
	rep.Cache = inspectCache(ctx, e)
	if !rep.Usable {
		rep.Problems = append(rep.Problems, problem{"no source yields working credentials",
			"save keys with `c9cred store default`, attach an instance profile (EC2/Cloud9), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"})
	}
	return rep
}

func checkSource(ctx context.Context, e *env, spec, region string) (sourceCheck, process.Identity, error) {
	chk := sourceCheck{Source: spec}
	src, err := process.ParseSource(spec)
	if err != nil {
		chk.Detail = process.AsError(err).Msg
		return chk, process.Identity{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	src.Probe = true
	id, err := process.Identify(ctx, &process.Request{Source: src, Region: region, Getenv: e.getenv, Timeout: doctorTimeout})
	switch {
	case errors.Is(err, process.ErrSourceNotConfigured):
		chk.Detail = "not configured: " + err.Error()
		return chk, id, nil
	case err != nil:
		chk.Configured = true
		chk.Detail = process.AsError(err).Msg
		return chk, id, err
	}
	chk.Configured, chk.Works, chk.Identity = true, true, id.ARN
	return chk, id, nil
}

func detectEnvironment(e *env, cloud9File, imdsWorks bool) string {
	uri := e.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	u, _ := url.Parse(uri)
	switch {
	case e.getenv("AWS_EXECUTION_ENV") == "CloudShell" || (u != nil && u.Host == "localhost:1338"):
		return "AWS CloudShell"
	case cloud9File:
		return "AWS Cloud9 with managed temporary credentials"
	case process.InCloud9(e.getenv) && imdsWorks:
		return "AWS Cloud9 (EC2) with an instance profile"
	case process.InCloud9(e.getenv):
		return "AWS Cloud9"
	case e.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" || strings.HasPrefix(e.getenv("AWS_EXECUTION_ENV"), "AWS_ECS") ||
		u != nil && strings.HasPrefix(u.Host, "169.254.170."):
		return "ECS/EKS container"
	case imdsWorks:
		return "EC2 instance with an instance profile"
	}
	return "workstation"
}

// shadowedProfiles finds profiles that run c9cred but have static keys in
// the credentials file, which the AWS CLI uses first.
func shadowedProfiles(e *env) []problem {
	cfgFile, credFile := process.SharedFiles(e.getenv)
	cfg, err := ini.LoadSources(ini.LoadOptions{AllowPythonMultilineValues: true, SpaceBeforeInlineComment: true}, cfgFile)
	if err != nil {
		return nil
	}
	creds, err := ini.Load(credFile)
	if err != nil {
		return nil
	}
	var out []problem
	for _, sec := range cfg.Sections() {
		if !process.RunsC9cred(sec.Key("credential_process").String()) {
			continue
		}
		name := strings.TrimSpace(strings.TrimPrefix(strings.Join(strings.Fields(sec.Name()), " "), "profile "))
		if cs, err := creds.GetSection(name); err == nil && cs.HasKey("aws_access_key_id") {
			out = append(out, problem{
				fmt.Sprintf("profile %s runs c9cred, but %s has static keys for it, which the AWS CLI uses instead", name, credFile),
				fmt.Sprintf("remove [%s] from %s (save the keys with `c9cred store NAME` first)", name, credFile),
			})
		}
	}
	return out
}

// inspectCache reports the backend and the entries, without creating a
// data key or changing anything.
func inspectCache(ctx context.Context, e *env) cacheCheck {
	var cc cacheCheck
	dir, err := cacheDir()
	if err != nil {
		cc.Why = err.Error()
		return cc
	}
	cc.Dir = dir
	cc.Entries = []cacheEntry{}
	var fellBack string
	store, why := keychain.Open(keychain.Options{Mode: keychain.ModeAuto, Dir: dir, Getenv: e.getenv, Warn: func(s string) { fellBack = s }})
	kctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	key, err := keychain.ReadDataKey(kctx, store)
	cc.Backend, cc.Why = store.Kind(), why
	if fellBack != "" {
		cc.Why = fellBack
	}
	if err != nil {
		if errors.Is(err, keychain.ErrNotFound) {
			cc.Why += "; no data key yet (created on first use)"
		} else {
			cc.Why += "; data key unreadable: " + err.Error()
		}
		return cc
	}
	c, err := cache.New(cache.Options{Dir: dir, Key: key, KeyID: keychain.Fingerprint(key)})
	if err != nil {
		cc.Why += "; " + err.Error()
		return cc
	}
	eachCached(c, func(_ string, entry cache.Entry, creds process.Credentials) {
		left := max(time.Until(entry.Expires).Round(time.Second), 0)
		cc.Entries = append(cc.Entries, cacheEntry{Role: creds.Role, Source: creds.Source, TimeLeft: left.String()})
	})
	sort.Slice(cc.Entries, func(i, j int) bool { return cc.Entries[i].Source < cc.Entries[j].Source })
	return cc
}

func printReport(e *env, r doctorReport) {
	w := e.stdout
	fmt.Fprintf(w, "Environment: %s\n\nSources (in the order --source auto tries them):\n", r.Environment)
	for _, s := range r.Sources {
		state := "not configured"
		switch {
		case s.Works:
			state = "works: " + s.Identity
		case s.Configured:
			state = "FAILS: " + s.Detail
		case s.Detail != "":
			state = s.Detail
		}
		fmt.Fprintf(w, "  %-18s %s\n", s.Source, state)
	}
	fmt.Fprintf(w, "\nCache: %s store (%s)\n  directory %s\n", r.Cache.Backend, r.Cache.Why, r.Cache.Dir)
	for _, c := range r.Cache.Entries {
		fmt.Fprintf(w, "  %s: %s left\n", c.Source, c.TimeLeft)
	}
	if len(r.StoredKeys) > 0 {
		fmt.Fprintln(w, "\nStored keys:")
		for _, k := range r.StoredKeys {
			fmt.Fprintf(w, "  %s (%s) in the %s store\n", k.Name, k.AccessKeyID, k.Store)
		}
	}
	if r.ClockSkew != "" {
		fmt.Fprintf(w, "\nClock: STS's clock is %s ahead of this machine's\n", r.ClockSkew)
	}
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "\nNo problems found.")
		return
	}
	fmt.Fprintln(w, "\nProblems:")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n    fix: %s\n", p.Problem, p.Fix)
	}
}
