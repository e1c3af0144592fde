package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"c9cred/cache"
	"c9cred/internal/securefs"
	"c9cred/keychain"
	"c9cred/process"
)

// DefaultRefreshWindow matches botocore, which re-runs credential_process on
// every call once fewer than 15 minutes remain.
const DefaultRefreshWindow = 15 * time.Minute

// credFlags are the flags shared by every command that obtains credentials.
type credFlags struct {
	role, source, sessionName, duration, externalID, region string
	cacheMode, refreshWindow, timeout                       string
	forceRefresh                                            bool
	profile                                                 string
	mfaSerial, mfaToken, mfaProcess, mfaSessionDuration     string
	noMFASession                                            bool
	fs                                                      *flag.FlagSet
}

func (f *credFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.profile, "profile", "", "")
	fs.StringVar(&f.mfaSerial, "mfa-serial", "", "")
	fs.StringVar(&f.mfaToken, "mfa-token", "", "")
	fs.StringVar(&f.mfaProcess, "mfa-process", "", "")
	fs.StringVar(&f.mfaSessionDuration, "mfa-session-duration", "", "")
	fs.BoolVar(&f.noMFASession, "no-mfa-session", false, "")
	fs.StringVar(&f.role, "role", "", "")
	fs.StringVar(&f.source, "source", "auto", "")
	fs.StringVar(&f.sessionName, "session-name", "", "")
	fs.StringVar(&f.duration, "duration", "", "")
	fs.StringVar(&f.externalID, "external-id", "", "")
	fs.StringVar(&f.region, "region", "", "")
	fs.StringVar(&f.cacheMode, "cache", "auto", "")
	fs.StringVar(&f.refreshWindow, "refresh-window", "", "")
	fs.StringVar(&f.timeout, "timeout", "", "")
	fs.BoolVar(&f.forceRefresh, "force-refresh", false, "")
}

// cacheOptions is how a command uses the cache.
type cacheOptions struct {
	mode   string // auto, keychain, file, off
	policy cache.Policy
}

