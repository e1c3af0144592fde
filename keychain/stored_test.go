package keychain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"c9cred/keychain"
)

func TestKeyringSaveLoadListDelete(t *testing.T) {
	ctx := t.Context()
	kr := keychain.Keyring{Store: &keychain.FileStore{Dir: t.TempDir()}}
	prod := keychain.StoredKeys{AccessKeyID: "AKIAPROD", SecretAccessKey: "prod-secret"}
	dev := keychain.StoredKeys{AccessKeyID: "AKIADEV", SecretAccessKey: "dev-secret"}
	for name, k := range map[string]keychain.StoredKeys{"prod": prod, "dev": dev} {
		if err := kr.Save(ctx, name, k); err != nil {
			t.Fatalf("Save %s: %v", name, err)
		}
	}
	if got, err := kr.Load(ctx, "prod"); err != nil || got != prod {
		t.Errorf("Load(prod) = %+v, %v", got, err)
	}
	idx, err := kr.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := keychain.Names(idx); !slices.Equal(names, []string{"dev", "prod"}) || idx["prod"] != "AKIAPROD" {
		t.Errorf("List = %v", idx)
	}
	for _, v := range idx {
		if v == prod.SecretAccessKey || v == dev.SecretAccessKey {
			t.Error("the index holds a secret access key")
		}
	}
	if err := kr.Delete(ctx, "prod"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := kr.Load(ctx, "prod"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("Load after Delete = %v, want ErrNotFound", err)
	}
	if err := kr.Delete(ctx, "prod"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
	if idx, _ := kr.List(ctx); len(idx) != 1 || idx["dev"] != "AKIADEV" {
		t.Errorf("List after Delete = %v, want only dev", idx)
	}
}

func TestValidKeyName(t *testing.T) {
	for _, ok := range []string{"prod", "a", "my.keys@acct+1=x_y-z", strings.Repeat("a", 64)} {
		if err := keychain.ValidKeyName(ok); err != nil {
			t.Errorf("ValidKeyName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", ".x", "a/b", "../x", "a b", "é", "x\n", strings.Repeat("a", 65)} {
		if err := keychain.ValidKeyName(bad); err == nil {
			t.Errorf("ValidKeyName(%q) accepted", bad)
		}
	}
}
