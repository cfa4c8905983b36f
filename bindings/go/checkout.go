package kasko

// The checkout calls of libkasko 1.3: quote, offer, offer and policy views
// (with the policy's ETag and Last-Modified), and the resolution of a
// payment create whose outcome was unknown. Request bodies are JSON text
// passed through as given: the library checks them before any I/O, so
// nothing here writes or parses JSON.

/*
#include <stdlib.h>
#include <kasko.h>

#if KASKO_VERSION_NUMBER >= 1003000
#define KASKO_GO_HAS_CHECKOUT 1
static kasko_status kasko_go_quote_create(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	return kasko_quote_create_v2(c, s, o, r);
}
static kasko_status kasko_go_offer_create(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	return kasko_offer_create_v2(c, s, o, r);
}
static kasko_status kasko_go_offer_get(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	return kasko_offer_get_v2(c, s, o, r);
}
static kasko_status kasko_go_policy_get(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	return kasko_policy_get_v2(c, s, o, r);
}
static kasko_status kasko_go_payment_resolve(kasko_client *c, const char *token, const char *provider,
                                             const char *method, const char *policy_id,
                                             const kasko_call_options *o, kasko_result **r) {
	return kasko_payment_resolve(c, token, provider, method, policy_id, o, r);
}
static const char *kasko_go_etag(const kasko_result *r) { return kasko_result_etag(r); }
static const char *kasko_go_last_modified(const kasko_result *r) { return kasko_result_last_modified(r); }
#else
#define KASKO_GO_HAS_CHECKOUT 0
// Never called (the Go side checks KASKO_GO_HAS_CHECKOUT first).
static kasko_status kasko_go_unsupported(kasko_result **r) { *r = NULL; return KASKO_ERR_INTERNAL; }
static kasko_status kasko_go_quote_create(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	(void)c; (void)s; (void)o; return kasko_go_unsupported(r);
}
static kasko_status kasko_go_offer_create(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	(void)c; (void)s; (void)o; return kasko_go_unsupported(r);
}
static kasko_status kasko_go_offer_get(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	(void)c; (void)s; (void)o; return kasko_go_unsupported(r);
}
static kasko_status kasko_go_policy_get(kasko_client *c, const char *s, const kasko_call_options *o, kasko_result **r) {
	(void)c; (void)s; (void)o; return kasko_go_unsupported(r);
}
static kasko_status kasko_go_payment_resolve(kasko_client *c, const char *token, const char *provider,
                                             const char *method, const char *policy_id,
                                             const kasko_call_options *o, kasko_result **r) {
	(void)c; (void)token; (void)provider; (void)method; (void)policy_id; (void)o; return kasko_go_unsupported(r);
}
static const char *kasko_go_etag(const kasko_result *r) { (void)r; return NULL; }
static const char *kasko_go_last_modified(const kasko_result *r) { (void)r; return NULL; }
#endif
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"unsafe"
)

// ETag is a policy view's ETag header (kasko_result_etag, libkasko 1.3), as
// the server sent it (a version id such as "tpv_..."): send it back as
// If-Match. "" for any other result, or when none was sent.
func (p *Payment) ETag() string {
	if p == nil || p.result == nil {
		return ""
	}
	value := goString(C.kasko_go_etag(p.result.native))
	runtime.KeepAlive(p.result)
	return value
}

// LastModified is a policy view's Last-Modified header
// (kasko_result_last_modified, libkasko 1.3), an HTTP date: send it back as
// If-Unmodified-Since. "" for any other result, or when none was sent.
func (p *Payment) LastModified() string {
	if p == nil || p.result == nil {
		return ""
	}
	value := goString(C.kasko_go_last_modified(p.result.native))
	runtime.KeepAlive(p.result)
	return value
}

// Quote is a price for an insurance (CreateQuote, POST /quotes). The
// embedded *Payment is the call's result: JSON, HTTPStatus, RequestID and
// the Member* getters.
type Quote struct {
	Token              string // the quote's token, for the offer's "quote_token" (qtok_...)
	GrossPaymentAmount int64  // "gross_payment_amount", in minor units (cents)
	*Payment
}

// Offer is an unpaid policy (CreateOffer, POST /policies; GetOffer, GET
// /offers/{id}). Its PaymentToken pays the policy: treat it like a key.
// Printing an Offer (fmt, any verb) never shows the token, nor the JSON
// that holds it; read JSON or PaymentToken explicitly.
type Offer struct {
	PolicyID        string // "id", checked by the library to be a policy id
	PaymentToken    string // "payment_token"; "" while the offer awaits manual underwriting
	Status          string // a viewed offer's "status": "pending", "ready" or "accepted"; "" for a created one
	InsurerPolicyID string // "insurer_policy_id"
	*Payment
}

// String shows the offer without its payment token.
func (o Offer) String() string {
	token := `""`
	if o.PaymentToken != "" {
		token = "[redacted]"
	}
	return fmt.Sprintf("kasko.Offer{PolicyID:%q, PaymentToken:%s, Status:%q, InsurerPolicyID:%q}",
		o.PolicyID, token, o.Status, o.InsurerPolicyID)
}

// GoString is String: %#v does not show the token either.
func (o Offer) GoString() string {
	return o.String()
}

// Format prints String for every verb, so that no verb prints the fields
// (the token, the JSON) one by one.
func (o Offer) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", o.String())
		return
	}
	fmt.Fprint(f, o.String())
}

// Policy is a policy view (GetPolicy, GET /policies/{id}). The embedded
// *Payment is the call's result: JSON, the Member* getters, and ETag() and
// LastModified(), the response's headers.
type Policy struct {
	PolicyID  string // "id"
	Status    string // "pending" until KASKO has created the policy after its payment, then "paid"
	VersionID string // "version_id", which changes whenever the policy does
	*Payment
}

// Paid is whether Status is "paid".
func (p *Policy) Paid() bool {
	return p != nil && p.Status == "paid"
}

// PaymentState is what ResolvePayment found (the resolution's "state").
type PaymentState string

// The states of a resolution.
const (
	PaymentPaid    PaymentState = "paid"     // the policy is paid (by the lost create, or by the resolve)
	PaymentPending PaymentState = "pending"  // a payment exists and has not settled
	PaymentNotPaid PaymentState = "not_paid" // no payment exists; safe to create again once the cause is mended
)

// PaymentResolution is the library's "payment_resolution" (ResolvePayment).
// It holds no payment token. The embedded *Payment is the call's result:
// the last answer's HTTPStatus and RequestID, both calls' Attempts.
type PaymentResolution struct {
	State             PaymentState
	PolicyID          string
	PaymentID         string // the payment an answer named (pending, or made by this call); "" for null
	CreatedByThisCall bool   // the lost create had not paid, and this call made the payment
	Evidence          string // "policy_paid", "already_paid", "pending_payment", "created" or "create_refused"
	Message           string // what the library found, in words
	*Payment
}

type oneStringCall func(*C.kasko_client, *C.char, *C.kasko_call_options, **C.kasko_result) C.kasko_status

// callOne makes a call taking one string (a request body or a policy id):
// submitted by async (kasko_*_async), or made by blocking (its _v2 call)
// where an asynchronous call cannot be made (Client.call).
func (c *Client) callOne(ctx context.Context, async func(*C.char, *C.kasko_call_options) submitFunc,
	blocking oneStringCall, argument, name string, options []CallOption) (*Payment, error) {
	if C.KASKO_GO_HAS_CHECKOUT == 0 {
		return nil, newError(StatusInternal, "the checkout calls need kasko.h and libkasko 1.3 or later")
	}
	text, err := cString(argument, name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(text))
	native, err := nativeOptions(options)
	if err != nil {
		return nil, err
	}
	defer C.kasko_call_options_free(native)
	return c.call(ctx, async(text, native), func(h *C.kasko_client, out **C.kasko_result) C.kasko_status {
		return blocking(h, text, native, out)
	})
}

func str(p *Payment, name string) string {
	value, _ := p.MemberString(name)
	return value
}

// CreateQuote prices an insurance: CreateQuoteContext with
// context.Background().
func (c *Client) CreateQuote(requestJSON string, options ...CallOption) (*Quote, error) {
	return c.CreateQuoteContext(context.Background(), requestJSON, options...)
}

// CreateQuoteContext prices an insurance (kasko_quote_create_async: the
// result of kasko_quote_create_v2, POST /quotes, holding no OS thread while
// in flight). requestJSON is a JSON object with "item_id",
// "subscription_plan_id", "integration_id" and the object "data". Errors
// are *Error; a 400's "errors" array is in the error's JSON. ctx is
// honoured as by CreatePaymentContext.
func (c *Client) CreateQuoteContext(ctx context.Context, requestJSON string, options ...CallOption) (*Quote, error) {
	p, err := c.callOne(ctx, quoteCreateSubmit, func(h *C.kasko_client, s *C.char, o *C.kasko_call_options, r **C.kasko_result) C.kasko_status {
		return C.kasko_go_quote_create(h, s, o, r)
	}, requestJSON, "quote request", options)
	if err != nil {
		return nil, err
	}
	amount, _ := p.MemberInt64("gross_payment_amount")
	return &Quote{Token: str(p, "token"), GrossPaymentAmount: amount, Payment: p}, nil
}

// CreateOffer makes an offer: CreateOfferContext with context.Background().
func (c *Client) CreateOffer(requestJSON string, options ...CallOption) (*Offer, error) {
	return c.CreateOfferContext(context.Background(), requestJSON, options...)
}

// CreateOfferContext makes an offer, an unpaid policy
// (kasko_offer_create_async: the result of kasko_offer_create_v2, POST
// /policies, holding no OS thread while in flight). requestJSON is a JSON
// object with "quote_token", "first_name", "last_name", "email", "language"
// and optionally "data" and "metadata". Sent at most once (an offer made by
// a call whose outcome is unknown is harmless). Errors are *Error. ctx is
// honoured as by CreatePaymentContext.
func (c *Client) CreateOfferContext(ctx context.Context, requestJSON string, options ...CallOption) (*Offer, error) {
	p, err := c.callOne(ctx, offerCreateSubmit, func(h *C.kasko_client, s *C.char, o *C.kasko_call_options, r **C.kasko_result) C.kasko_status {
		return C.kasko_go_offer_create(h, s, o, r)
	}, requestJSON, "offer request", options)
	if err != nil {
		return nil, err
	}
	return offerOf(p), nil
}

// GetOffer views an offer: GetOfferContext with context.Background().
func (c *Client) GetOffer(policyID string, options ...CallOption) (*Offer, error) {
	return c.GetOfferContext(context.Background(), policyID, options...)
}

// GetOfferContext views an offer (kasko_offer_get_async: the result of
// kasko_offer_get_v2, GET /offers/{id}, holding no OS thread while in
// flight; needs the secret key): its Status and, once payable, its
// PaymentToken. Errors are *Error. ctx is honoured as by
// CreatePaymentContext.
func (c *Client) GetOfferContext(ctx context.Context, policyID string, options ...CallOption) (*Offer, error) {
	p, err := c.callOne(ctx, offerGetSubmit, func(h *C.kasko_client, s *C.char, o *C.kasko_call_options, r **C.kasko_result) C.kasko_status {
		return C.kasko_go_offer_get(h, s, o, r)
	}, policyID, "policy id", options)
	if err != nil {
		return nil, err
	}
	return offerOf(p), nil
}

func offerOf(p *Payment) *Offer {
	return &Offer{PolicyID: str(p, "id"), PaymentToken: str(p, "payment_token"), Status: str(p, "status"),
		InsurerPolicyID: str(p, "insurer_policy_id"), Payment: p}
}

// GetPolicy views a policy: GetPolicyContext with context.Background().
func (c *Client) GetPolicy(policyID string, options ...CallOption) (*Policy, error) {
	return c.GetPolicyContext(context.Background(), policyID, options...)
}

// GetPolicyContext views a policy (kasko_policy_get_async: the result of
// kasko_policy_get_v2, GET /policies/{id}, holding no OS thread while in
// flight; needs the secret key), with the response's ETag() and
// LastModified(). Errors are *Error. ctx is honoured as by
// CreatePaymentContext.
func (c *Client) GetPolicyContext(ctx context.Context, policyID string, options ...CallOption) (*Policy, error) {
	p, err := c.callOne(ctx, policyGetSubmit, func(h *C.kasko_client, s *C.char, o *C.kasko_call_options, r **C.kasko_result) C.kasko_status {
		return C.kasko_go_policy_get(h, s, o, r)
	}, policyID, "policy id", options)
	if err != nil {
		return nil, err
	}
	return &Policy{PolicyID: str(p, "id"), Status: str(p, "status"), VersionID: str(p, "version_id"), Payment: p}, nil
}

// ResolvePayment finds out what became of a CreatePayment whose outcome
// was unknown (kasko_payment_resolve), never making a second payment: pass
// the same request. It views the policy and, unless it is paid, sends the
// identical create once, whose refusals say what the lost one did. An
// error (*Error) means nothing was settled (the view or the repeated create
// got no usable answer): resolving again later stays safe. The C API has no
// asynchronous form of it: it is a blocking call, holding an OS thread
// while it runs, and Close waits for it.
func (c *Client) ResolvePayment(request PaymentRequest, options ...CallOption) (*PaymentResolution, error) {
	if C.KASKO_GO_HAS_CHECKOUT == 0 {
		return nil, newError(StatusInternal, "ResolvePayment needs kasko.h and libkasko 1.3 or later")
	}
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
	unlock := c.lockForCall()
	var out *C.kasko_result
	status := C.kasko_go_payment_resolve(c.handle, fields[0], fields[1], fields[2], fields[3], native, &out)
	unlock()
	p, err := finish(status, out)
	if err != nil {
		return nil, err
	}
	state := PaymentState(str(p, "state"))
	switch state {
	case PaymentPaid, PaymentPending, PaymentNotPaid:
	default:
		return nil, newError(StatusInternal, fmt.Sprintf("kasko_payment_resolve returned no known \"state\": %q", string(state)))
	}
	created, _ := p.MemberBool("created_by_this_call")
	return &PaymentResolution{
		State:             state,
		PolicyID:          str(p, "policy_id"),
		PaymentID:         str(p, "payment_id"),
		CreatedByThisCall: created,
		Evidence:          str(p, "evidence"),
		Message:           str(p, "message"),
		Payment:           p,
	}, nil
}