// build validates the flags into a request; every error is a usage error.
func (f *credFlags) build(getenv func(string) string) (*process.Request, cacheOptions, error) {
	r := &process.Request{Getenv: getenv, Duration: process.DefaultDuration}
	var err error
	if f.profile != "" {
		if err := f.applyProfile(getenv); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	if err := f.buildMFA(r); err != nil {
		return nil, cacheOptions{}, err
	}
	if r.Source, err = process.ParseSource(f.source); err != nil {
		return nil, cacheOptions{}, err
	}
	if f.role != "" {
		if r.RoleARN, err = process.ParseRoleARN(f.role); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	if f.duration != "" {
		if r.Duration, err = process.ParseDuration("--duration", f.duration, process.MinDuration, process.MaxDuration); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	r.SessionName = process.DefaultSessionName(getenv)
	if f.sessionName != "" {
		if r.SessionName, err = process.ParseSessionName(f.sessionName); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	if r.ExternalID, err = process.ParseExternalID(f.externalID); err != nil {
		return nil, cacheOptions{}, err
	}
	if r.Region, err = process.ParseRegion(f.region); err != nil {
		return nil, cacheOptions{}, err
	}
	if f.timeout != "" {
		if r.Timeout, err = process.ParseDuration("--timeout", f.timeout, time.Second, 10*time.Minute); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	co := cacheOptions{mode: f.cacheMode, policy: cache.Policy{
		Window: DefaultRefreshWindow, Force: f.forceRefresh, Stale: time.Minute,
		// Ride out outages, not configuration errors.
		Transient: func(err error) bool { return process.AsError(err).Exit == process.ExitFailure },
	}}
	// "off" is the cache's own; the rest name where the data key is kept.
	if _, err := keychain.ParseMode(co.mode); err != nil && co.mode != "off" {
		return nil, cacheOptions{}, process.Usagef("--cache %q is not a cache mode; accepted: auto, keychain, file, off", co.mode)
	}
	if f.refreshWindow != "" {
		if co.policy.Window, err = process.ParseDuration("--refresh-window", f.refreshWindow, 0, process.MaxDuration); err != nil {
			return nil, cacheOptions{}, err
		}
	}
	if r.RoleARN != "" && co.policy.Window >= r.Duration {
		return nil, cacheOptions{}, process.Usagef("--duration %s leaves no time outside the %s refresh window, so every call would fetch a new session; use a longer --duration or a shorter --refresh-window", r.Duration, co.policy.Window)
	}
	return r, co, nil
}

// applyProfile fills every flag the user did not give from --profile's
// section of the shared config: flags override the file.
func (f *credFlags) applyProfile(getenv func(string) string) error {
	ps, err := process.LoadProfileSettings(getenv, f.profile)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	}
	for name, v := range ps.Values {
		if given[name] || f.fs == nil {
			continue
		}
		if err := f.fs.Set(name, v); err != nil {
			return process.Usagef("--profile %s: %s = %q: %v", f.profile, name, v, err)
		}
	}
	// duration_seconds is plain seconds, which --duration accepts as is.
	return nil
}

func (f *credFlags) buildMFA(r *process.Request) error {
	var err error
	r.MFA.SessionDuration = process.DefaultMFASessionDuration
	r.MFA.NoSession = f.noMFASession
	if f.mfaSerial == "" {
		if f.mfaToken != "" || f.mfaProcess != "" || f.noMFASession {
			return process.Usagef("--mfa-token, --mfa-process and --no-mfa-session need --mfa-serial ARN")
		}
		return nil
	}
	if r.MFA.Serial, err = process.ParseMFASerial(f.mfaSerial); err != nil {
		return err
	}
	if f.mfaToken != "" {
		if r.MFA.Token, err = process.ParseMFAToken(f.mfaToken); err != nil {
			return err
		}
	}
	if f.mfaProcess != "" {
		if r.MFA.Process, err = process.ParseMFAProcess(f.mfaProcess); err != nil {
			return err
		}
	}
	if f.mfaSessionDuration != "" {
		if r.MFA.SessionDuration, err = process.ParseDuration("--mfa-session-duration", f.mfaSessionDuration, process.MinDuration, process.MaxMFASessionDuration); err != nil {
			return err
		}
	}
	return nil
}

// parseCommand parses a subcommand's flags. When done is true the command
// is over: help was printed (code 0) or the flags were wrong (code 2).
func parseCommand(fs *flag.FlagSet, args []string, usage string, e *env) (code int, done bool) {
	err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, usage)
		return 0, true
	}
	if err != nil {
		return e.fail(err), true
	}
	return 0, false
}

// parseFlags parses args into fs, turning the flag package's errors into
// one-line usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			return process.Usagef("unknown flag --%s; run `c9cred --help` for the accepted flags", strings.TrimLeft(name, "-"))
		}
		if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
			return process.Usagef("flag --%s needs a value; run `c9cred --help`", strings.TrimLeft(name, "-"))
		}
		return process.Usagef("%s; run `c9cred --help`", msg)
	}
	return nil
}

