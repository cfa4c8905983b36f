// Package kasko is a client for the KASKO Payments API over libkasko, the
// C library (libkasko.so.1, C API 1.1), through cgo.
//
//	client, err := kasko.NewClientWithConfig(kasko.Config{
//		PublicKey: "pk_test_...", SecretKey: "sk_test_...", Timeout: 30 * time.Second,
//	})
//	if err != nil { ... }
//	defer client.Close()
//	payment, err := client.CreatePayment(kasko.PaymentRequest{
//		Token: "ptok_...", Provider: "invoice", Method: "invoice", PolicyID: "tpol_...",
//	}, kasko.WithTimeout(5*time.Second), kasko.WithTraceparent(traceparent))
//	var kerr *kasko.Error
//	if errors.As(err, &kerr) && kerr.Status == kasko.StatusPendingPayment { ... kerr.PendingPaymentID ... }
//	id, _ := payment.MemberString("id")
//
// The package translates types and ownership only: a Config is handed to
// the library key by key (kasko_config; the library escapes the values, no
// JSON is written here), and NewClient still takes the C API's JSON text;
// validation, retries, the JSON shapes and every message are the library's
// (see kasko.h). Results are the library's kasko_result:
// a *Payment on success (the payment object as JSON, typed getters, and
// typed access to its members, read by the library), an *Error otherwise
// (built from the result's typed getters).
//
// With libkasko 1.2, Client.SetEventHook(func(Event)) sees one Event (a
// plain struct copied from the library's borrowed event) per HTTP attempt
// and per call end, on the calling goroutines, many at once; a panic in it
// is recovered, never unwound into C. Payment.TotalTime and
// Error.TotalTime are a call's wall time. With libkasko 1.3,
// VerifyWebhook checks a webhook's X-KASKO-Signature, and the checkout
// calls (checkout.go) are there: CreateQuote, CreateOffer, GetOffer,
// GetPolicy (Payment.ETag, Payment.LastModified) and ResolvePayment, the
// way out of an outcome-unknown CreatePayment without a second payment.
//
// With libkasko 1.4 the calls are made over the asynchronous C API
// (kasko_*_async, async.go): a goroutine waiting for an answer is parked on
// a channel, holding no OS thread, and the call completes through a
// callback on the client's engine thread. Every call has a Context form
// (GetPaymentContext, ...): when its context is done the call is cancelled
// (kasko_call_cancel) and its *Error, StatusCancelled, wraps ctx.Err().
// Close ends the calls in flight, StatusCancelled. ResolvePayment, which
// has no asynchronous form in the C API, and calls made from inside an
// event hook stay blocking.
//
// Building needs kasko.h and libkasko.so of 1.1 or later: with libkasko-dev
// (or make install) they are where the C compiler looks; for a libkasko
// build tree set CGO_CFLAGS=-I$TREE/include and CGO_LDFLAGS=-L$TREE/build
// (and LD_LIBRARY_PATH=$TREE/build to run).
package kasko

