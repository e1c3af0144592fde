// Package names checks the short names c9cred accepts for stored keys,
// keychain items and profiles: a letter or digit, then letters, digits and
// _.@+=- . It is a loop rather than a regular expression because it runs on
// every cache hit, where compiling a pattern cost more than the rest of
// c9cred's own work.
package names

// Valid reports whether s is 1 to max characters of [A-Za-z0-9][A-Za-z0-9_.@+=-]*.
func Valid(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '@' && c != '+' && c != '=' && c != '-') {
			return false
		}
	}
	return true
}