func cmdCredentials(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred", flag.ContinueOnError)
	var cf credFlags
	cf.register(fs)
	printMode := fs.Bool("print", false, "")
	format := fs.String("format", "", "")
	profileName := fs.String("profile-name", "c9cred", "")
	if code, done := parseCommand(fs, args, usageText, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return e.fail(process.Usagef("unexpected argument %q; c9cred takes only flags here (run `c9cred --help`)", fs.Arg(0)))
	}
	if *format != "" && !*printMode {
		return e.fail(process.Usagef("--format %q needs --print; without --print c9cred prints credential_process JSON", *format))
	}
	if *printMode {
		if *format == "" {
			*format = "export"
		}
		if _, err := process.ParseFormat(*format); err != nil {
			return e.fail(err)
		}
	}
	req, co, err := cf.build(e.getenv)
	if err != nil {
		return e.fail(err)
	}
	if e.getenv(process.GuardEnv) != "" {
		return e.fail(process.Usagef("c9cred is running itself: a credential source of another c9cred (a profile's credential_process, perhaps behind a script) starts c9cred again").
			WithHint("give the outer c9cred a --source that does not lead back to c9cred: env, profile:NAME with keys, or stored:NAME"))
	}

	creds, err := obtain(ctx, req, co, e)
	if err != nil {
		return e.fail(err)
	}
	if !*printMode {
		out := creds.JSON()
		out = append(out, '\n')
		if _, err := e.stdout.Write(out); err != nil {
			return e.fail(process.Failf("write credentials: %v", err))
		}
		return 0
	}
	if req.Source.Kind == "auto" && creds.Source != "" {
		fmt.Fprintf(e.stderr, "c9cred: credentials from %s\n", creds.Source)
	}
	if creds.Cloud9Managed {
		fmt.Fprintf(e.stderr, "c9cred: note: these are AWS Cloud9 managed temporary credentials. %s. %s.\n", process.Cloud9HintAssumeRole, process.Cloud9HintExpired)
	}
	if err := process.Write(e.stdout, *format, &creds, process.FormatOptions{ProfileName: *profileName}); err != nil {
		return e.fail(err)
	}
	return 0
}

// cacheDir is where entries and the file-store data key live.
func cacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", process.Usagef("no cache directory: %v", err).WithHint("set HOME or XDG_CACHE_HOME, or pass --cache off")
	}
	return filepath.Join(d, "c9cred"), nil
}

// openCache opens the cache with its data key from the chosen store.
func openCache(ctx context.Context, mode string, e *env) (*cache.Cache, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	store, _ := keychain.Open(keychain.Options{
		Mode:   keychain.Mode(mode),
		Dir:    dir,
		Getenv: e.getenv,
		Warn:   func(s string) { e.warn("%s", s) },
	})
	// Reading a file-store key needs no directory check (securefs.ReadFile
	// checks the file itself) and cache.New checks the directory below, so
	// a cache hit checks it once; only creating a key, whose lock file and
	// key file go into the directory, needs it safe first.
	key, err := keychain.DataKey(ctx, store, func(ctx context.Context) (func(), error) {
		if err := securefs.EnsureDir(dir); err != nil {
			return nil, err
		}
		return cache.LockFile(ctx, filepath.Join(dir, "data-key.lock"))
	})
	if err != nil {
		pe := process.Failf("cache data key: %v", err)
		if mode == "keychain" {
			pe.Hint = "no usable keychain; unlock it, or pass --cache file (key in a 0600 file) or --cache off"
		}
		return nil, pe
	}
	return cache.New(cache.Options{Dir: dir, Key: key, KeyID: keychain.Fingerprint(key)})
}

// obtain returns credentials for req: from the cache when a fresh entry is
// there, else from process.Produce under the cache's single-flight lock.
func obtain(ctx context.Context, req *process.Request, co cacheOptions, e *env) (process.Credentials, error) {
	if co.mode == "off" {
		return checkExpiry(produceUncached(ctx, req))
	}
	c, err := openCache(ctx, co.mode, e)
	if err != nil {
		if co.mode == "keychain" {
			return process.Credentials{}, err
		}
		e.warn("%v; continuing without the cache", err)
		return checkExpiry(produceUncached(ctx, req))
	}
	name := cache.Name(req.CacheKeyParts()...)
	// Waiting for another process's refresh is bounded like our own would be.
	lockCtx, cancel := context.WithTimeout(ctx, waitBound(req))
	defer cancel()
	creds, err := fetchCached(lockCtx, c, name, co.policy, req, e, func(ctx context.Context) (process.Credentials, error) {
		return produceWithMFA(ctx, req, func(ctx context.Context) (process.Credentials, error) {
			// One MFA session per device, cached on its own and shared by
			// every role: only its refresh asks for a code.
			mfaPolicy := co.policy
			mfaPolicy.Force = false
			return fetchCached(ctx, c, cache.Name(req.MFACacheKeyParts()...), mfaPolicy, req, e, func(ctx context.Context) (process.Credentials, error) {
				return process.ProduceMFASession(ctx, req)
			})
		})
	})
	if err != nil {
		return process.Credentials{}, err
	}
	return checkExpiry(creds, nil)
}