/*
#cgo LDFLAGS: -lkasko
#include <stdlib.h>
#include <string.h>
#include <kasko.h>

#if !defined(KASKO_VERSION_NUMBER) || KASKO_VERSION_NUMBER < 1001000
#error "the kasko Go package needs kasko.h 1.1 or later"
#endif

#include <stdint.h>

// What the library holds as an event hook's user data: the hook's
// runtime/cgo.Handle, and the id of the Client that set it.
typedef struct kasko_go_hook {
	uintptr_t handle;
	uint64_t client_id;
} kasko_go_hook;

// Everything an Event copies, read in one cgo call. Strings point into the
// borrowed event: copied into Go before the hook is called.
typedef struct kasko_go_event {
	const char *kind, *operation, *method, *route, *path, *message, *request_id, *json;
	size_t kind_length, operation_length, method_length, route_length, path_length;
	int64_t attempt, http_status, status, outcome, retry, retry_delay_ms;
	int64_t bytes_sent, bytes_received, dns_us, connect_us, tls_us, first_byte_us, total_us;
} kasko_go_event;

static int64_t kasko_go_int64(const kasko_result *event, const char *name) {
	int64_t value = 0;
	return kasko_result_member_int64(event, name, &value) == KASKO_OK ? value : 0;
}

static const char *kasko_go_string(const kasko_result *event, const char *name, size_t *length) {
	const char *value = NULL;
	*length = 0;
	return kasko_result_member_string(event, name, &value, length) == KASKO_OK ? value : NULL;
}

static void kasko_go_read_event(const kasko_result *event, kasko_go_event *out) {
	int retry = 0;
	out->kind = kasko_go_string(event, "event", &out->kind_length);
	out->operation = kasko_go_string(event, "operation", &out->operation_length);
	out->method = kasko_go_string(event, "method", &out->method_length);
	out->route = kasko_go_string(event, "route", &out->route_length);
	out->path = kasko_go_string(event, "path", &out->path_length);
	out->message = kasko_result_message(event);
	out->request_id = kasko_result_request_id(event);
	out->json = kasko_result_json(event);
	out->attempt = kasko_result_attempts(event);
	out->http_status = kasko_result_http_status(event);
	out->status = (int64_t)kasko_result_status(event);
	out->outcome = (int64_t)kasko_result_outcome(event);
	out->retry = kasko_result_member_bool(event, "retry", &retry) == KASKO_OK && retry;
	out->retry_delay_ms = kasko_go_int64(event, "retry_delay_ms");
	out->bytes_sent = kasko_go_int64(event, "bytes_sent");
	out->bytes_received = kasko_go_int64(event, "bytes_received");
	out->dns_us = kasko_go_int64(event, "dns_us");
	out->connect_us = kasko_go_int64(event, "connect_us");
	out->tls_us = kasko_go_int64(event, "tls_us");
	out->first_byte_us = kasko_go_int64(event, "first_byte_us");
	out->total_us = kasko_go_int64(event, "total_us");
}

// The client whose hook this thread is running (0: none). A Go hook runs on
// the thread of the call that delivered the event (a cgo callback stays on
// it), so this says on which thread a hook is running.
static __thread uint64_t kasko_go_hook_client_id;

static uint64_t kasko_go_inside_hook_of(void) { return kasko_go_hook_client_id; }

#if KASKO_VERSION_NUMBER >= 1002000
// Exported by hook.go.
extern void kaskoGoDeliverEvent(kasko_result *event, uintptr_t handle);

static void kasko_go_deliver(const kasko_result *event, void *user_data) {
	const kasko_go_hook *hook = user_data;
	uint64_t outer = kasko_go_hook_client_id;
	kasko_go_hook_client_id = hook->client_id;
	kaskoGoDeliverEvent((kasko_result *)event, hook->handle);
	kasko_go_hook_client_id = outer;
}

// Sets `handle` (0: clears) as the client's hook; on success *installed is
// the new user data (NULL when cleared), for the caller to free once it is
// replaced in turn.
static kasko_status kasko_go_set_event_hook(kasko_client *client, uintptr_t handle, uint64_t client_id,
                                            kasko_go_hook **installed) {
	kasko_go_hook *hook = NULL;
	*installed = NULL;
	if (handle != 0) {
		hook = malloc(sizeof *hook);
		if (hook == NULL) return KASKO_ERR_INTERNAL;
		hook->handle = handle;
		hook->client_id = client_id;
	}
	kasko_status status = kasko_client_set_event_hook(client, hook != NULL ? kasko_go_deliver : NULL, hook);
	if (status != KASKO_OK) {
		free(hook);
		return status;
	}
	*installed = hook;
	return KASKO_OK;
}

static int64_t kasko_go_total_time_us(const kasko_result *result) { return kasko_result_total_time_us(result); }
#else
static kasko_status kasko_go_set_event_hook(kasko_client *client, uintptr_t handle, uint64_t client_id,
                                            kasko_go_hook **installed) {
	(void)client; (void)handle; (void)client_id;
	*installed = NULL;
	return KASKO_ERR_INVALID_ARGUMENT; // the event hook needs libkasko 1.2
}

static int64_t kasko_go_total_time_us(const kasko_result *result) { (void)result; return 0; }
#endif

#if KASKO_VERSION_NUMBER >= 1003000
#define KASKO_GO_HAS_WEBHOOKS 1
#define KASKO_GO_ERR_BAD_SIGNATURE KASKO_ERR_BAD_SIGNATURE
static kasko_status kasko_go_webhook_verify(const char *secret, const char *payload, size_t payload_len,
                                            const char *header) {
	return kasko_webhook_verify(secret, payload, payload_len, header);
}
#else
#define KASKO_GO_HAS_WEBHOOKS 0
#define KASKO_GO_ERR_BAD_SIGNATURE 11
static kasko_status kasko_go_webhook_verify(const char *secret, const char *payload, size_t payload_len,
                                            const char *header) {
	(void)secret; (void)payload; (void)payload_len; (void)header;
	return KASKO_ERR_INTERNAL; // webhook signatures need libkasko 1.3
}
#endif

#if KASKO_VERSION_NUMBER >= 1004000
#define KASKO_GO_ERR_CANCELLED KASKO_ERR_CANCELLED
#else
#define KASKO_GO_ERR_CANCELLED 12
#endif
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Status is a kasko_status.
type Status int

// The statuses of kasko.h. A value newer than this package is possible;
// treat it like StatusInternal.
const (
	StatusOK              Status = C.KASKO_OK
	StatusInvalidArgument Status = C.KASKO_ERR_INVALID_ARGUMENT // refused before any network I/O
	StatusBadRequest      Status = C.KASKO_ERR_BAD_REQUEST      // HTTP 400
	StatusUnauthorized    Status = C.KASKO_ERR_UNAUTHORIZED     // HTTP 401 or 403
	StatusNotFound        Status = C.KASKO_ERR_NOT_FOUND        // HTTP 404
	StatusPendingPayment  Status = C.KASKO_ERR_PENDING_PAYMENT  // HTTP 422: see Error.PendingPaymentID
	StatusRateLimited     Status = C.KASKO_ERR_RATE_LIMITED     // HTTP 429
	StatusServer          Status = C.KASKO_ERR_SERVER           // HTTP 5xx or undocumented
	StatusNetwork         Status = C.KASKO_ERR_NETWORK          // no usable answer
	StatusInvalidResponse Status = C.KASKO_ERR_INVALID_RESPONSE // not the documented JSON
	StatusInternal        Status = C.KASKO_ERR_INTERNAL         // inside the library
	StatusBadSignature    Status = C.KASKO_GO_ERR_BAD_SIGNATURE // a webhook's signature does not match (1.3)
	StatusCancelled       Status = C.KASKO_GO_ERR_CANCELLED     // an asynchronous call ended before its answer (1.4)
)

// String is the status's name, e.g. "KASKO_ERR_NOT_FOUND".
func (s Status) String() string {
	return C.GoString(C.kasko_status_name(C.kasko_status(s)))
}

// Outcome is a kasko_outcome: whether a call may have taken effect.
type Outcome int

// The outcomes of kasko.h.
const (
	OutcomeSucceeded Outcome = C.KASKO_OUTCOME_SUCCEEDED // the call succeeded
	OutcomeNotSent   Outcome = C.KASKO_OUTCOME_NOT_SENT  // no byte of the request can have been written
	OutcomeRejected  Outcome = C.KASKO_OUTCOME_REJECTED  // the server answered 4xx and did not act
	OutcomeUnknown   Outcome = C.KASKO_OUTCOME_UNKNOWN   // may have taken effect: look before creating again
)

// String is the outcome's name, e.g. "KASKO_OUTCOME_NOT_SENT"
// ("KASKO_OUTCOME_INVALID" for a value that is not one).
func (o Outcome) String() string {
	return C.GoString(C.kasko_outcome_name(C.kasko_outcome(o)))
}

// JSONType is a kasko_json_type: the type of a top-level member.
type JSONType int

// The JSON types of kasko.h.
const (
	JSONNone   JSONType = C.KASKO_JSON_NONE // no member of that name, or more than one (ambiguous)
	JSONNull   JSONType = C.KASKO_JSON_NULL
	JSONBool   JSONType = C.KASKO_JSON_BOOL
	JSONNumber JSONType = C.KASKO_JSON_NUMBER
	JSONString JSONType = C.KASKO_JSON_STRING
	JSONArray  JSONType = C.KASKO_JSON_ARRAY
	JSONObject JSONType = C.KASKO_JSON_OBJECT
)

// HeaderVersionNumber is KASKO_VERSION_NUMBER of the kasko.h this package
// was built with: MAJOR*1000000 + MINOR*1000 + PATCH.
const HeaderVersionNumber = int(C.KASKO_VERSION_NUMBER)

// Version is the loaded library's version, "MAJOR.MINOR.PATCH".
func Version() string {
	return C.GoString(C.kasko_version())
}

// VersionNumber is the loaded library's version as MAJOR*1000000 +
// MINOR*1000 + PATCH (compare with HeaderVersionNumber).
func VersionNumber() int {
	return int(C.kasko_version_number())
}

// Error is a failed call, read from the library's result.
// Get it with errors.As(err, &kerr) where kerr is a *kasko.Error.
type Error struct {
	Status           Status  // never StatusOK
	HTTPStatus       int     // the API's HTTP status; 0 when no response came
	Message          string  // what went wrong: the library's message
	PendingPaymentID string  // with StatusPendingPayment: the pending payment's id
	Outcome          Outcome // OutcomeUnknown: a payment may exist, look it up before creating it again
	Retryable        bool    // whether the same call may succeed if made again later
	Attempts         int     // HTTP attempts made; 0 if refused before any I/O
	RequestID        string  // the response's X-Request-Id, "" if none
	// JSON is the library's error object ("code", "errors", ... are there).
	JSON string

	totalTime time.Duration
	cause     error // the context's error, for a call its context ended
}

// TotalTime is the failed call's wall time (kasko_result_total_time_us,
// libkasko 1.2), retry waits included; 0 for a call refused before any I/O
// and for errors the package made itself.
func (e *Error) TotalTime() time.Duration {
	return e.totalTime
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Status.String() + ": " + e.Message + " (" + e.cause.Error() + ")"
	}
	return e.Status.String() + ": " + e.Message
}

// Unwrap is the context's error (context.Canceled, context.DeadlineExceeded)
// when the call ended StatusCancelled because its context was done, so that
// errors.Is(err, context.Canceled) holds; nil otherwise.
func (e *Error) Unwrap() error {
	return e.cause
}

// goString copies a C string the result owns; "" for NULL.
func goString(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// errorFromResult reads a failed call's result and frees it.
func errorFromResult(status C.kasko_status, r *C.kasko_result) *Error {
	defer C.kasko_result_free(r)
	e := &Error{
		Status:           Status(status),
		HTTPStatus:       int(C.kasko_result_http_status(r)),
		Message:          goString(C.kasko_result_message(r)),
		PendingPaymentID: goString(C.kasko_result_pending_payment_id(r)),
		Outcome:          Outcome(C.kasko_result_outcome(r)),
		Retryable:        C.kasko_result_retryable(r) != 0,
		Attempts:         int(C.kasko_result_attempts(r)),
		RequestID:        goString(C.kasko_result_request_id(r)),
		JSON:             goString(C.kasko_result_json(r)),
		totalTime:        time.Duration(C.kasko_go_total_time_us(r)) * time.Microsecond,
	}
	if e.Status == StatusOK { // never from the library; keep the promise above
		e.Status = StatusInternal
	}
	if e.Message == "" {
		e.Message = e.Status.String()
	}
	return e
}

// newError is an error result made by the library (kasko_result_new_error):
// outcome not sent, no attempt, not retryable, no HTTP status.
func newError(status Status, message string) *Error {
	text := C.CString(message)
	defer C.free(unsafe.Pointer(text))
	var r *C.kasko_result
	made := C.kasko_result_new_error(C.kasko_status(status), text, &r)
	return errorFromResult(made, r)
}

// cString copies s to C memory (free it with C.free). A C string cannot
// carry a NUL byte: rather than let C see a shorter string, it is refused
// with an error result made by the library, as its own refusals are.
func cString(s, name string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(StatusInvalidArgument, name+" contains a NUL character")
	}
	return C.CString(s), nil
}

// cStrings copies each value (named by names) to C memory; free them with
// freeCStrings. On a NUL byte, nothing is left allocated.
func cStrings(values, names []string) ([]*C.char, error) {
	out := make([]*C.char, 0, len(values))
	for i, value := range values {
		s, err := cString(value, names[i])
		if err != nil {
			freeCStrings(out)
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func freeCStrings(values []*C.char) {
	for _, s := range values {
		C.free(unsafe.Pointer(s))
	}
}

// ---- webhooks ----------------------------------------------------------------

// VerifyWebhook checks a webhook delivery's X-KASKO-Signature header
// (kasko_webhook_verify, libkasko 1.3): nil when header is "sha1=" and the
// HMAC-SHA1 hex digest (either case) of body keyed with secret, compared in
// constant time by libcrypto.
//
// body is the raw request body, every byte as received (NUL bytes
// included, before any JSON decoding); secret the webhook's secret exactly
// as KASKO gave it (a "whsec_" prefix is part of it). The error is a
// *Error with StatusBadSignature when it does not match (drop the delivery:
// answer with a non-2xx status), StatusInvalidArgument for an empty secret,
// a NUL in the secret or header, or a header that is not exactly "sha1="
// and 40 hex digits. No client, no I/O; safe from any goroutine. KASKO
// documents no replay protection: de-duplicate by X-KASKO-Delivery.
func VerifyWebhook(secret string, body []byte, header string) error {
	if C.KASKO_GO_HAS_WEBHOOKS == 0 {
		return newError(StatusInternal, "VerifyWebhook needs kasko.h and libkasko 1.3 or later")
	}
	key, err := cString(secret, "the webhook secret")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(key))
	signature, err := cString(header, "the X-KASKO-Signature header")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(signature))
	var payload *C.char
	if len(body) > 0 {
		// Go memory holding no Go pointers, for the call only: allowed by cgo.
		payload = (*C.char)(unsafe.Pointer(&body[0]))
	}
	status := Status(C.kasko_go_webhook_verify(key, payload, C.size_t(len(body)), signature))
	runtime.KeepAlive(body)
	switch status {
	case StatusOK:
		return nil
	case StatusBadSignature:
		return newError(status, "the X-KASKO-Signature header does not match the body and the secret")
	case StatusInvalidArgument:
		return newError(status, `the webhook secret is empty, or the X-KASKO-Signature header is not "sha1=" followed by 40 hex digits`)
	default:
		return newError(StatusInternal, "kasko_webhook_verify returned "+status.String())
	}
}

// ---- per-call options -------------------------------------------------------

// A CallOption is a per-call setting (WithTimeout, WithTraceparent,
// WithTracestate). The library checks each value when the call is made: an
// invalid one makes the call fail with StatusInvalidArgument (OutcomeNotSent,
// nothing sent) and a message saying what is wrong.
type CallOption func(*callOptions)

type callOptions struct {
	timeout     time.Duration
	traceparent string
	tracestate  string
}

// WithTimeout sets the call's total timeout per attempt, in place of the
// client's "timeout_ms"; 0 keeps the client's. It is sent in whole
// milliseconds, rounded up (from 1 to 3600000 are accepted).
func WithTimeout(timeout time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = timeout }
}

// WithTraceparent sends a W3C "traceparent" header on every attempt:
// "00-<32 hex>-<16 hex>-<2 hex>", lower-case. "" sends none.
func WithTraceparent(traceparent string) CallOption {
	return func(o *callOptions) { o.traceparent = traceparent }
}

// WithTracestate sends a W3C "tracestate" header on every attempt (with a
// traceparent). "" sends none.
func WithTracestate(tracestate string) CallOption {
	return func(o *callOptions) { o.tracestate = tracestate }
}

// milliseconds is a timeout as kasko_call_options_set_timeout_ms and the
// configuration's "timeout_ms" take it: a positive duration is never 0 (the
// client's), a negative one never becomes valid, and out-of-range values
// stay out of range.
func milliseconds(d time.Duration) C.long {
	ms := d.Milliseconds()
	switch {
	case d > 0 && d%time.Millisecond != 0:
		ms++
	case d < 0 && ms == 0:
		ms = -1
	}
	return clampLong(ms)
}

// nativeOptions makes the kasko_call_options of one call: NULL for the
// client's defaults; else free it with C.kasko_call_options_free.
func nativeOptions(options []CallOption) (*C.kasko_call_options, error) {
	var o callOptions
	for _, option := range options {
		if option != nil {
			option(&o)
		}
	}
	if o.timeout == 0 && o.traceparent == "" && o.tracestate == "" {
		return nil, nil
	}
	var texts []string
	var names []string
	if o.traceparent != "" {
		texts, names = append(texts, o.traceparent), append(names, "traceparent")
	}
	if o.tracestate != "" {
		texts, names = append(texts, o.tracestate), append(names, "tracestate")
	}
	cTexts, err := cStrings(texts, names)
	if err != nil {
		return nil, err
	}
	defer freeCStrings(cTexts)
	native := C.kasko_call_options_new()
	if native == nil {
		return nil, newError(StatusInternal, "out of memory")
	}
	// The setters' statuses are not needed: given an invalid value, the
	// options remember why, and the call made with them fails with the
	// library's message. (So the options, made afresh for each call, are
	// not checked separately with kasko_call_options_check: the call says
	// the same.)
	if o.timeout != 0 {
		C.kasko_call_options_set_timeout_ms(native, milliseconds(o.timeout))
	}
	for i, name := range names {
		if name == "traceparent" {
			C.kasko_call_options_set_traceparent(native, cTexts[i])
		} else {
			C.kasko_call_options_set_tracestate(native, cTexts[i])
		}
	}
	return native, nil
}

// ---- payments -------------------------------------------------------------

// PaymentRequest is what CreatePayment sends. The library checks each field
// (non-empty, no control characters, bounded length).
type PaymentRequest struct {
	Token    string // the offer's payment token
	Provider string // e.g. "invoice"
	Method   string // e.g. "invoice"
	PolicyID string // the offer's policy id
}

// Payment is a successful call's result: the payment object as the API
// sent it, and typed access to its top-level members, read by the library.
// It holds the library's kasko_result, freed once no copy of the Payment
// refers to it (nothing to free by hand). Safe for concurrent use.
type Payment struct {
	JSON       string // the payment object exactly as the API sent it
	HTTPStatus int    // the API's HTTP status (200, 201, ...)
	Attempts   int    // HTTP attempts made
	RequestID  string // the response's X-Request-Id, "" if none

	result *result
}

// result owns a kasko_result until the garbage collector finds it unreachable.
type result struct {
	native *C.kasko_result
}

func newResult(native *C.kasko_result) *result {
	r := &result{native: native}
	runtime.SetFinalizer(r, func(r *result) { C.kasko_result_free(r.native) })
	return r
}

// TotalTime is the call's wall time (kasko_result_total_time_us, libkasko
// 1.2): from its start to its answer on a monotonic clock, retry waits
// included. 0 for a zero Payment.
func (p *Payment) TotalTime() time.Duration {
	if p == nil || p.result == nil {
		return 0
	}
	us := C.kasko_go_total_time_us(p.result.native)
	runtime.KeepAlive(p.result)
	return time.Duration(us) * time.Microsecond
}

// String is the payment object as JSON text.
func (p *Payment) String() string {
	return p.JSON
}

// member calls read with the result and the member's name as a C string;
// it reports false (and does not call read) for a zero Payment or a name
// with a NUL byte, which no member can match.
func (p *Payment) member(name string, read func(*C.kasko_result, *C.char) bool) bool {
	if p == nil || p.result == nil || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	cName := C.CString(name)
	defer C.free(unsafe.Pointer(cName))
	ok := read(p.result.native, cName)
	runtime.KeepAlive(p.result) // what read copied came from the result's memory
	return ok
}

// MemberType is the type of the member name; JSONNone if there is none, or
// more than one (ambiguous).
func (p *Payment) MemberType(name string) JSONType {
	t := JSONNone
	p.member(name, func(r *C.kasko_result, n *C.char) bool {
		t = JSONType(C.kasko_result_member_type(r, n))
		return true
	})
	return t
}

// MemberString is a string member, unescaped (a "\u0000" in it stays a NUL
// byte). false: no such member, another type, or ambiguous.
func (p *Payment) MemberString(name string) (string, bool) {
	var value string
	ok := p.member(name, func(r *C.kasko_result, n *C.char) bool {
		var text *C.char
		var length C.size_t
		if C.kasko_result_member_string(r, n, &text, &length) != C.KASKO_OK {
			return false
		}
		value = C.GoStringN(text, C.int(length))
		return true
	})
	return value, ok
}

// MemberInt64 is an integer member within int64. false: no such member,
// another type (1.5, 1e3 included), or ambiguous.
func (p *Payment) MemberInt64(name string) (int64, bool) {
	var value int64
	ok := p.member(name, func(r *C.kasko_result, n *C.char) bool {
		var out C.int64_t
		if C.kasko_result_member_int64(r, n, &out) != C.KASKO_OK {
			return false
		}
		value = int64(out)
		return true
	})
	return value, ok
}

// MemberFloat64 is a number member, as a finite float64. false: no such
// member, another type, or ambiguous.
func (p *Payment) MemberFloat64(name string) (float64, bool) {
	var value float64
	ok := p.member(name, func(r *C.kasko_result, n *C.char) bool {
		var out C.double
		if C.kasko_result_member_double(r, n, &out) != C.KASKO_OK {
			return false
		}
		value = float64(out)
		return true
	})
	return value, ok
}

// MemberBool is a true/false member. false as the second value: no such
// member, another type, or ambiguous.
func (p *Payment) MemberBool(name string) (value bool, ok bool) {
	ok = p.member(name, func(r *C.kasko_result, n *C.char) bool {
		var out C.int
		if C.kasko_result_member_bool(r, n, &out) != C.KASKO_OK {
			return false
		}
		value = out != 0
		return true
	})
	return value, ok
}

// MemberJSON is any member's value as JSON text (e.g. the "_links" object).
// false: no such member, or ambiguous.
func (p *Payment) MemberJSON(name string) (string, bool) {
	var value string
	ok := p.member(name, func(r *C.kasko_result, n *C.char) bool {
		var text *C.char
		var length C.size_t
		if C.kasko_result_member_json(r, n, &text, &length) != C.KASKO_OK {
			return false
		}
		value = C.GoStringN(text, C.int(length))
		return true
	})
	return value, ok
}

// finish turns a call's status and result into a *Payment or an *Error.
func finish(status C.kasko_status, r *C.kasko_result) (*Payment, error) {
	if status != C.KASKO_OK {
		return nil, errorFromResult(status, r)
	}
	if C.kasko_result_status(r) != C.KASKO_OK { // never, per kasko.h
		C.kasko_result_free(r)
		return nil, newError(StatusInternal, "libkasko returned KASKO_OK with a failed result")
	}
	return &Payment{
		JSON:       goString(C.kasko_result_json(r)),
		HTTPStatus: int(C.kasko_result_http_status(r)),
		Attempts:   int(C.kasko_result_attempts(r)),
		RequestID:  goString(C.kasko_result_request_id(r)),
		result:     newResult(r),
	}, nil
}

// ---- the configuration --------------------------------------------------------

// The keys of a client's configuration, as kasko_config_set_string and
// kasko_config_set_int name them (and as the JSON configuration does): the
// one place Config takes them from.
const (
	keyPublicKey        = "public_key"         // string
	keySecretKey        = "secret_key"         // string
	keyBaseURL          = "base_url"           // string
	keyTimeoutMS        = "timeout_ms"         // number
	keyConnectTimeoutMS = "connect_timeout_ms" // number
	keyMaxRetries       = "max_retries"        // number
	keyCABundle         = "ca_bundle"          // string
	keyProxy            = "proxy"              // string
	keyUserAgent        = "user_agent"         // string
)

// Config is a client's configuration, for NewClientWithConfig: typed
// fields that are handed to the library key by key (kasko_config), so no
// JSON is written and the library escapes every value. A zero field is
// left unset and takes the library's default. The library checks the
// values when the client is made, with the keys, defaults, checks and
// messages of the JSON configuration (see kasko_client_new in kasko.h).
//
// Printing a Config (fmt, any verb) never shows the secret key.
type Config struct {
	PublicKey string // "public_key": pk_test_... or pk_live_... (required)
	// SecretKey is "secret_key": sk_test_... or sk_live_..., of the public
	// key's mode. "" for none: created payments are then the restricted
	// object and views are refused by the API.
	SecretKey string
	BaseURL   string // "base_url": "" for https://api.eu1.kaskocloud.com; plain http:// only for loopback hosts
	// Timeout is "timeout_ms", the total time of each attempt (0: 60 s),
	// sent in whole milliseconds, rounded up (1 ms to 1 h are accepted).
	Timeout time.Duration
	// ConnectTimeout is "connect_timeout_ms" (0: 10 s), sent as Timeout is.
	ConnectTimeout time.Duration
	// MaxRetries is "max_retries", retries after the first attempt (nil: 2;
	// from 0 to 10).
	MaxRetries *int
	CABundle   string // "ca_bundle": a PEM file of trusted CAs; "" for the system's
	// Proxy is "proxy": a proxy URL, or a pointer to "" for none; nil: the
	// https_proxy / no_proxy environment, as for curl.
	Proxy     *string
	UserAgent string // "user_agent": put before the library's own User-Agent; "" for none
}

// String shows the configuration without its secret key.
func (c Config) String() string {
	secret := `""`
	if c.SecretKey != "" {
		secret = "[redacted]"
	}
	retries, proxy := "nil", "nil"
	if c.MaxRetries != nil {
		retries = fmt.Sprint(*c.MaxRetries)
	}
	if c.Proxy != nil {
		proxy = fmt.Sprintf("%q", *c.Proxy)
	}
	return fmt.Sprintf("kasko.Config{PublicKey:%q, SecretKey:%s, BaseURL:%q, Timeout:%v, ConnectTimeout:%v, "+
		"MaxRetries:%s, CABundle:%q, Proxy:%s, UserAgent:%q}",
		c.PublicKey, secret, c.BaseURL, c.Timeout, c.ConnectTimeout, retries, c.CABundle, proxy, c.UserAgent)
}

// GoString is String: %#v does not show the secret key either.
func (c Config) GoString() string {
	return c.String()
}

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %d, ...), so
// that no verb prints the fields one by one, the secret key among them.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	fmt.Fprint(f, c.String())
}

// clampLong is n as a C long, clamped to its range (out of range stays out).
func clampLong(n int64) C.long {
	if n > math.MaxInt32 {
		n = math.MaxInt32
	} else if n < math.MinInt32 {
		n = math.MinInt32
	}
	return C.long(n)
}

// wipeAndFree overwrites a C string (it may hold a key), then frees it.
func wipeAndFree(s *C.char) {
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(s)), C.strlen(s))
	for i := range bytes {
		bytes[i] = 0
	}
	C.free(unsafe.Pointer(s))
}

// native makes the kasko_config of c; free it with C.kasko_config_free.
func (c *Config) native() (*C.kasko_config, error) {
	texts := []struct {
		key, value string
		set        bool
	}{
		{keyPublicKey, c.PublicKey, c.PublicKey != ""},
		{keySecretKey, c.SecretKey, c.SecretKey != ""},
		{keyBaseURL, c.BaseURL, c.BaseURL != ""},
		{keyCABundle, c.CABundle, c.CABundle != ""},
		{keyProxy, stringOr(c.Proxy), c.Proxy != nil},
		{keyUserAgent, c.UserAgent, c.UserAgent != ""},
	}
	numbers := []struct {
		key   string
		value C.long
		set   bool
	}{
		{keyTimeoutMS, milliseconds(c.Timeout), c.Timeout != 0},
		{keyConnectTimeoutMS, milliseconds(c.ConnectTimeout), c.ConnectTimeout != 0},
		{keyMaxRetries, clampLong(int64(intOr(c.MaxRetries))), c.MaxRetries != nil},
	}
	for _, s := range texts {
		if s.set && strings.IndexByte(s.value, 0) >= 0 {
			return nil, newError(StatusInvalidArgument, `configuration key "`+s.key+`" contains a NUL character`)
		}
	}
	native := C.kasko_config_new()
	if native == nil {
		return nil, newError(StatusInternal, "out of memory (kasko_config_new)")
	}
	// The setters' statuses are not needed: the library remembers a refused
	// key, and kasko_client_new_from_config reports it with its message.
	for _, s := range texts {
		if !s.set {
			continue
		}
		key, value := C.CString(s.key), C.CString(s.value)
		C.kasko_config_set_string(native, key, value)
		wipeAndFree(value)
		C.free(unsafe.Pointer(key))
	}
	for _, n := range numbers {
		if !n.set {
			continue
		}
		key := C.CString(n.key)
		C.kasko_config_set_int(native, key, n.value)
		C.free(unsafe.Pointer(key))
	}
	return native, nil
}

func stringOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func intOr(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// ---- the client -------------------------------------------------------------

// Client is a client of the KASKO Payments API, owning one kasko_client.
// It may be used from many goroutines at once.
type Client struct {
	mu sync.RWMutex // held shared by calls and SetEventHook, exclusively by Close
	// freeing is held exclusively by Close (inside mu) around
	// kasko_client_free only, shared by a cancellation: a cancel never
	// overlaps the free, nor waits for a Close that waits for blocking calls.
	freeing sync.RWMutex
	handle  *C.kasko_client
	id      uint64 // never changes; names the client to its hooks' thread-local mark

	hookMu     sync.Mutex       // orders SetEventHook calls (inside mu)
	hookHandle cgo.Handle       // the installed hook's *hookState; 0 if none
	hookData   *C.kasko_go_hook // what the library holds for it
	hookPanics atomic.Uint64
}

// clientIDs numbers the clients from 1 (0 is "no client").
var clientIDs atomic.Uint64

// lockForCall holds the client for a blocking call, so that Close waits for
// it. A call made from inside this client's own event hook may be inside a
// call holding it (a blocking one that delivered the event), and a second
// shared hold would deadlock against a waiting Close (sync.RWMutex forbids
// recursive read locking): it holds nothing more. (A hook of an
// asynchronous call runs on the engine thread, which Close's
// kasko_client_free waits for: the call made there ends first.)
func (c *Client) lockForCall() (unlock func()) {
	if uint64(C.kasko_go_inside_hook_of()) == c.id {
		return func() {}
	}
	c.mu.RLock()
	return c.mu.RUnlock
}

// insideHook is whether this goroutine is running an event hook (of any
// client): then it may be on a client's engine thread.
func insideHook() bool {
	return C.kasko_go_inside_hook_of() != 0
}

// NewClient creates a client from the C API's JSON configuration
// ("public_key", "secret_key", "base_url", "timeout_ms", ...; see
// kasko_client_new_v2). A bad configuration is an *Error with
// StatusInvalidArgument, read from the library's result like any other:
// its Message is the library's reason (it names the key, never quotes
// one) and its JSON the library's error object. Close the client when done
// with it.
func NewClient(configJSON string) (*Client, error) {
	config, err := cString(configJSON, "config_json")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(config))
	var handle *C.kasko_client
	var refusal *C.kasko_result
	status := C.kasko_client_new_v2(config, &handle, &refusal)
	return adopt(status, handle, refusal, "kasko_client_new_v2")
}

// NewClientWithConfig creates a client from a Config
// (kasko_client_new_from_config): the checks and messages of the JSON
// configuration, with no JSON to write. A refused key or value is an
// *Error with StatusInvalidArgument, read from the library's result: its
// Message is the library's reason (it names the key, never quotes a key;
// e.g. "max_retries must be a whole number from 0 to 10, got 11") and its
// JSON the library's error object. A string with a NUL byte, which C cannot
// carry, is refused the same way. Close the client when done with it.
func NewClientWithConfig(config Config) (*Client, error) {
	native, err := config.native()
	if err != nil {
		return nil, err
	}
	defer C.kasko_config_free(native) // the client keeps what it needs
	var handle *C.kasko_client
	var refusal *C.kasko_result
	status := C.kasko_client_new_from_config(native, &handle, &refusal)
	return adopt(status, handle, refusal, "kasko_client_new_from_config")
}

// adopt is the client a constructor made, or the *Error of its refusal.
func adopt(status C.kasko_status, handle *C.kasko_client, refusal *C.kasko_result, madeBy string) (*Client, error) {
	if status != C.KASKO_OK || handle == nil {
		C.kasko_client_free(handle) // NULL per the contract; never leak one
		switch {
		case status == C.KASKO_OK:
			C.kasko_result_free(refusal) // NULL per the contract
			return nil, newError(StatusInternal, madeBy+" returned KASKO_OK but no client")
		case refusal == nil: // never, per kasko.h
			return nil, newError(StatusInternal, madeBy+" returned "+Status(status).String()+" and no result")
		}
		return nil, errorFromResult(status, refusal)
	}
	C.kasko_result_free(refusal) // NULL on success
	c := &Client{handle: handle, id: clientIDs.Add(1)}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client (kasko_client_free). Calls in flight end at once
// with an *Error with StatusCancelled (its Outcome says whether the request
// may have been sent: OutcomeUnknown after a create means the payment may
// exist) and return once Close has; a call made from inside an event hook
// (a blocking one) is waited for. Later calls fail with
// StatusInvalidArgument. Closing twice is harmless. Payments already
// returned stay readable. Called from inside one of the client's own event
// hooks it closes nothing and is an *Error with StatusInvalidArgument.
func (c *Client) Close() error {
	if uint64(C.kasko_go_inside_hook_of()) == c.id {
		return newError(StatusInvalidArgument, "Close called from inside the client's own event hook")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle != nil {
		c.freeing.Lock()
		C.kasko_client_free(c.handle)
		c.handle = nil
		c.freeing.Unlock()
		runtime.SetFinalizer(c, nil)
		// No hook runs any more: let go of it.
		c.hookMu.Lock()
		c.forgetHook(0, nil)
		c.hookMu.Unlock()
	}
	return nil
}

// CreatePayment creates a payment: CreatePaymentContext with
// context.Background().
func (c *Client) CreatePayment(request PaymentRequest, options ...CallOption) (*Payment, error) {
	return c.CreatePaymentContext(context.Background(), request, options...)
}

// CreatePaymentContext creates a payment (kasko_payment_create_async, the
// result of kasko_payment_create_v2 without holding an OS thread while the
// call is in flight). Errors are *Error; an invalid option is one too
// (StatusInvalidArgument, nothing sent).
//
// When ctx is done before the answer, the call is cancelled
// (kasko_call_cancel) and the error is an *Error with StatusCancelled that
// wraps ctx.Err() (errors.Is(err, context.Canceled) or
// context.DeadlineExceeded): its Outcome is OutcomeUnknown when the request
// may have been sent (the payment may exist: ResolvePayment tells), else
// OutcomeNotSent. A call that finished first returns its own result. A ctx
// already done makes no call (StatusCancelled, OutcomeNotSent).
func (c *Client) CreatePaymentContext(ctx context.Context, request PaymentRequest, options ...CallOption) (*Payment, error) {
	fields, err := cStrings(
		[]string{request.Token, request.Provider, request.Method, request.PolicyID},
		[]string{`payment request field "token"`, `payment request field "provider"`,
			`payment request field "method"`, `payment request field "policy_id"`})
	if err != nil {
		return nil, err
	}
	defer freeCStrings(fields)
	native, err := nativeOptions(options)
	if err != nil {
		return nil, err
	}
	defer C.kasko_call_options_free(native)
	return c.call(ctx, paymentCreateSubmit(fields[0], fields[1], fields[2], fields[3], native),
		func(h *C.kasko_client, out **C.kasko_result) C.kasko_status {
			return C.kasko_payment_create_v2(h, fields[0], fields[1], fields[2], fields[3], native, out)
		})
}

// GetPayment views a payment: GetPaymentContext with context.Background().
func (c *Client) GetPayment(paymentID string, options ...CallOption) (*Payment, error) {
	return c.GetPaymentContext(context.Background(), paymentID, options...)
}

// GetPaymentContext views a payment (kasko_payment_get_async: the result of
// kasko_payment_get_v2, holding no OS thread while in flight). Errors are
// *Error; an invalid option is one too (StatusInvalidArgument, nothing
// sent). ctx is honoured as by CreatePaymentContext.
func (c *Client) GetPaymentContext(ctx context.Context, paymentID string, options ...CallOption) (*Payment, error) {
	id, err := cString(paymentID, "payment id")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(id))
	native, err := nativeOptions(options)
	if err != nil {
		return nil, err
	}
	defer C.kasko_call_options_free(native)
	return c.call(ctx, paymentGetSubmit(id, native),
		func(h *C.kasko_client, out **C.kasko_result) C.kasko_status {
			return C.kasko_payment_get_v2(h, id, native, out)
		})
}

// ---- the event hook (libkasko 1.2) ----------------------------------------------

// EventKind is what an Event reports (its "event" member).
type EventKind string

// The kinds of events.
const (
	EventAttempt EventKind = "attempt"  // one HTTP attempt ended
	EventCallEnd EventKind = "call_end" // the call ended: after its last attempt, or refused before any
)

// Event is one event of a client's calls, as an event hook gets it
// (SetEventHook): a plain value, copied from the library's event (which is
// valid only during the hook), so it may be kept, sent on a channel or
// logged. No event holds the secret key, the public key, a payment token or
// a body.
type Event struct {
	Kind      EventKind // EventAttempt or EventCallEnd
	Operation string    // "payment_create" or "payment_get"
	Method    string    // "POST", "GET"
	Route     string    // the route template, for metrics: "/payments" or "/payments/{id}"
	Path      string    // the base URL's path with the route filled in (never the query)
	// Attempt is the attempt's number (from 1); for EventCallEnd the
	// attempts made (0 for a call refused before any I/O).
	Attempt    int
	HTTPStatus int           // the answer's HTTP status; 0 without one
	Status     Status        // the attempt's (or call's) status; StatusOK for a success
	Outcome    Outcome       // what it may have done
	Retry      bool          // whether another attempt follows
	RetryDelay time.Duration // the wait before it (full jitter: may be 0 with Retry); 0 unless Retry
	RequestID  string        // the response's X-Request-Id, "" if none
	// BytesSent and BytesReceived count headers and bodies; for
	// EventCallEnd the sums over the attempts.
	BytesSent, BytesReceived int64
	// DNS, Connect, TLS and FirstByte are libcurl's times from the start of
	// the attempt (0 for a phase that did not happen, and for EventCallEnd).
	DNS, Connect, TLS, FirstByte time.Duration
	// Total is the attempt's time; for EventCallEnd the call's wall time
	// (as Payment.TotalTime and Error.TotalTime give it).
	Total   time.Duration
	Message string // what went wrong; "" on success
	JSON    string // the whole event as JSON: one log line
}

// hookState is what a hook's cgo.Handle refers to.
type hookState struct {
	hook   func(Event)
	panics *atomic.Uint64
}

func goStringN(s *C.char, n C.size_t) string {
	if s == nil {
		return ""
	}
	return C.GoStringN(s, C.int(n))
}

func micros(us C.int64_t) time.Duration {
	return time.Duration(us) * time.Microsecond
}

// eventFromC copies a borrowed event.
func eventFromC(event *C.kasko_result) Event {
	var e C.kasko_go_event
	C.kasko_go_read_event(event, &e)
	return Event{
		Kind:          EventKind(goStringN(e.kind, e.kind_length)),
		Operation:     goStringN(e.operation, e.operation_length),
		Method:        goStringN(e.method, e.method_length),
		Route:         goStringN(e.route, e.route_length),
		Path:          goStringN(e.path, e.path_length),
		Attempt:       int(e.attempt),
		HTTPStatus:    int(e.http_status),
		Status:        Status(e.status),
		Outcome:       Outcome(e.outcome),
		Retry:         e.retry != 0,
		RetryDelay:    time.Duration(e.retry_delay_ms) * time.Millisecond,
		RequestID:     goString(e.request_id),
		BytesSent:     int64(e.bytes_sent),
		BytesReceived: int64(e.bytes_received),
		DNS:           micros(e.dns_us),
		Connect:       micros(e.connect_us),
		TLS:           micros(e.tls_us),
		FirstByte:     micros(e.first_byte_us),
		Total:         micros(e.total_us),
		Message:       goString(e.message),
		JSON:          goString(e.json),
	}
}

// deliverEvent is the Go side of every client's event hook (hook.go
// exports it to C): it copies the event and calls the hook, recovering a
// panic so that it never unwinds into the library.
func deliverEvent(event *C.kasko_result, handle uintptr) {
	var state *hookState
	defer func() {
		if recover() != nil && state != nil {
			state.panics.Add(1)
		}
	}()
	state, _ = cgo.Handle(handle).Value().(*hookState)
	if state == nil {
		return
	}
	state.hook(eventFromC(event))
}

// SetEventHook sets the client's event hook (kasko_client_set_event_hook,
// libkasko 1.2), replacing the one before; nil clears it. The hook is
// called with each event of the client's calls: one per HTTP attempt and
// one when the call ends (see Event), before the call returns. With
// libkasko 1.4 the calls are asynchronous and their hook runs on the
// client's engine thread, one event at a time: while it runs, none of the
// client's calls progresses, so keep it short (blocking in it delays every
// call of the client). It must still be safe for concurrent use: the hooks
// of several clients, and of the blocking calls (ResolvePayment, calls made
// inside a hook, libkasko 1.3), run on the calling goroutines. It may log,
// count, block and make library calls (made blocking there, whatever their
// context: a call waiting on the engine thread for its own callback would
// never end), which deliver no events.
//
// A panic in the hook is recovered (the call goes on and returns its own
// result) and counted by EventHookPanics. The hook must not call
// runtime.Goexit (t.Fatal, t.FailNow...): the goroutine is inside a C call.
//
// It may be called at any time from any goroutine, while calls run: events
// of calls in progress go to the old hook or the new one. Once it has
// returned, the old hook is not running and is never called again. A hook
// is kept until it is replaced or the client is closed: one that refers to
// its client keeps the client from being garbage-collected, so Close it.
//
// It fails with an *Error with StatusInvalidArgument, changing nothing,
// when called from inside an event hook (it would wait for itself), on a
// closed client, and with a library older than 1.2. Close, too, is refused
// from inside the client's own hook.
func (c *Client) SetEventHook(hook func(Event)) error {
	if C.kasko_go_inside_hook_of() != 0 {
		return newError(StatusInvalidArgument, "SetEventHook called from inside an event hook")
	}
	c.mu.RLock() // Close waits: the handle stays valid
	defer c.mu.RUnlock()
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	var next cgo.Handle
	if hook != nil {
		next = cgo.NewHandle(&hookState{hook: hook, panics: &c.hookPanics})
	}
	var installed *C.kasko_go_hook
	// A closed client passes NULL: the library refuses it.
	status := C.kasko_go_set_event_hook(c.handle, C.uintptr_t(next), C.uint64_t(c.id), &installed)
	if status != C.KASKO_OK {
		if next != 0 {
			next.Delete()
		}
		return newError(Status(status), "kasko_client_set_event_hook returned "+Status(status).String())
	}
	// The library no longer calls the previous hook: let go of it.
	c.forgetHook(next, installed)
	return nil
}

// forgetHook lets go of the installed hook (the library no longer calls it)
// and records the new one. hookMu is held.
func (c *Client) forgetHook(next cgo.Handle, installed *C.kasko_go_hook) {
	if c.hookHandle != 0 {
		c.hookHandle.Delete()
	}
	C.free(unsafe.Pointer(c.hookData))
	c.hookHandle, c.hookData = next, installed
}

// EventHookPanics is how many panics this client's event hooks have raised
// (recovered; see SetEventHook).
func (c *Client) EventHookPanics() uint64 {
	return c.hookPanics.Load()
}
