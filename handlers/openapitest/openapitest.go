// Package openapitest holds API traffic to the OpenAPI document
// (handlers/openapi.json): Transport wraps a test client so that every
// request to /api/v1 and its answer are checked against the document, and
// Operations lists what the document describes, for the test that compares
// it with the route table. It is imported by tests only, so kin-openapi
// never reaches the portpanel binary.
//
// kin-openapi (getkin/kin-openapi v0.153.0, the version the package list
// names) was picked over pb33f's libopenapi-validator: it validates OpenAPI
// 3.1 documents with JSON Schema 2020-12 (type arrays with "null", const)
// through santhosh-tekuri/jsonschema, and brings fewer modules.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"portpanel/handlers"
)

// Prefix is the part of the URL space the document describes.
const Prefix = "/api/v1/"

// Doc is the loaded, validated document and a router over its paths.
type Doc struct {
	T      *openapi3.T
	router routers.Router
}

var (
	loadOnce sync.Once
	loaded   *Doc
	loadErr  error
)

// Load parses and validates the embedded document, once per test binary.
func Load() (*Doc, error) {
	loadOnce.Do(func() { loaded, loadErr = load(handlers.OpenAPIDocument()) })
	return loaded, loadErr
}

func load(raw []byte) (*Doc, error) {
	ctx := context.Background()
	t, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load handlers/openapi.json: %w", err)
	}
	if err := t.Validate(ctx); err != nil {
		return nil, fmt.Errorf("handlers/openapi.json is not a valid OpenAPI document: %w", err)
	}
	r, err := gorillamux.NewRouter(t)
	if err != nil {
		return nil, fmt.Errorf("route handlers/openapi.json: %w", err)
	}
	return &Doc{T: t, router: r}, nil
}

// Operation is one method on one path of the document, with the role its
// x-portpanel-role extension names.
type Operation struct {
	Method, Path, Role string
}

// Operations lists the document's operations, sorted by path and method.
func (d *Doc) Operations() []Operation {
	var out []Operation
	for path, item := range d.T.Paths.Map() {
		for method, op := range item.Operations() {
			role, _ := op.Extensions["x-portpanel-role"].(string)
			out = append(out, Operation{Method: method, Path: path, Role: role})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Transport returns a RoundTripper that sends requests through next (nil:
// http.DefaultTransport) and reports on t every request under Prefix that
// breaks the document:
//   - an answer whose status the operation does not list, or whose body
//     does not match its schema;
//   - a request the document refuses (body, parameters, credentials) that
//     portpanel did not refuse with a 4xx: the document must not be
//     stricter than the server;
//   - a request to a method and path the document lacks that was not
//     answered 404 or 405.
//
// Tests that send malformed requests on purpose keep working: the check is
// that the server refuses them too.
func Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &validating{t: t, next: next}
}

type validating struct {
	t    testing.TB
	next http.RoundTripper
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, Prefix) {
		return v.next.RoundTrip(req)
	}
	doc, err := Load()
	if err != nil {
		v.t.Errorf("openapi: %v", err)
		return v.next.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given: the copy
	// sent on carries the body read here, the one validated another copy.
	body, err := readAll(req.Body)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = bodyOf(body, req.Body)
	in, routeErr := v.checkRequest(doc, req, body)
	res, err := v.next.RoundTrip(out)
	if err != nil {
		return res, err
	}
	res.Request = req
	what := fmt.Sprintf("openapi: %s %s answered %d", req.Method, req.URL.RequestURI(), res.StatusCode)
	switch {
	case routeErr != nil:
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			v.t.Errorf("%s, but handlers/openapi.json has no such operation (%v)", what, routeErr)
		}
		return res, nil
	case in.err != nil && (res.StatusCode < 400 || res.StatusCode > 499):
		v.t.Errorf("%s, but handlers/openapi.json refuses the request: %v", what, in.err)
	}
	if req.Method == http.MethodHead {
		// kin-openapi validates no answer to HEAD; its status still counts.
		if in.input.Route.Operation.Responses.Status(res.StatusCode) == nil {
			v.t.Errorf("%s, a status handlers/openapi.json does not list for it", what)
		}
		return res, nil
	}
	got, err := readAll(res.Body)
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(got))
	if err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in.input, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: options,
	}); err != nil {
		v.t.Errorf("%s, which handlers/openapi.json does not describe: %v\nanswer: %.600s", what, err, got)
	}
	return res, nil
}

// checked is a request as the document judged it.
type checked struct {
	input *openapi3filter.RequestValidationInput
	err   error
}

// checkRequest validates a copy of req with body; the error is the
// router's when the document has no operation for it.
func (v *validating) checkRequest(doc *Doc, req *http.Request, body []byte) (checked, error) {
	cp := req.Clone(req.Context())
	cp.Body = bodyOf(body, req.Body)
	route, params, err := doc.router.FindRoute(cp)
	if err != nil {
		return checked{}, err
	}
	in := &openapi3filter.RequestValidationInput{Request: cp, PathParams: params, Route: route, Options: options}
	return checked{input: in, err: openapi3filter.ValidateRequest(req.Context(), in)}, nil
}

// options make every status an operation answers count, leave request
// bodies as they were sent (no defaults filled in), and judge credentials
// by their presence: whether they are good is the server's to say.
var options = &openapi3filter.Options{
	IncludeResponseStatus: true,
	SkipSettingDefaults:   true,
	MultiError:            true,
	AuthenticationFunc:    present,
}

func present(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, s := in.RequestValidationInput.Request, in.SecurityScheme
	switch {
	case s.Type == "http" && s.Scheme == "bearer":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if _, err := r.Cookie(s.Name); err == nil {
			return nil
		}
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
	default:
		return fmt.Errorf("security scheme %q: type %s is not checked by openapitest", in.SecuritySchemeName, s.Type)
	}
	return errors.New("no " + in.SecuritySchemeName + " credential")
}

func readAll(r io.ReadCloser) ([]byte, error) {
	if r == nil || r == http.NoBody {
		return nil, nil
	}
	defer r.Close()
	return io.ReadAll(r)
}

// bodyOf is a fresh reader of b, or the original absent body.
func bodyOf(b []byte, orig io.ReadCloser) io.ReadCloser {
	if b == nil {
		return orig
	}
	return io.NopCloser(bytes.NewReader(b))
}