// produceUncached is obtain without a cache: an MFA session, if any, lives
// only as long as this process.
func produceUncached(ctx context.Context, req *process.Request) (process.Credentials, error) {
	return produceWithMFA(ctx, req, func(ctx context.Context) (process.Credentials, error) {
		return process.ProduceMFASession(ctx, req)
	})
}

// produceWithMFA produces req's credentials; when req goes through an MFA
// session, session supplies it and the role (if any) is assumed from it.
func produceWithMFA(ctx context.Context, req *process.Request, session func(context.Context) (process.Credentials, error)) (process.Credentials, error) {
	if !req.UsesMFASession() {
		return process.Produce(ctx, req)
	}
	sess, err := session(ctx)
	if err != nil || req.RoleARN == "" {
		return sess, err
	}
	r := *req
	r.Base = &sess
	return process.Produce(ctx, &r)
}

// eachCached calls fn for every entry in c that opens and holds
// credentials; the rest (foreign, damaged, other keys) are skipped.
func eachCached(c *cache.Cache, fn func(name string, entry cache.Entry, creds process.Credentials)) {
	names, _ := c.Names()
	for _, n := range names {
		entry, err := c.Get(n)
		if err != nil {
			continue
		}
		if creds, err := process.UnmarshalPayload(entry.Payload); err == nil {
			fn(n, entry, creds)
		}
	}
}

// fetchCached is Cache.Fetch for credentials.
func fetchCached(ctx context.Context, c *cache.Cache, name string, p cache.Policy, req *process.Request, e *env, produce func(context.Context) (process.Credentials, error)) (process.Credentials, error) {
	entry, res, err := c.Fetch(ctx, name, p, func(ctx context.Context) (cache.Entry, error) {
		creds, err := produce(ctx)
		if err != nil {
			return cache.Entry{}, err
		}
		payload, err := creds.MarshalPayload()
		if err != nil {
			return cache.Entry{}, err
		}
		return cache.Entry{Expires: creds.Expiration, Payload: payload}, nil
	})
	if errors.Is(err, cache.ErrLockTimeout) {
		pe := process.Failf("%v", err).WithHint("another c9cred has been fetching these credentials for too long; retry, or pass --cache off")
		if req.MFA.Serial != "" {
			pe = process.Failf("another c9cred is waiting for an MFA code for %s", req.MFA.Serial).
				WithHint("type the code where it is asked for (or run `c9cred --print` with the same flags in a terminal), then retry")
		}
		return process.Credentials{}, pe
	}
	if err != nil {
		return process.Credentials{}, err
	}
	if res.Warning != "" {
		e.warn("%s", res.Warning)
	}
	creds, err := process.UnmarshalPayload(entry.Payload)
	if err != nil {
		return process.Credentials{}, process.Failf("decode credentials: %v", err)
	}
	return creds, nil
}

// mfaWait bounds how long a process waits for another one that is asking a
// person for an MFA code.
const mfaWait = 2 * time.Minute

func waitBound(req *process.Request) time.Duration {
	if req.MFA.Serial != "" && req.MFA.Token == "" {
		return mfaWait
	}
	if req.Timeout > 0 {
		return req.Timeout + 5*time.Second
	}
	return process.DefaultTimeout + 5*time.Second
}

// checkExpiry refuses to hand out credentials that are already expired.
func checkExpiry(c process.Credentials, err error) (process.Credentials, error) {
	if err != nil {
		return c, err
	}
	if c.CanExpire() && !c.Expiration.After(time.Now()) {
		return process.Credentials{}, process.Failf("the credentials from %s expired at %s, before they could be used", c.Source, c.Expiration.Format(time.RFC3339)).
			WithHint("if that time looks current, this machine's clock is wrong; otherwise the source hands out expired credentials")
	}
	return c, nil
}
