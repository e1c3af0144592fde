package process

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// splitCases are command lines with the words Python's shlex.split (POSIX
// mode, as botocore uses for credential_process) gives for them.
var splitCases = []struct {
	name string
	in   string
	want []string
}{
	{"plain words", "c9cred --role arn:aws:iam::123456789012:role/Dev", []string{"c9cred", "--role", "arn:aws:iam::123456789012:role/Dev"}},
	{"runs of white space", "  a   b  ", []string{"a", "b"}},
	{"tabs and newlines separate", "a\tb\t\tc\nd\r\ne", []string{"a", "b", "c", "d", "e"}},
	{"empty line", "", nil},
	{"only white space", " \t ", nil},
	{"single quotes keep spaces", "'/opt/my tools/c9cred' --print", []string{"/opt/my tools/c9cred", "--print"}},
	{"single quotes keep backslashes and double quotes", `'a\b"c\'`, []string{`a\b"c\`}},
	{"single quotes keep dollar and backtick", "'$HOME `id`'", []string{"$HOME `id`"}},
	{"double quotes keep spaces", `"/opt/my tools/c9cred" --role x`, []string{"/opt/my tools/c9cred", "--role", "x"}},
	{"double quotes escape quote and backslash", `"a\"b\\c"`, []string{`a"b\c`}},
	{"double quotes keep other backslashes", `"a\nb\tc\'d"`, []string{`a\nb\tc\'d`}},
	{"double quotes keep backslash before dollar", `"\$HOME"`, []string{`\$HOME`}},
	{"double quotes keep backslash before backtick", "\"\\`id\\`\"", []string{"\\`id\\`"}},
	{"double quotes keep single quotes", `"it's"`, []string{"it's"}},
	{"backslash escapes a space", `/opt/my\ tools/c9cred --print`, []string{"/opt/my tools/c9cred", "--print"}},
	{"backslash escapes a quote", `it\'s \"x\"`, []string{"it's", `"x"`}},
	{"backslash escapes a backslash", `C:\\tools\\c9cred.exe`, []string{`C:\tools\c9cred.exe`}},
	{"backslash before an ordinary character", `a\bc`, []string{"abc"}},
	{"empty single-quoted word", "c9cred '' x", []string{"c9cred", "", "x"}},
	{"empty double-quoted word", `c9cred "" x`, []string{"c9cred", "", "x"}},
	{"empty quoted word at the end", "a ''", []string{"a", ""}},
	{"quotes join into one word", `a'b c'"d e"f`, []string{"ab cd ef"}},
	{"unicode", "ünï 'cödé 日本' 😀", []string{"ünï", "cödé 日本", "😀"}},
	{"hash is not a comment", "c9cred # not a comment", []string{"c9cred", "#", "not", "a", "comment"}},
	{"shell operators are plain characters", "a;b|c&&d >e $(f)", []string{"a;b|c&&d", ">e", "$(f)"}},
}

func TestSplitCommandSplitsLikeShlexPOSIX(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCommand(tc.in)
			if err != nil {
				t.Fatalf("SplitCommand(%q): %v", tc.in, err)
			}
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitCommand(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

const shlexScript = `import shlex,sys,json; print(json.dumps(shlex.split(sys.argv[1])))`

// python3 returns the path of a working python3 interpreter, or "" when
// there is none. It resolves version-manager shims (pyenv) to the real
// interpreter, which starts much faster.
func python3(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		return ""
	}
	out, err := exec.Command(py, "-c", "import shlex,sys; print(sys.executable)").Output()
	if err != nil {
		return ""
	}
	if real := strings.TrimSpace(string(out)); real != "" {
		return real
	}
	return py
}

// TestSplitCommandTableMatchesPythonShlex checks the table itself against
// the real shlex, so the expectations cannot drift from botocore's.
func TestSplitCommandTableMatchesPythonShlex(t *testing.T) {
	py := python3(t)
	if py == "" {
		t.Skip("python3 is not on PATH")
	}
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(py, "-c", shlexScript, tc.in).Output()
			if err != nil {
				t.Fatalf("python3 shlex.split(%q): %v", tc.in, err)
			}
			var want []string
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("shlex output %q: %v", out, err)
			}
			got, err := SplitCommand(tc.in)
			if err != nil {
				t.Fatalf("SplitCommand(%q): %v", tc.in, err)
			}
			if len(got) == 0 && len(want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("SplitCommand(%q) = %q, shlex.split gives %q", tc.in, got, want)
			}
		})
	}
}

var splitErrorCases = []struct{ name, in string }{
	{"unterminated single quote", "c9cred 'abc"},
	{"unterminated double quote", `c9cred "abc`},
	{"escaped closing double quote", `c9cred "abc\"`},
	{"lone single quote", "'"},
	{"lone double quote", `"`},
	{"trailing backslash", `c9cred \`},
}

func TestSplitCommandRejectsUnterminatedQuotesAndEscapes(t *testing.T) {
	py := python3(t)
	for _, tc := range splitErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			if py != "" {
				if out, err := exec.Command(py, "-c", shlexScript, tc.in).Output(); err == nil {
					t.Fatalf("shlex.split(%q) = %s, the case expects an error", tc.in, out)
				}
			}
			got, err := SplitCommand(tc.in)
			if err == nil {
				t.Errorf("SplitCommand(%q) = %q, want an error as shlex.split raises", tc.in, got)
			}
		})
	}
}

func TestRunsC9credRecognisesC9credCommandLines(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"c9cred --role x", true},
		{"c9cred", true},
		{"/usr/local/bin/c9cred", true},
		{"/usr/local/bin/c9cred --role arn:aws:iam::123456789012:role/Dev", true},
		{"'/opt/my tools/c9cred' --print", true},
		{`"/opt/my tools/c9cred" --print`, true},
		{`/opt/my\ tools/c9cred --print`, true},
		{"c9cred.exe --role x", true},
		{"  c9cred\t--role x", true},
		{shQuote(self) + " --role x", true}, // this very executable, whatever its name
		{"aws-vault exec x", false},
		{"", false},
		{"   ", false},
		{"python c9cred.py", false},
		{"python3 /usr/local/bin/c9cred", false},
		{"/usr/local/bin/c9cred-old", false},
		{"/usr/local/bin/notc9cred", false},
		{"'c9cred --role x", false}, // does not split
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := RunsC9cred(tc.in); got != tc.want {
				t.Errorf("RunsC9cred(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
