package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds how deeply a document may nest. A valid policy nests seven levels at most
// (document, Statement array, statement, Condition, operator, key, value array); the bound
// only keeps hostile input from costing stack and time before validation names the member.
const maxDepth = 32

// kind is the JSON type of a value, named the way error messages name it.
type kind uint8

const (
	kindObject kind = iota
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func (k kind) String() string {
	switch k {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	default:
		return "null"
	}
}

// node is one JSON value with the byte offset where it starts, so that every rule the
// validator checks can point the author at the exact line and column of the offending value.
type node struct {
	kind    kind
	off     int
	text    string // string value, number literal, or "true"/"false"
	members []member
	elems   []*node
}

// member is one name/value pair of an object. Members keep document order and duplicates,
// which encoding/json's map decoding would silently collapse; the validator refuses them.
type member struct {
	name string
	off  int
	val  *node
}

// treeReader walks a document with json.Decoder.Token, recording where each value starts.
// The decoder does the JSON grammar; the reader only adds positions.
type treeReader struct {
	src []byte
	dec *json.Decoder
}

// readTree parses src into a node tree. Any failure is a *ParseError carrying a position.
func readTree(src []byte) (*node, error) {
	r := &treeReader{src: src, dec: json.NewDecoder(bytes.NewReader(src))}
	r.dec.UseNumber()
	root, err := r.value(0)
	if err != nil {
		return nil, err
	}
	// Token skips whitespace itself; anything but EOF after the document is an error, which
	// json.Unmarshal would also report.
	off := r.next()
	if _, err := r.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, r.syntaxError(err, off)
		}
		return nil, newParseError(src, off, "", "unexpected content after the policy document")
	}
	return root, nil
}

// next returns the offset where the next token starts: the decoder's offset moved past
// whitespace and the one ':' or ',' that may sit between two tokens.
func (r *treeReader) next() int {
	off := int(r.dec.InputOffset())
	off = skipSpace(r.src, off)
	if off < len(r.src) && (r.src[off] == ':' || r.src[off] == ',') {
		off = skipSpace(r.src, off+1)
	}
	return off
}

func skipSpace(src []byte, off int) int {
	for off < len(src) {
		switch src[off] {
		case ' ', '\t', '\n', '\r':
			off++
		default:
			return off
		}
	}
	return off
}

func (r *treeReader) value(depth int) (*node, error) {
	off := r.next()
	if depth > maxDepth {
		return nil, newParseError(r.src, off, "", fmt.Sprintf("the document nests deeper than %d levels", maxDepth))
	}
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.syntaxError(err, off)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return r.object(off, depth)
		case '[':
			return r.array(off, depth)
		}
		// A closing delimiter where a value belongs is refused by the decoder before it gets
		// here; keep the reader total anyway.
		return nil, newParseError(r.src, off, "", fmt.Sprintf("invalid JSON: unexpected %q", rune(t)))
	case string:
		return &node{kind: kindString, off: off, text: t}, nil
	case json.Number:
		return &node{kind: kindNumber, off: off, text: string(t)}, nil
	case bool:
		text := "false"
		if t {
			text = "true"
		}
		return &node{kind: kindBool, off: off, text: text}, nil
	case nil:
		return &node{kind: kindNull, off: off}, nil
	}
	return nil, newParseError(r.src, off, "", fmt.Sprintf("invalid JSON: unexpected token %v", tok))
}

func (r *treeReader) object(off, depth int) (*node, error) {
	n := &node{kind: kindObject, off: off}
	for r.dec.More() {
		keyOff := r.next()
		tok, err := r.dec.Token()
		if err != nil {
			return nil, r.syntaxError(err, keyOff)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, newParseError(r.src, keyOff, "", "invalid JSON: object member names must be strings")
		}
		val, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, member{name: name, off: keyOff, val: val})
	}
	return n, r.closing('}')
}

func (r *treeReader) array(off, depth int) (*node, error) {
	n := &node{kind: kindArray, off: off}
	for r.dec.More() {
		val, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, val)
	}
	return n, r.closing(']')
}

func (r *treeReader) closing(want json.Delim) error {
	off := r.next()
	tok, err := r.dec.Token()
	if err != nil {
		return r.syntaxError(err, off)
	}
	if tok != want {
		return newParseError(r.src, off, "", fmt.Sprintf("invalid JSON: expected %q", rune(want)))
	}
	return nil
}

// syntaxError turns a decoder error into a positioned ParseError. json.Decoder's offsets
// are not uniform (structural errors report the offset before the offending byte, errors
// inside a literal the offset after it), so the document is checked again with
// json.Unmarshal, whose scanner always reports the offset just past the offending byte.
func (r *treeReader) syntaxError(err error, fallback int) error {
	var raw json.RawMessage
	uerr := json.Unmarshal(r.src, &raw)
	var se *json.SyntaxError
	switch {
	case errors.As(uerr, &se) && int(se.Offset) >= len(r.src) && strings.Contains(se.Error(), "unexpected end"):
		return newParseError(r.src, len(r.src), "", "invalid JSON: the document ends too early")
	case errors.As(uerr, &se):
		return newParseError(r.src, max(int(se.Offset)-1, 0), "", "invalid JSON: "+se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return newParseError(r.src, len(r.src), "", "invalid JSON: the document ends too early")
	}
	return newParseError(r.src, fallback, "", "invalid JSON: "+err.Error())
}

// lineColumn converts a byte offset into a 1-based line and a 1-based column counted in
// characters, which is what an editor shows the author.
func lineColumn(src []byte, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, utf8.RuneCount(src[start:off]) + 1
}
