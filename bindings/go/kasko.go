// Package kasko is a client for the KASKO Payments API over libkasko, the
// C library (libkasko.so.1), through cgo.
//
//	client, err := kasko.NewClient(`{"public_key":"pk_test_...","secret_key":"sk_test_..."}`)
//	if err != nil { ... }
//	defer client.Close()
//	payment, err := client.CreatePayment(`{"token":"...","provider":"invoice","method":"invoice","policy_id":"tpol_..."}`)
//	var kerr *kasko.Error
//	if errors.As(err, &kerr) && kerr.Status == kasko.StatusPendingPayment { ... kerr.PendingPaymentID ... }
//
// The package translates types and ownership only: configuration, requests
// and results are the C API's JSON text, unchanged; validation, retries and
// the JSON shapes are the library's (see kasko.h).
//
// Building needs kasko.h and libkasko.so: with libkasko-dev (or make
// install) they are where the C compiler looks; for a libkasko build tree
// set CGO_CFLAGS=-I$TREE/include and CGO_LDFLAGS=-L$TREE/build (and
// LD_LIBRARY_PATH=$TREE/build to run).
package kasko

/*
#cgo LDFLAGS: -lkasko
#include <stdlib.h>
#include <kasko.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
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
)

// String is the status's name, e.g. "KASKO_ERR_NOT_FOUND".
func (s Status) String() string {
	return C.GoString(C.kasko_status_name(C.kasko_status(s)))
}

// Version is the loaded library's version, "MAJOR.MINOR.PATCH".
func Version() string {
	return C.GoString(C.kasko_version())
}

// Error is a failed call: the status and the library's error object.
// Get it with errors.As(err, &kerr) where kerr is a *kasko.Error.
type Error struct {
	Status           Status // never StatusOK
	HTTPStatus       int    // the API's HTTP status; 0 when no response came
	Message          string // the error object's "message"
	PendingPaymentID string // with StatusPendingPayment: the pending payment's id
	// JSON is the library's error object ("outcome", "retryable",
	// "request_id", ... are there). Empty only if the library ran out of memory.
	JSON string
}

func (e *Error) Error() string {
	return e.Status.String() + ": " + e.Message
}

func newError(status Status, text string) *Error {
	e := &Error{Status: status, JSON: text}
	var members struct {
		HTTPStatus       *int    `json:"http_status"`
		Message          *string `json:"message"`
		PendingPaymentID *string `json:"pending_payment_id"`
	}
	if json.Unmarshal([]byte(text), &members) == nil {
		if members.HTTPStatus != nil {
			e.HTTPStatus = *members.HTTPStatus
		}
		if members.Message != nil {
			e.Message = *members.Message
		}
		if members.PendingPaymentID != nil {
			e.PendingPaymentID = *members.PendingPaymentID
		}
	}
	if e.Message == "" {
		e.Message = status.String()
	}
	return e
}

// cString copies s to C memory (free it with C.free). A C string cannot
// carry a NUL byte: rather than let C see a shorter string, it is refused
// with the error object the library uses before any I/O.
func cString(s, name string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, newError(StatusInvalidArgument,
			`{"object":"error","code":"KASKO_ERR_INVALID_ARGUMENT","http_status":null,"status":null,`+
				`"message":"`+name+` contains a NUL character","pending_payment_id":null,`+
				`"retryable":false,"outcome":"not_sent","attempts":0,"request_id":null}`)
	}
	return C.CString(s), nil
}

// take copies and frees a string the library handed out.
func take(out *C.char) string {
	if out == nil {
		return ""
	}
	defer C.kasko_string_free(out)
	return C.GoString(out)
}

func result(status C.kasko_status, out *C.char) (string, error) {
	text := take(out)
	switch {
	case status != C.KASKO_OK:
		return "", newError(Status(status), text)
	case out == nil:
		return "", newError(StatusInternal, "")
	}
	return text, nil
}

// Client is a client of the KASKO Payments API, owning one kasko_client.
// It may be used from many goroutines at once.
type Client struct {
	mu     sync.RWMutex // held shared by calls, exclusively by Close
	handle *C.kasko_client
}

// NewClient creates a client from the C API's JSON configuration
// ("public_key", "secret_key", "base_url", "timeout_ms", ...; see
// kasko_client_new). A bad configuration is an *Error with
// StatusInvalidArgument. Close the client when done with it.
func NewClient(configJSON string) (*Client, error) {
	config, err := cString(configJSON, "config_json")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(config))
	var handle *C.kasko_client
	var errorJSON *C.char
	status := C.kasko_client_new(config, &handle, &errorJSON)
	text := take(errorJSON)
	if status != C.KASKO_OK || handle == nil {
		C.kasko_client_free(handle) // NULL per the contract; never leak one
		if status == C.KASKO_OK {
			status = C.KASKO_ERR_INTERNAL
		}
		return nil, newError(Status(status), text)
	}
	c := &Client{handle: handle}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client. It waits for calls in progress to return; later
// calls fail with StatusInvalidArgument. Closing twice is harmless.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle != nil {
		C.kasko_client_free(c.handle)
		c.handle = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// CreatePayment creates a payment from the C API's request JSON ("token",
// "provider", "method", "policy_id") and returns the payment object as the
// API sent it. Errors are *Error.
func (c *Client) CreatePayment(requestJSON string) (string, error) {
	request, err := cString(requestJSON, "request_json")
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(request))
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out *C.char
	// A closed client passes NULL: the library refuses it.
	status := C.kasko_payment_create(c.handle, request, &out)
	return result(status, out)
}

// GetPayment views a payment and returns the payment object as the API
// sent it. Errors are *Error.
func (c *Client) GetPayment(paymentID string) (string, error) {
	id, err := cString(paymentID, "payment_id")
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(id))
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out *C.char
	status := C.kasko_payment_get(c.handle, id, &out)
	return result(status, out)
}
