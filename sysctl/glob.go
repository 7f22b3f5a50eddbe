package sysctl

import (
	"os"
	"sort"
	"strings"
)

// Both boot readers expand glob patterns with glibc's glob(3): in keys
// (procps 4.0.2 write_setting_list(), systemd 252 apply_all() via
// glob_extend()), and procps also in config file names (Preload() globs
// every path it opens, with GLOB_NOCHECK|GLOB_BRACE). This is the subset
// of glob(3) and fnmatch(3) those inputs reach: "*", "?", bracket
// expressions with "!" or "^" and ranges, backslash escapes, a leading "."
// matched only explicitly, and (for file names) brace alternatives.

// globMagic reports whether p has an unescaped "*" or "?", or a "[" with a
// "]" after it: glob() treats anything else as a literal path.
func globMagic(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		case '[':
			if strings.IndexByte(p[i+1:], ']') >= 0 {
				return true
			}
		}
	}
	return false
}

// hasGlobChars is the readers' own test (string_is_glob() in both): any of
// "*?[" makes a key a pattern, even one glob() then reads literally.
func hasGlobChars(s string) bool { return strings.ContainsAny(s, "*?[") }

// unescape drops glob backslashes from a literal path component.
func unescape(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// globFS is where glob looks: the real file system for /proc/sys, the
// config root for file names.
type globFS struct {
	list   func(dir string) []string
	exists func(path string) bool
}

var realFS = globFS{
	list: func(dir string) []string {
		names, _ := readDirNames(dir)
		return names
	},
	exists: func(path string) bool {
		_, err := os.Lstat(path)
		return err == nil
	},
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// glob returns the paths pattern (absolute) matches, sorted as glob()
// sorts them (strcmp order in the C and C.UTF-8 locales), or nil.
func (fsys globFS) glob(pattern string) []string {
	out := fsys.globDir(pattern)
	sort.Strings(out)
	return out
}

func (fsys globFS) globDir(pattern string) []string {
	i := strings.LastIndexByte(pattern, '/')
	if i < 0 {
		return nil
	}
	dirPat, base := pattern[:i], pattern[i+1:]
	var dirs []string
	switch {
	case dirPat == "":
		dirs = []string{""} // the root: "/" + name
	case globMagic(dirPat):
		dirs = fsys.globDir(dirPat)
	default:
		dirs = []string{unescape(dirPat)}
	}
	var out []string
	for _, d := range dirs {
		if !globMagic(base) {
			if p := d + "/" + unescape(base); fsys.exists(p) {
				out = append(out, p)
			}
			continue
		}
		dir := d
		if dir == "" {
			dir = "/"
		}
		for _, name := range fsys.list(dir) {
			if fnmatch(base, name) {
				out = append(out, d+"/"+name)
			}
		}
	}
	return out
}

// fnmatch matches one path component name against pattern as fnmatch()
// with FNM_PERIOD does (glob's default): a leading "." is matched only by
// a literal ".".
func fnmatch(pattern, name string) bool {
	if name != "" && name[0] == '.' && (pattern == "" || pattern[0] != '.') {
		return false
	}
	return match(pattern, name)
}

func match(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if match(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		case '[':
			if s == "" {
				return false
			}
			ok, rest, valid := matchBracket(p, s[0])
			if !valid { // no closing "]": a literal "["
				if s[0] != '[' {
					return false
				}
				p, s = p[1:], s[1:]
				continue
			}
			if !ok {
				return false
			}
			p, s = rest, s[1:]
		case '\\':
			if len(p) > 1 {
				p = p[1:]
			}
			fallthrough
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// matchBracket matches c against the bracket expression at the start of
// p; rest is the pattern after it. A "]" right after "[" or "[!" is a
// member, not the end.
func matchBracket(p string, c byte) (ok bool, rest string, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate, i = true, i+1
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return ok != negate, p[i+1:], true
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
	}
	return false, "", false
}

// braceExpand expands the first "{a,b,...}" of p (and, recursively, the
// rest) as GLOB_BRACE does; p without a complete brace is returned alone.
func braceExpand(p string) []string {
	open := -1
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' {
			i++
			continue
		}
		if p[i] == '{' {
			open = i
			break
		}
	}
	if open < 0 {
		return []string{p}
	}
	depth, start := 0, open+1
	var alts []string
	for i := open + 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			depth++
		case ',':
			if depth == 0 {
				alts = append(alts, p[start:i])
				start = i + 1
			}
		case '}':
			if depth > 0 {
				depth--
				continue
			}
			alts = append(alts, p[start:i])
			var out []string
			for _, a := range alts {
				out = append(out, braceExpand(p[:open]+a+p[i+1:])...)
			}
			return out
		}
	}
	return []string{p} // unbalanced: literal
}
