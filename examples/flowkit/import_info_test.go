package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/store"
)

// importInfoText writes n flows in the default text columns, one a second
// from 2026-01-01T10:00:00Z, each lasting i%7 seconds, all in one hour.
func importInfoText(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	const t0 = 1767261600 // 2026-01-01T10:00:00Z
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "10.0.%d.%d|192.0.2.%d|%d|%d|6|%d|%d|SA|%d.250|%d.000\n",
			i%4, 1+i%200, 1+i%50, 40000+i, []int{443, 80, 22}[i%3], 1+i%9, 100*(1+i%9), t0+i, i%7)
	}
	path := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// infoField returns the value of an info line ("records      1000").
func infoField(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("info prints no %q line:\n%s", name, out)
	}
	return strings.TrimSpace(m[1])
}

func TestImportThenInfo(t *testing.T) {
	text := importInfoText(t, 1000)
	repo := filepath.Join(t.TempDir(), "repo")
	out, errOut, code := qRun(t, "import", "-q", "-internal", "none", "-block", "300", "-repo", repo, text)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "imported 1000 records into "+repo) {
		t.Fatalf("import says %q", out)
	}
	out, errOut, code = qRun(t, "info", repo)
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, errOut)
	}
	// one hour, one type, one sensor: one file of blocks 300+300+300+100
	for name, want := range map[string]string{
		"repository": repo,
		"files":      "1",
		"blocks":     "4",
		"records":    "1000",
		"start time": "2026-01-01T10:00:00.250Z .. 2026-01-01T10:16:39.250Z",
		"end time":   ".. 2026-01-01T10:16:44.250Z", // row 999 starts last and lasts 999%7 = 5 s
	} {
		if got := infoField(t, out, name); got != want {
			t.Errorf("info %s: got %q, want %q", name, got, want)
		}
	}

	// info of the one file: its version and the same figures
	refs := repoFiles(t, repo)
	if len(refs) != 1 {
		t.Fatalf("%d files in the repository, want 1", len(refs))
	}
	out, errOut, code = qRun(t, "info", "-verify", refs[0])
	if code != 0 {
		t.Fatalf("info FILE: exit %d: %s", code, errOut)
	}
	if got := infoField(t, out, "version"); got != fmt.Sprint(store.Version) {
		t.Errorf("info FILE version %q", got)
	}
	if got := infoField(t, out, "records"); got != "1000" {
		t.Errorf("info FILE records %q", got)
	}
	if got := infoField(t, out, "blocks"); got != "4" {
		t.Errorf("info FILE blocks %q", got)
	}
}

func repoFiles(t *testing.T, dir string) []string {
	t.Helper()
	repo, err := store.OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := repo.Files(store.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range refs {
		paths = append(paths, r.Path)
	}
	return paths
}

// TestInfoNamesCorruptFile: a flipped byte inside a block is found by
// info -verify, a cut-off file by plain info, and both name the file.
func TestInfoNamesCorruptFile(t *testing.T) {
	text := importInfoText(t, 500)
	repo := filepath.Join(t.TempDir(), "repo")
	if _, errOut, code := qRun(t, "import", "-q", "-internal", "none", "-repo", repo, text); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	path := repoFiles(t, repo)[0]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	flipped := append([]byte(nil), data...)
	flipped[40] ^= 0x10 // inside block 0
	if err := os.WriteFile(path, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := qRun(t, "info", "-verify", repo)
	if code == 0 {
		t.Fatal("info -verify of a damaged repository exits 0")
	}
	if !strings.Contains(out, "damaged: ") || !strings.Contains(out, path) || !strings.Contains(out, "block 0") {
		t.Fatalf("info -verify does not name the damaged file and block:\n%s\n%s", out, errOut)
	}

	if err := os.WriteFile(path, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = qRun(t, "info", repo)
	if code == 0 || !strings.Contains(out, path) {
		t.Fatalf("info of a cut-off file: exit %d, output does not name %s:\n%s\n%s", code, path, out, errOut)
	}
	_, errOut, code = qRun(t, "info", path)
	if code == 0 || !strings.Contains(errOut, path) {
		t.Fatalf("info FILE of a cut-off file: exit %d, stderr does not name it: %s", code, errOut)
	}
}

// TestImportNamesBadInput: a malformed line stops the import with the
// file name, line and column, and the records before it are committed.
func TestImportNamesBadInput(t *testing.T) {
	text := importInfoText(t, 10)
	data, _ := os.ReadFile(text)
	data = append(data, "10.0.0.1|not-an-address|1|2|6|1|40|S|1767261600.000|0.000\n"...)
	os.WriteFile(text, data, 0o644)
	repo := filepath.Join(t.TempDir(), "repo")
	_, errOut, code := qRun(t, "import", "-q", "-repo", repo, text)
	if code == 0 {
		t.Fatal("import of a malformed file exits 0")
	}
	for _, want := range []string{text, "line 11", "dIP"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("import error %q does not say %q", errOut, want)
		}
	}
	if _, _, code := qRun(t, "import", "-q", "-repo", repo, filepath.Join(t.TempDir(), "missing.txt")); code == 0 {
		t.Error("import of a missing file exits 0")
	}
}
