package kasko

// The calls over the C API's asynchronous functions (libkasko 1.4,
// docs/async.md): a call is submitted with a short cgo call and the
// goroutine then waits on a channel, which the call's kasko_callback feeds
// from the client's engine thread. No OS thread is held while a call is in
// flight, so a thousand goroutines waiting for answers are a thousand parked
// goroutines, not a thousand threads blocked in C.

/*
#include <stdint.h>
#include <kasko.h>

#if KASKO_VERSION_NUMBER >= 1004000
#define KASKO_GO_HAS_ASYNC 1
// Exported by callback.go.
extern void kaskoGoComplete(kasko_result *result, uintptr_t handle);

// The kasko_callback of every call: its user data is the call's cgo.Handle.
static void kasko_go_complete(kasko_result *result, void *user_data) {
	kaskoGoComplete(result, (uintptr_t)user_data);
}

static kasko_status kasko_go_payment_create_async(kasko_client *c, const char *token, const char *provider,
                                                  const char *method, const char *policy_id,
                                                  const kasko_call_options *o, uintptr_t h, uint64_t *call) {
	return kasko_payment_create_async(c, token, provider, method, policy_id, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_payment_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                               uintptr_t h, uint64_t *call) {
	return kasko_payment_get_async(c, s, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_quote_create_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                                uintptr_t h, uint64_t *call) {
	return kasko_quote_create_async(c, s, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_offer_create_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                                uintptr_t h, uint64_t *call) {
	return kasko_offer_create_async(c, s, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_offer_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                             uintptr_t h, uint64_t *call) {
	return kasko_offer_get_async(c, s, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_policy_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                              uintptr_t h, uint64_t *call) {
	return kasko_policy_get_async(c, s, o, kasko_go_complete, (void *)h, call);
}
static kasko_status kasko_go_call_cancel(kasko_client *c, uint64_t call) { return kasko_call_cancel(c, call); }
#else
#define KASKO_GO_HAS_ASYNC 0
// Never called (the Go side checks KASKO_GO_HAS_ASYNC first): the calls
// are then the blocking ones.
static kasko_status kasko_go_no_async(uint64_t *call) { *call = 0; return KASKO_ERR_INTERNAL; }
static kasko_status kasko_go_payment_create_async(kasko_client *c, const char *token, const char *provider,
                                                  const char *method, const char *policy_id,
                                                  const kasko_call_options *o, uintptr_t h, uint64_t *call) {
	(void)c; (void)token; (void)provider; (void)method; (void)policy_id; (void)o; (void)h;
	return kasko_go_no_async(call);
}
static kasko_status kasko_go_payment_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                               uintptr_t h, uint64_t *call) {
	(void)c; (void)s; (void)o; (void)h; return kasko_go_no_async(call);
}
static kasko_status kasko_go_quote_create_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                                uintptr_t h, uint64_t *call) {
	(void)c; (void)s; (void)o; (void)h; return kasko_go_no_async(call);
}
static kasko_status kasko_go_offer_create_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                                uintptr_t h, uint64_t *call) {
	(void)c; (void)s; (void)o; (void)h; return kasko_go_no_async(call);
}
static kasko_status kasko_go_offer_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                             uintptr_t h, uint64_t *call) {
	(void)c; (void)s; (void)o; (void)h; return kasko_go_no_async(call);
}
static kasko_status kasko_go_policy_get_async(kasko_client *c, const char *s, const kasko_call_options *o,
                                              uintptr_t h, uint64_t *call) {
	(void)c; (void)s; (void)o; (void)h; return kasko_go_no_async(call);
}
static kasko_status kasko_go_call_cancel(kasko_client *c, uint64_t call) {
	(void)c; (void)call; return KASKO_ERR_INVALID_ARGUMENT;
}
#endif
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
)

// submitFunc submits one asynchronous call (a kasko_*_async function) on
// client, with handle as its user data; *call receives its id.
type submitFunc func(client *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status

// blockingFunc makes the same call blocking (its _v2 function).
type blockingFunc func(client *C.kasko_client, out **C.kasko_result) C.kasko_status

// The submissions of each call, closing over its C arguments.

func paymentCreateSubmit(token, provider, method, policyID *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_payment_create_async(h, token, provider, method, policyID, o, handle, call)
	}
}

func paymentGetSubmit(id *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_payment_get_async(h, id, o, handle, call)
	}
}

func quoteCreateSubmit(request *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_quote_create_async(h, request, o, handle, call)
	}
}

func offerCreateSubmit(request *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_offer_create_async(h, request, o, handle, call)
	}
}

func offerGetSubmit(policyID *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_offer_get_async(h, policyID, o, handle, call)
	}
}

func policyGetSubmit(policyID *C.char, o *C.kasko_call_options) submitFunc {
	return func(h *C.kasko_client, handle C.uintptr_t, call *C.uint64_t) C.kasko_status {
		return C.kasko_go_policy_get_async(h, policyID, o, handle, call)
	}
}

// pendingCall is what an asynchronous call's cgo.Handle refers to: where
// its callback hands over the result.
type pendingCall struct {
	done chan *C.kasko_result // buffered: the callback never waits
}

// completeCall is the Go side of every asynchronous call's kasko_callback
// (callback.go exports it to C). The library calls it exactly once per
// accepted call, on the client's engine thread: it lets go of the handle
// and hands the result (which the waiting goroutine then owns) over,
// without blocking the engine.
func completeCall(result *C.kasko_result, handle uintptr) {
	h := cgo.Handle(handle)
	p := h.Value().(*pendingCall)
	h.Delete()
	p.done <- result
}

// call makes one call: asynchronously, so that no OS thread waits while it
// is in flight, honouring ctx (see the Context methods); blocking where an
// asynchronous call cannot be made or waited for.
func (c *Client) call(ctx context.Context, submit submitFunc, blocking blockingFunc) (*Payment, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		// Not made at all: nothing can have been sent.
		e := newError(StatusCancelled, "the call was not made: its context is done ("+err.Error()+")")
		e.cause = err
		return nil, e
	}
	if C.KASKO_GO_HAS_ASYNC == 0 || insideHook() {
		// Inside an event hook the goroutine may be on a client's engine
		// thread: waiting there for a callback that this very thread must
		// run would never end. The blocking call is what a hook always
		// made (and it delivers no events, as before).
		return c.callBlocking(blocking)
	}
	p := &pendingCall{done: make(chan *C.kasko_result, 1)}
	handle := cgo.NewHandle(p)
	var id C.uint64_t
	// Held only while submitting: Close then ends the calls in flight
	// (StatusCancelled) rather than waiting them out.
	c.mu.RLock()
	if c.handle == nil {
		c.mu.RUnlock()
		handle.Delete()
		return c.callBlocking(blocking) // the library's own refusal of a NULL client
	}
	status := submit(c.handle, C.uintptr_t(handle), &id)
	c.mu.RUnlock()
	if status != C.KASKO_OK {
		handle.Delete() // no callback will come
		if status == C.KASKO_ERR_INTERNAL {
			// The engine could not start (no thread, no descriptor):
			// the blocking call still gets the answer, holding a thread.
			return c.callBlocking(blocking)
		}
		return nil, newError(Status(status), "the asynchronous call was not made: "+Status(status).String())
	}
	var r *C.kasko_result
	var cause error
	select {
	case r = <-p.done:
	case <-ctx.Done():
		cause = ctx.Err()
		c.cancelCall(id)
		// The callback still comes: KASKO_ERR_CANCELLED, or the call's
		// own result if it finished first.
		r = <-p.done
	}
	// Until here the client must not be finalized (its Close would cancel
	// the call): nothing else on this goroutine refers to it meanwhile.
	runtime.KeepAlive(c)
	if r == nil { // never, per kasko.h
		return nil, newError(StatusInternal, "libkasko completed a call with no result")
	}
	payment, err := finish(C.kasko_result_status(r), r)
	if kerr, ok := err.(*Error); ok && cause != nil && kerr.Status == StatusCancelled {
		kerr.cause = cause
	}
	return payment, err
}

// callBlocking makes the call with its blocking function, holding the
// client (Close waits for it) as every call did before libkasko 1.4.
func (c *Client) callBlocking(blocking blockingFunc) (*Payment, error) {
	defer c.lockForCall()()
	var out *C.kasko_result
	// A closed client passes NULL: the library refuses it.
	status := blocking(c.handle, &out)
	return finish(status, out)
}

// cancelCall asks the library to end call id (kasko_call_cancel). A closed
// client has already ended it.
func (c *Client) cancelCall(id C.uint64_t) {
	c.freeing.RLock()
	defer c.freeing.RUnlock()
	if c.handle != nil {
		// KASKO_ERR_INVALID_ARGUMENT only for an id the client never gave:
		// not this one. The callback says what became of the call.
		_ = C.kasko_go_call_cancel(c.handle, id)
	}
}
