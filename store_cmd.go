package main

import (
	"bufio"
	"c9cred/internal/lazyre"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"c9cred/internal/redact"
	"c9cred/keychain"
	"c9cred/process"
)

// storeTimeout bounds everything `store` asks of a keychain.
const storeTimeout = 10 * time.Second

// cmdStore saves, lists and deletes long-term access keys. Secrets are read
// from a terminal prompt without echo, from stdin, or with --from-env from
// the environment; never from flags, which `ps` shows to everyone.
func cmdStore(ctx context.Context, args []string, e *env) int {
	fs := flag.NewFlagSet("c9cred store", flag.ContinueOnError)
	list := fs.Bool("list", false, "")
	del := fs.String("delete", "", "")
	fromEnv := fs.Bool("from-env", false, "")
	insecure := fs.Bool("insecure-file", false, "")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, storeUsage)
		return 0
	}
	if err != nil {
		return e.fail(err)
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	switch {
	case *list:
		if len(pos) > 0 || *del != "" {
			return e.fail(process.Usagef("store --list takes no name; usage: c9cred store --list"))
		}
		return storeList(ctx, e)
	case *del != "":
		if len(pos) > 0 {
			return e.fail(process.Usagef("store --delete takes one name; usage: c9cred store --delete NAME"))
		}
		return storeDelete(ctx, *del, e)
	}
	if len(pos) != 1 {
		return e.fail(process.Usagef("store needs exactly one NAME; usage: c9cred store NAME [--from-env] [--insecure-file]"))
	}
	name := pos[0]
	if err := keychain.ValidKeyName(name); err != nil {
		return e.fail(process.Usagef("store: name %v", err))
	}
	keys, err := readKeys(e, *fromEnv)
	if err != nil {
		return e.fail(err)
	}
	redact.Add(keys.SecretAccessKey)

	if why := keychain.Unreachable(e.getenv); why == "" {
		err := keychain.Keyring{Store: &keychain.OSStore{}}.Save(ctx, name, keys)
		if err == nil {
			fmt.Fprintf(e.stderr, "c9cred: stored keys %q (%s) in the OS keychain; use --source stored:%s\n", name, keys.AccessKeyID, name)
			return 0
		}
		if !*insecure {
			return e.fail(process.Failf("store: the OS keychain refused the keys: %v", err).
				WithHint("unlock the keychain and retry, or pass --insecure-file to keep them in a 0600 file instead"))
		}
		e.warn("the OS keychain refused the keys (%v); using the file store as --insecure-file asks", err)
	} else if !*insecure {
		dir, _ := keychain.InsecureDir()
		return e.fail(process.Failf("store: no keychain to keep the keys in: %s", why).
			WithHint("run inside a desktop session with a keychain, or pass --insecure-file to keep them unencrypted in a 0600 file under %s", dir))
	}
	dir, err := keychain.InsecureDir()
	if err != nil {
		return e.fail(process.Failf("store: no config directory for the file store: %v", err))
	}
	fsStore := &keychain.FileStore{Dir: dir}
	if err := (keychain.Keyring{Store: fsStore}).Save(ctx, name, keys); err != nil {
		return e.fail(process.Failf("store: %v", err))
	}
	p, _ := fsStore.Path("stored-" + name)
	fmt.Fprintf(e.stderr, "c9cred: stored keys %q (%s) unencrypted in %s (mode 0600); use --source stored:%s\n", name, keys.AccessKeyID, p, name)
	return 0
}

var (
	accessKeyIDRE = lazyre.New(`^[A-Z0-9]{16,128}$`)
	secretKeyRE   = lazyre.New(`^[A-Za-z0-9/+=]{16,128}$`)
)

