package keychain_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"c9cred/keychain"
)

// With helperEnv set the test binary is a helper process instead (see
// TestAutoFallsBackToFileWhenBusIsDead).
const (
	helperEnv    = "C9CRED_KEYCHAIN_TEST_HELPER"
	helperDirEnv = "C9CRED_KEYCHAIN_TEST_DIR"
)

type helperReport struct {
	Kind     string
	Warnings []string
	Key      string // base64
	Err      string
}

func TestMain(m *testing.M) {
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "datakey-auto":
		// What c9cred does on every run, with the process environment.
		var r helperReport
		s, _ := keychain.Open(keychain.Options{
			Mode:    keychain.ModeAuto,
			Dir:     os.Getenv(helperDirEnv),
			Timeout: 5 * time.Second,
			Warn:    func(w string) { r.Warnings = append(r.Warnings, w) },
		})
		key, err := keychain.DataKey(context.Background(), s, nil)
		if err != nil {
			r.Err = err.Error()
		}
		r.Kind = s.Kind()
		r.Key = base64.StdEncoding.EncodeToString(key)
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		os.Exit(2)
	}
}
