package names

import (
	"regexp"
	"testing"
)

var oracle = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,63}$`)

func TestValidMatchesTheDocumentedPattern(t *testing.T) {
	for _, s := range []string{"default", "work-2", "a", "A.b@c+d=e_f", "", "-x", "_x", "a b", "é", "a/b", "x\n",
		"0123456789012345678901234567890123456789012345678901234567890123", "01234567890123456789012345678901234567890123456789012345678901234"} {
		if got, want := Valid(s, 64), oracle.MatchString(s); got != want {
			t.Errorf("Valid(%q) = %v, pattern says %v", s, got, want)
		}
	}
}

func FuzzValidMatchesThePattern(f *testing.F) {
	f.Add("default")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Valid(s, 64), oracle.MatchString(s); got != want {
			t.Errorf("Valid(%q) = %v, pattern says %v", s, got, want)
		}
	})
}