// readKeys gets the access key id and secret from the environment, a
// terminal prompt, or two lines of stdin.
func readKeys(e *env, fromEnv bool) (keychain.StoredKeys, error) {
	var k keychain.StoredKeys
	switch f, isFile := e.stdin.(*os.File); {
	case fromEnv:
		k.AccessKeyID, k.SecretAccessKey = e.getenv("AWS_ACCESS_KEY_ID"), e.getenv("AWS_SECRET_ACCESS_KEY")
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return k, process.Usagef("store --from-env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set")
		}
	case isFile && term.IsTerminal(int(f.Fd())):
		var err error
		if k, err = promptKeys(); err != nil {
			return k, err
		}
	default:
		r := bufio.NewReader(io.LimitReader(e.stdin, 4096))
		id, _ := r.ReadString('\n')
		secret, _ := r.ReadString('\n')
		k.AccessKeyID, k.SecretAccessKey = strings.TrimSpace(id), strings.TrimSpace(secret)
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return k, process.Usagef("store: expected two lines on stdin, the access key id and then the secret access key; e.g. printf '%%s\\n%%s\\n' \"$ID\" \"$SECRET\" | c9cred store NAME")
		}
	}
	redact.Add(k.SecretAccessKey)
	if !accessKeyIDRE().MatchString(k.AccessKeyID) {
		return k, process.Usagef("store: %q is not an access key id; expected 16 or more capital letters and digits, such as AKIAIOSFODNN7EXAMPLE", k.AccessKeyID)
	}
	if strings.HasPrefix(k.AccessKeyID, "ASIA") {
		return k, process.Usagef("store: %s is a temporary key (ASIA...), which needs a session token and expires; store keeps long-term keys (AKIA...)", k.AccessKeyID)
	}
	if !secretKeyRE().MatchString(k.SecretAccessKey) {
		return k, process.Usagef("store: the secret access key is not in the expected form (16 to 128 characters of letters, digits and /+=)")
	}
	return k, nil
}

// promptKeys asks on the terminal, with no echo for the secret.
func promptKeys() (keychain.StoredKeys, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return keychain.StoredKeys{}, process.Failf("store: cannot open the terminal: %v", err)
	}
	defer tty.Close()
	fmt.Fprint(tty, "AWS access key id: ")
	id, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil {
		return keychain.StoredKeys{}, process.Failf("store: reading the access key id: %v", err)
	}
	fmt.Fprint(tty, "AWS secret access key (not shown): ")
	secret, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return keychain.StoredKeys{}, process.Failf("store: reading the secret access key: %v", err)
	}
	return keychain.StoredKeys{AccessKeyID: strings.TrimSpace(id), SecretAccessKey: strings.TrimSpace(string(secret))}, nil
}

// eachStored calls fn for every stored name in every store, warning about
// stores that cannot be listed.
func eachStored(ctx context.Context, e *env, fn func(kr keychain.Keyring, name, keyID string)) {
	for _, kr := range keychain.StoredKeyrings(e.getenv) {
		idx, err := kr.List(ctx)
		if err != nil {
			e.warn("cannot list the %s store: %v", kr.Store.Kind(), err)
			continue
		}
		for _, n := range keychain.Names(idx) {
			fn(kr, n, idx[n])
		}
	}
}

func storeList(ctx context.Context, e *env) int {
	found := false
	eachStored(ctx, e, func(kr keychain.Keyring, name, keyID string) {
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", name, keyID, kr.Store.Kind())
		found = true
	})
	if !found {
		fmt.Fprintln(e.stderr, "c9cred: no stored keys; save some with `c9cred store NAME`")
	}
	return 0
}

func storeDelete(ctx context.Context, name string, e *env) int {
	if err := keychain.ValidKeyName(name); err != nil {
		return e.fail(process.Usagef("store --delete: name %v", err))
	}
	deleted := false
	for _, kr := range keychain.StoredKeyrings(e.getenv) {
		err := kr.Delete(ctx, name)
		switch {
		case err == nil:
			deleted = true
			fmt.Fprintf(e.stderr, "c9cred: deleted stored keys %q from the %s store\n", name, kr.Store.Kind())
		case errors.Is(err, keychain.ErrNotFound):
		default:
			return e.fail(process.Failf("store --delete %s: %v", name, err))
		}
	}
	if !deleted {
		return e.fail(process.Failf("store --delete: no keys stored under %q", name).WithHint("`c9cred store --list` shows the stored names"))
	}
	return 0
}

// parseInterspersed parses flags that may come before or after positional
// arguments (`store NAME --from-env`), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		rest := fs.Args()
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

const storeUsage = `Usage:
  c9cred store NAME [--from-env] [--insecure-file]   save long-term keys
  c9cred store --list                                names and access key ids
  c9cred store --delete NAME

The keys are read from a prompt (the secret is not echoed), from two lines
on stdin, or with --from-env from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY;
never from flags. They go into the OS keychain; without one, --insecure-file
keeps them in a 0600 file. Use them with --source stored:NAME.
`
