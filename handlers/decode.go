package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxJSON bounds what decodeJSON reads. The server refuses larger bodies
// before any handler runs (web.MaxBody); this only keeps decodeJSON safe
// on its own.
const maxJSON = 1 << 20

// decodeOptionalJSON is decodeJSON for bodies that may be empty.
func decodeOptionalJSON(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// decodeJSON reads one JSON object into v, a pointer to a struct, refusing
// unknown fields (a typo such as "reson" must not pass silently), trailing
// data and bytes that are not UTF-8 (which encoding/json would quietly
// turn into U+FFFD). Its errors are 400s in words for the API's users:
// encoding/json's own messages name Go types and struct fields
// ("cannot unmarshal string into Go struct field changeRequest.low of
// type int"), which tell a client nothing it can use and show our insides.
func decodeJSON(c echo.Context, v any) error {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSON+1))
	if err != nil {
		return badJSON("The request body could not be read.").SetInternal(err)
	}
	return decodeBody(b, v)
}

func decodeBody(b []byte, v any) error {
	switch {
	case len(b) > maxJSON:
		return badJSON(fmt.Sprintf("The request body is larger than %d KiB.", maxJSON>>10))
	case !utf8.Valid(b):
		return badJSON("The request body is not valid UTF-8, which JSON requires.")
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return badJSON("The request body must be a JSON object; it is empty.")
	}
	// null decodes into a struct without error, as nothing: refused here
	// with the other values that are not objects.
	if trimmed[0] != '{' {
		return badJSON("The request body must be a JSON object ({…}), not " + jsonKind(trimmed[0]) + ".")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(describeDecodeError(err))
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return badJSON(fmt.Sprintf("The request body must hold one JSON object and nothing after it; more follows at byte %d.",
			len(b)-len(rest)))
	}
	return nil
}

func badJSON(msg string) *echo.HTTPError { return echo.NewHTTPError(http.StatusBadRequest, msg) }

// describeDecodeError says what was wrong with the body, naming the field
// where encoding/json tells which, and never repeating its wording.
func describeDecodeError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("The request body is not valid JSON: the error is at byte %d.", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is not valid JSON: it ends before the object does."
	case errors.As(err, &typ):
		return describeTypeError(typ)
	}
	// encoding/json reports an unknown field only as text:
	// json: unknown field "name".
	if name, ok := strings.CutPrefix(err.Error(), `json: unknown field `); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			return fmt.Sprintf("%s is not a field this request takes: check its spelling.", strconv.Quote(n))
		}
	}
	return "The request body is not a JSON object this request takes."
}

// describeTypeError names the field and what it must be.
func describeTypeError(e *json.UnmarshalTypeError) string {
	want := jsonTypeOf(e.Type)
	field := e.Field
	if field == "" {
		return "The request body must be a JSON object ({…})."
	}
	got, literal, isNumber := strings.Cut(e.Value, " ")
	if isNumber && got == "number" && want == "an integer" {
		if len(literal) > 24 {
			literal = literal[:24] + "…"
		}
		return fmt.Sprintf("%q must be an integer written with digits only, between %d and %d; %s is not.",
			field, int64(-1<<63), int64(1<<63-1), literal)
	}
	return fmt.Sprintf("%q must be %s, not %s.", field, want, jsonKindName(got))
}

// jsonTypeOf names, in JSON's terms, what a Go type takes.
func jsonTypeOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonKindName puts encoding/json's name of the value it found into a
// sentence.
func jsonKindName(v string) string {
	switch v {
	case "string", "number":
		return "a " + v
	case "object", "array":
		return "an " + v
	case "bool":
		return "true or false"
	}
	return "that value"
}

// jsonKind names the JSON value that starts with b.
func jsonKind(b byte) string {
	switch {
	case b == '[':
		return "an array"
	case b == '"':
		return "a string"
	case b == '-' || (b >= '0' && b <= '9'):
		return "a number"
	case b == 't' || b == 'f':
		return "true or false"
	case b == 'n':
		return "null"
	}
	return "something that is not JSON"
}
