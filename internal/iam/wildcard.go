package iam

import (
	"strings"
	"unicode/utf8"
)

// globKind picks the cheapest way a pattern can be matched. Most patterns in real policies
// are "*", a literal, or a literal followed by one "*"; compiling them to a comparison or a
// prefix test keeps evaluation free of the general matcher's loop.
type globKind uint8

const (
	globAny globKind = iota
	globExact
	globPrefix
	globGeneral
)

// glob is a compiled IAM wildcard pattern: '*' matches any run of characters (including
// none), '?' exactly one character. Case folding, where a rule wants it, is done by the
// caller lowercasing both sides once.
type glob struct {
	kind globKind
	text string // globExact: the literal; globPrefix: the part before '*'; globGeneral: the pattern
	// must is, for globGeneral, the longest wildcard-free run of the pattern. Any match
	// contains it, so strings.Contains rejects most non-matching inputs before the matcher
	// runs; in policies that run is usually the distinctive part, like /virtualclusters/prod-.
	must string
}

func compileGlob(p string) glob {
	if strings.Trim(p, "*") == "" && p != "" {
		return glob{kind: globAny}
	}
	i := strings.IndexAny(p, "*?")
	switch {
	case i < 0:
		return glob{kind: globExact, text: p}
	case i == len(p)-1 && p[i] == '*':
		return glob{kind: globPrefix, text: p[:i]}
	}
	return glob{kind: globGeneral, text: p, must: longestLiteral(p)}
}

func longestLiteral(p string) string {
	best := ""
	for _, run := range strings.FieldsFunc(p, func(r rune) bool { return r == '*' || r == '?' }) {
		if len(run) > len(best) {
			best = run
		}
	}
	return best
}

func (g glob) match(s string) bool {
	switch g.kind {
	case globAny:
		return true
	case globExact:
		return s == g.text
	case globPrefix:
		return strings.HasPrefix(s, g.text)
	}
	return strings.Contains(s, g.must) && wildMatch(g.text, s)
}

// wildMatch is the linear-time greedy wildcard match: on a mismatch it lets the most recent
// '*' swallow one more character and retries from there. Keeping only the latest '*' is
// enough because any earlier '*' could only absorb what the later one can. '?' and the
// backtracking step move by whole UTF-8 characters so '?' means one character, not byte.
func wildMatch(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				starP, starS = pi, si
				pi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi++
				si += n
				continue
			default:
				if c == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// resourcePattern is a compiled entry of a Resource or NotResource element. IAM's documented
// rule for resource ARNs: wildcards work within the colon-separated segments of an ARN, and
// a '*' that ends a segment may also expand past the colons that follow it. So
// arn:aws:emr-containers:*:*:/virtualclusters/* matches any region and account, and
// arn:aws:s3:::b* matches arn:aws:s3:::bucket:with:colons, while arn:aws:s3:::a*z does not
// match arn:aws:s3:::a:z.
type resourcePattern struct {
	glob           // fast paths: "*", a literal, a literal ending in the only '*'
	segs []segment // globGeneral: the pattern split at its colons
}

// segment is one colon-separated part of a resource pattern. starAfter marks a segment
// ending in '*', after which any number of further input segments may be absorbed.
type segment struct {
	g         glob
	starAfter bool
}

func compileResource(p string) resourcePattern {
	g := compileGlob(p)
	if g.kind != globGeneral {
		// A lone trailing '*' ends the last segment, so it may absorb everything after the
		// prefix: a plain prefix test is exactly the segment rule here.
		return resourcePattern{glob: g}
	}
	parts := strings.Split(p, ":")
	segs := make([]segment, len(parts))
	for i, part := range parts {
		segs[i] = segment{g: compileGlob(part), starAfter: strings.HasSuffix(part, "*")}
	}
	return resourcePattern{glob: g, segs: segs}
}

func (r *resourcePattern) match(s string) bool {
	if r.kind != globGeneral {
		return r.glob.match(s)
	}
	return strings.Contains(s, r.must) && matchSegments(r.segs, s)
}

// matchSegments runs the greedy wildcard algorithm one level up: the units are the input's
// colon-separated segments, each pattern segment must match one input segment, and a
// pattern segment ending in '*' is followed by an implicit star over whole segments. The
// same argument as in wildMatch makes remembering only the latest such star sufficient, so
// the cost stays linear in the number of segments whatever the input.
func matchSegments(segs []segment, s string) bool {
	end := len(s) + 1 // input position meaning "no segments left"
	nextSeg := func(off int) (string, int) {
		if i := strings.IndexByte(s[off:], ':'); i >= 0 {
			return s[off : off+i], off + i + 1
		}
		return s[off:], end
	}
	pi, off := 0, 0
	starP, starOff := -1, 0
	for {
		if pi == len(segs) && off == end {
			return true
		}
		if pi < len(segs) && off < end {
			seg, next := nextSeg(off)
			if segs[pi].g.match(seg) {
				if segs[pi].starAfter {
					starP, starOff = pi+1, next
				}
				pi, off = pi+1, next
				continue
			}
		}
		if starP < 0 || starOff >= end {
			return false
		}
		_, starOff = nextSeg(starOff)
		pi, off = starP, starOff
	}
}
