// Tests of the kasko package against a running kasko-sandbox
// (KASKO_SANDBOX_URL, as scripts/with-sandbox sets it).
package kasko_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	kasko "example.org/libkasko/bindings/go"
)

const (
	unknownID        = "t00000000000000000000000000000000"
	validTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

func env(t testing.TB, name, fallback string) string {
	t.Helper()
	if value := os.Getenv(name); value != "" {
		return value
	}
	if fallback == "" {
		t.Fatalf("%s is not set: run me under scripts/with-sandbox", name)
	}
	return fallback
}

func config(t testing.TB, withSecret bool) string {
	members := map[string]interface{}{
		"public_key":  env(t, "KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox"),
		"base_url":    env(t, "KASKO_SANDBOX_URL", ""),
		"max_retries": 0,
	}
	if withSecret {
		members["secret_key"] = env(t, "KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox")
	}
	text, err := json.Marshal(members)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

func newClient(t testing.TB) *kasko.Client {
	t.Helper()
	client, err := kasko.NewClient(config(t, true))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

type offer struct {
	PolicyID string `json:"policy_id"`
	Token    string `json:"token"`
}

func newOffer(t testing.TB) offer {
	t.Helper()
	o, err := fetchOffer()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// fetchOffer asks the sandbox for an offer (usable from any goroutine).
func fetchOffer() (offer, error) {
	var o offer
	url := os.Getenv("KASKO_SANDBOX_URL") + "/__sandbox/offers"
	response, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return o, fmt.Errorf("POST %s: %v", url, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusCreated {
		return o, fmt.Errorf("POST %s: %s", url, response.Status)
	}
	if err := json.NewDecoder(response.Body).Decode(&o); err != nil || o.PolicyID == "" || o.Token == "" {
		return o, fmt.Errorf("POST %s: %v %+v", url, err, o)
	}
	return o, nil
}

func request(o offer, provider string) kasko.PaymentRequest {
	return kasko.PaymentRequest{Token: o.Token, Provider: provider, Method: provider, PolicyID: o.PolicyID}
}

// idOf is the payment's "id", read by the library.
func idOf(t testing.TB, p *kasko.Payment) string {
	t.Helper()
	id, ok := p.MemberString("id")
	if !ok || id == "" {
		t.Fatalf("no \"id\" in %s", p.JSON)
	}
	return id
}

func field(t testing.TB, text, key string) string {
	t.Helper()
	var members map[string]interface{}
	if err := json.Unmarshal([]byte(text), &members); err != nil {
		t.Fatalf("not JSON: %v: %s", err, text)
	}
	value, ok := members[key].(string)
	if !ok {
		t.Fatalf("no string %q in %s", key, text)
	}
	return value
}

// kaskoError requires err to be a *kasko.Error with the given status.
func kaskoError(t testing.TB, err error, status kasko.Status) *kasko.Error {
	t.Helper()
	var kerr *kasko.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("want a *kasko.Error with %v, got %#v", status, err)
	}
	if kerr.Status != status {
		t.Fatalf("want %v, got %v: %s", status, kerr.Status, kerr.JSON)
	}
	return kerr
}

// refusedBeforeIO requires err to be StatusInvalidArgument with nothing sent.
func refusedBeforeIO(t testing.TB, err error, what string) *kasko.Error {
	t.Helper()
	var kerr *kasko.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("%s: want a *kasko.Error, got %#v", what, err)
	}
	if kerr.Status != kasko.StatusInvalidArgument || kerr.Outcome != kasko.OutcomeNotSent || kerr.Attempts != 0 ||
		kerr.Retryable || kerr.HTTPStatus != 0 || kerr.PendingPaymentID != "" || kerr.RequestID != "" {
		t.Fatalf("%s: want INVALID_ARGUMENT, not sent: %+v", what, kerr)
	}
	if field(t, kerr.JSON, "code") != "KASKO_ERR_INVALID_ARGUMENT" || field(t, kerr.JSON, "message") != kerr.Message {
		t.Fatalf("%s: the library's error object: %s", what, kerr.JSON)
	}
	return kerr
}

func TestVersionAndStatusNames(t *testing.T) {
	if !strings.HasPrefix(kasko.Version(), "1.") {
		t.Fatalf("major version 1, got %s", kasko.Version())
	}
	if kasko.VersionNumber() < kasko.HeaderVersionNumber || kasko.VersionNumber()/1000000 != 1 {
		t.Fatalf("VersionNumber %d, header %d", kasko.VersionNumber(), kasko.HeaderVersionNumber)
	}
	names := []string{"KASKO_OK", "KASKO_ERR_INVALID_ARGUMENT", "KASKO_ERR_BAD_REQUEST",
		"KASKO_ERR_UNAUTHORIZED", "KASKO_ERR_NOT_FOUND", "KASKO_ERR_PENDING_PAYMENT",
		"KASKO_ERR_RATE_LIMITED", "KASKO_ERR_SERVER", "KASKO_ERR_NETWORK",
		"KASKO_ERR_INVALID_RESPONSE", "KASKO_ERR_INTERNAL", "KASKO_ERR_BAD_SIGNATURE",
		"KASKO_ERR_CANCELLED"}
	statuses := []kasko.Status{kasko.StatusOK, kasko.StatusInvalidArgument, kasko.StatusBadRequest,
		kasko.StatusUnauthorized, kasko.StatusNotFound, kasko.StatusPendingPayment,
		kasko.StatusRateLimited, kasko.StatusServer, kasko.StatusNetwork,
		kasko.StatusInvalidResponse, kasko.StatusInternal, kasko.StatusBadSignature,
		kasko.StatusCancelled}
	for i, status := range statuses {
		if int(status) != i || status.String() != names[i] {
			t.Errorf("status %d: %d %s, want %s", i, int(status), status, names[i])
		}
	}
	outcomes := map[kasko.Outcome]string{
		kasko.OutcomeSucceeded: "KASKO_OUTCOME_SUCCEEDED", kasko.OutcomeNotSent: "KASKO_OUTCOME_NOT_SENT",
		kasko.OutcomeRejected: "KASKO_OUTCOME_REJECTED", kasko.OutcomeUnknown: "KASKO_OUTCOME_UNKNOWN",
		kasko.Outcome(42): "KASKO_OUTCOME_INVALID",
	}
	for outcome, name := range outcomes {
		if outcome.String() != name {
			t.Errorf("outcome %d: %s, want %s", int(outcome), outcome, name)
		}
	}
}

func TestCreateThenGet(t *testing.T) {
	client := newClient(t)
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if field(t, created.JSON, "object") != "payment" {
		t.Fatalf("not a payment: %s", created)
	}
	id := field(t, created.JSON, "id")
	viewed, err := client.GetPayment(id)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if field(t, viewed.JSON, "id") != id || field(t, viewed.JSON, "status") != "ok" {
		t.Fatalf("viewed %s", viewed)
	}
}

func TestTypedGettersOnSuccess(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	created, err := client.CreatePayment(request(o, "invoice"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if created.HTTPStatus != 200 && created.HTTPStatus != 201 {
		t.Fatalf("HTTPStatus %d", created.HTTPStatus)
	}
	if created.Attempts != 1 || !strings.HasPrefix(created.RequestID, "req_") {
		t.Fatalf("attempts %d, request id %q", created.Attempts, created.RequestID)
	}
	if policy, ok := created.MemberString("policy_id"); !ok || policy != o.PolicyID {
		t.Fatalf("policy_id %q %v: %s", policy, ok, created)
	}
	if created.String() != created.JSON {
		t.Fatal("String() is the JSON")
	}
	id := idOf(t, created)
	if id != field(t, created.JSON, "id") {
		t.Fatalf("MemberString(\"id\") %q: %s", id, created)
	}

	viewed, err := client.GetPayment(id)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if viewed.HTTPStatus != 200 || idOf(t, viewed) != id {
		t.Fatalf("viewed %d %s", viewed.HTTPStatus, viewed)
	}
	if viewed.MemberType("id") != kasko.JSONString || viewed.MemberType("livemode") != kasko.JSONBool ||
		viewed.MemberType("fee") != kasko.JSONNumber || viewed.MemberType("charge_id") != kasko.JSONNull ||
		viewed.MemberType("refunds") != kasko.JSONArray || viewed.MemberType("_links") != kasko.JSONObject ||
		viewed.MemberType("no_such_member") != kasko.JSONNone {
		t.Fatalf("member types: %s", viewed)
	}
	if livemode, ok := viewed.MemberBool("livemode"); !ok || livemode {
		t.Fatalf("livemode %v %v", livemode, ok)
	}
	if fee, ok := viewed.MemberInt64("fee"); !ok || fee != 0 {
		t.Fatalf("fee %v %v", fee, ok)
	}
	if fee, ok := viewed.MemberFloat64("fee"); !ok || fee != 0 {
		t.Fatalf("fee %v %v", fee, ok)
	}
	if refunds, ok := viewed.MemberJSON("refunds"); !ok || refunds != "[]" {
		t.Fatalf("refunds %q %v", refunds, ok)
	}
	links, ok := viewed.MemberJSON("_links")
	var decoded map[string]map[string]string
	if !ok || json.Unmarshal([]byte(links), &decoded) != nil || !strings.HasSuffix(decoded["_self"]["href"], "/payments/"+id) {
		t.Fatalf("_links %q %v", links, ok)
	}
	// Absent, another type, a name C cannot carry: nothing.
	if _, ok := viewed.MemberString("no_such_member"); ok {
		t.Error("an absent member")
	}
	if _, ok := viewed.MemberString("fee"); ok {
		t.Error("fee is no string")
	}
	if _, ok := viewed.MemberInt64("id"); ok {
		t.Error("id is no integer")
	}
	if _, ok := viewed.MemberBool("status"); ok {
		t.Error("status is no bool")
	}
	if _, ok := viewed.MemberString("id\x00x"); ok || viewed.MemberType("id\x00x") != kasko.JSONNone {
		t.Error("a name with a NUL byte")
	}
}

func TestZeroPaymentReadsNothing(t *testing.T) {
	var zero kasko.Payment
	var none *kasko.Payment
	if _, ok := zero.MemberString("id"); ok || zero.MemberType("id") != kasko.JSONNone {
		t.Error("a zero Payment")
	}
	if _, ok := none.MemberJSON("id"); ok || none.MemberType("id") != kasko.JSONNone {
		t.Error("a nil *Payment")
	}
}

// The kasko_result stays alive as long as some copy of the Payment refers to it.
func TestPaymentOutlivesGCAndClient(t *testing.T) {
	client, err := kasko.NewClient(config(t, true))
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	id := idOf(t, created)
	client.Close()
	copied := *created
	created = nil
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	if got, ok := copied.MemberString("id"); !ok || got != id {
		t.Fatalf("after GC and Close: %q %v", got, ok)
	}
}

func TestUnknownPaymentIsNotFound(t *testing.T) {
	_, err := newClient(t).GetPayment(unknownID)
	kerr := kaskoError(t, err, kasko.StatusNotFound)
	if kerr.HTTPStatus != 404 || !strings.Contains(kerr.JSON, `"code":"KASKO_ERR_NOT_FOUND"`) {
		t.Fatalf("%+v", kerr)
	}
	if !strings.HasPrefix(err.Error(), "KASKO_ERR_NOT_FOUND: ") {
		t.Fatalf("Error(): %s", err)
	}
}

func TestTypedGettersOnError(t *testing.T) {
	_, err := newClient(t).GetPayment(unknownID)
	kerr := kaskoError(t, err, kasko.StatusNotFound)
	if kerr.HTTPStatus != 404 || kerr.Outcome != kasko.OutcomeRejected || kerr.Retryable || kerr.Attempts != 1 {
		t.Fatalf("%+v", kerr)
	}
	if kerr.Message == "" || !strings.HasPrefix(kerr.RequestID, "req_") || kerr.PendingPaymentID != "" {
		t.Fatalf("%+v", kerr)
	}
	// The typed getters agree with the library's error object.
	var object struct {
		Code       string `json:"code"`
		HTTPStatus int    `json:"http_status"`
		Message    string `json:"message"`
		Outcome    string `json:"outcome"`
		Retryable  bool   `json:"retryable"`
		Attempts   int    `json:"attempts"`
		RequestID  string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(kerr.JSON), &object); err != nil {
		t.Fatal(err)
	}
	if object.Code != "KASKO_ERR_NOT_FOUND" || object.HTTPStatus != 404 || object.Message != kerr.Message ||
		object.Outcome != "rejected" || object.Retryable || object.Attempts != 1 || object.RequestID != kerr.RequestID {
		t.Fatalf("%+v vs %s", kerr, kerr.JSON)
	}
}

func TestUnknownProviderIsNotFound(t *testing.T) {
	_, err := newClient(t).CreatePayment(request(newOffer(t), "no_such_provider"))
	if kerr := kaskoError(t, err, kasko.StatusNotFound); kerr.HTTPStatus != 404 || kerr.Outcome != kasko.OutcomeRejected {
		t.Fatalf("%+v", kerr)
	}
}

func TestPendingPaymentBlocksAnother(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	created, err := client.CreatePayment(request(o, "deferred"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	pending := field(t, created.JSON, "id")
	if status, _ := created.MemberString("status"); status != "pending" {
		t.Fatalf("deferred is pending: %s", created)
	}
	_, err = client.CreatePayment(request(o, "deferred"))
	kerr := kaskoError(t, err, kasko.StatusPendingPayment)
	if kerr.HTTPStatus != 422 || kerr.PendingPaymentID != pending {
		t.Fatalf("want 422 with %s, got %+v", pending, kerr)
	}
	if kerr.Outcome != kasko.OutcomeRejected || kerr.Retryable || field(t, kerr.JSON, "pending_payment_id") != pending {
		t.Fatalf("%+v", kerr)
	}
	if !strings.Contains(kerr.Message, pending) {
		t.Fatalf("the message names it: %s", kerr.Message)
	}
	viewed, err := client.GetPayment(kerr.PendingPaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := viewed.MemberString("status"); status != "pending" {
		t.Fatalf("the pending payment: %s", viewed)
	}
}

func TestBadPaymentIDIsRefusedBeforeIO(t *testing.T) {
	_, err := newClient(t).GetPayment("../x")
	kerr := kaskoError(t, err, kasko.StatusInvalidArgument)
	if kerr.HTTPStatus != 0 || !strings.Contains(kerr.JSON, `"outcome":"not_sent"`) {
		t.Fatalf("%+v", kerr)
	}
	refusedBeforeIO(t, err, "../x")
}

// Was "a request without a field": a PaymentRequest cannot lack one, but an
// empty one is refused the same way, by the library.
func TestRequestWithoutAFieldIsInvalid(t *testing.T) {
	o := newOffer(t)
	_, err := newClient(t).CreatePayment(kasko.PaymentRequest{Token: o.Token, Provider: "invoice", PolicyID: o.PolicyID})
	kerr := kaskoError(t, err, kasko.StatusInvalidArgument)
	if kerr.HTTPStatus != 0 || !strings.Contains(kerr.Message, "method") {
		t.Fatalf("the message names the field: %+v", kerr)
	}
	refusedBeforeIO(t, err, "no method")
}

func TestNULIsRefusedNotTruncated(t *testing.T) {
	_, err := newClient(t).GetPayment("t123\x00../x")
	if kerr := kaskoError(t, err, kasko.StatusInvalidArgument); !strings.Contains(kerr.Message, "NUL") {
		t.Fatalf("%+v", kerr)
	}
}

// Every argument with a NUL byte: an error result made by the library.
func TestNULInAnyArgument(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	check := func(err error, what, message string) {
		t.Helper()
		if kerr := refusedBeforeIO(t, err, what); kerr.Message != message {
			t.Errorf("%s: message %q, want %q", what, kerr.Message, message)
		}
	}
	_, err := client.GetPayment("t123\x00../x")
	check(err, "payment id", "payment id contains a NUL character")
	_, err = client.CreatePayment(kasko.PaymentRequest{Token: o.Token + "\x00", Provider: "invoice", Method: "invoice", PolicyID: o.PolicyID})
	check(err, "token", `payment request field "token" contains a NUL character`)
	_, err = client.CreatePayment(kasko.PaymentRequest{Token: o.Token, Provider: "invoice", Method: "in\x00voice", PolicyID: o.PolicyID})
	check(err, "method", `payment request field "method" contains a NUL character`)
	_, err = client.GetPayment(unknownID, kasko.WithTraceparent(validTraceparent+"\x00"))
	check(err, "traceparent", "traceparent contains a NUL character")
	_, err = client.CreatePayment(request(o, "invoice"), kasko.WithTraceparent(validTraceparent), kasko.WithTracestate("a=b\x00"))
	check(err, "tracestate", "tracestate contains a NUL character")
	_, err = kasko.NewClient(config(t, true) + "\x00")
	check(err, "config", "config_json contains a NUL character")
	// None of these was sent: the offer is still unpaid.
	if _, err := client.CreatePayment(request(o, "invoice")); err != nil {
		t.Fatalf("the offer: %v", err)
	}
}

func TestBadConfigurationIsInvalid(t *testing.T) {
	client, err := kasko.NewClient(`{"public_key":"pk_test_x","typo":1}`)
	if client != nil {
		t.Fatal("a client from a bad configuration")
	}
	kerr := refusedBeforeIO(t, err, "unknown key")
	if !strings.Contains(kerr.JSON, `"object":"error"`) || field(t, kerr.JSON, "outcome") != "not_sent" {
		t.Fatalf("the library's error object: %s", kerr.JSON)
	}
	// The library's reason, word for word (refusedBeforeIO: the same as the
	// error object's "message"), naming the key.
	if !strings.HasPrefix(kerr.Message, `unknown configuration key "typo"`) {
		t.Fatalf("the library's reason: %q", kerr.Message)
	}
	if kerr.Error() != "KASKO_ERR_INVALID_ARGUMENT: "+kerr.Message {
		t.Fatalf("Error(): %q", kerr.Error())
	}
}

func TestBadKeyIsRefusedWithTheLibrarysMessage(t *testing.T) {
	for _, c := range []struct{ config, names, secret string }{
		{`{"public_key":"pk_test_abc","secret_key":"sk_test_\u0001verysecretvalue"}`, "secret_key", "verysecretvalue"},
		{`{"public_key":"pk_test_abc","secret_key":"sk_live_verysecretvalue"}`, "secret_key", "verysecretvalue"},
		{`{"public_key":"pk_test_has space"}`, "public_key", "has space"},
		{`not json`, "configuration is not valid JSON", ""},
		{`{}`, "public_key", ""},
	} {
		client, err := kasko.NewClient(c.config)
		if client != nil {
			t.Fatalf("%s: a client", c.config)
		}
		kerr := refusedBeforeIO(t, err, c.config)
		if !strings.Contains(kerr.Message, c.names) {
			t.Errorf("%s: the message names %q: %q", c.config, c.names, kerr.Message)
		}
		if c.secret != "" && (strings.Contains(kerr.Message, c.secret) || strings.Contains(kerr.JSON, c.secret)) {
			t.Errorf("%s: the key is quoted: %s", c.config, kerr.JSON)
		}
	}
	// A good configuration still makes a client.
	client, err := kasko.NewClient(config(t, true))
	if err != nil || client == nil {
		t.Fatalf("NewClient: %v", err)
	}
	client.Close()
}

func TestCallOptionsValidAreAccepted(t *testing.T) {
	client := newClient(t)
	options := []kasko.CallOption{
		kasko.WithTimeout(30 * time.Second),
		kasko.WithTraceparent(validTraceparent),
		kasko.WithTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
	}
	created, err := client.CreatePayment(request(newOffer(t), "invoice"), options...)
	if err != nil {
		t.Fatalf("CreatePayment with options: %v", err)
	}
	id := idOf(t, created)
	for _, opts := range [][]kasko.CallOption{
		options,
		{kasko.WithTimeout(time.Hour)}, // the largest
		{kasko.WithTimeout(5 * time.Second)},
		{kasko.WithTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")},
		{kasko.WithTimeout(0), kasko.WithTraceparent(""), kasko.WithTracestate("")}, // the client's defaults
		{nil},
	} {
		viewed, err := client.GetPayment(id, opts...)
		if err != nil || idOf(t, viewed) != id {
			t.Fatalf("GetPayment with %d options: %v", len(opts), err)
		}
	}
	_, err = client.GetPayment(unknownID, options...)
	if kerr := kaskoError(t, err, kasko.StatusNotFound); kerr.HTTPStatus != 404 {
		t.Fatalf("%+v", kerr)
	}
}

func TestCallOptionsInvalidAreRefusedWithTheLibrarysMessage(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	refused := func(what, names string, options ...kasko.CallOption) {
		t.Helper()
		_, err := client.GetPayment(unknownID, options...)
		get := refusedBeforeIO(t, err, what+" (get)")
		if !strings.Contains(get.Message, names) {
			t.Errorf("%s: the message names %s: %q", what, names, get.Message)
		}
		_, err = client.CreatePayment(request(o, "invoice"), options...)
		if create := refusedBeforeIO(t, err, what+" (create)"); create.Message != get.Message {
			t.Errorf("%s: one message, got %q and %q", what, get.Message, create.Message)
		}
	}
	for _, value := range []string{
		"not-a-traceparent",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper-case hex
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
	} {
		refused("traceparent "+value, "traceparent", kasko.WithTraceparent(value))
	}
	var many []string
	for i := 0; i < 33; i++ {
		many = append(many, fmt.Sprintf("k%d=v", i))
	}
	for _, value := range []string{strings.Join(many, ","), strings.Repeat("a", 513), "k=v\x01", "k=caf\u00e9"} {
		refused(fmt.Sprintf("tracestate of %d bytes", len(value)), "tracestate",
			kasko.WithTraceparent(validTraceparent), kasko.WithTracestate(value))
	}
	for _, timeout := range []time.Duration{-time.Nanosecond, -time.Second, time.Hour + time.Millisecond, 1000 * time.Hour} {
		refused("timeout "+timeout.String(), "timeout", kasko.WithTimeout(timeout))
	}
	// A later option replaces an earlier one.
	if _, err := client.GetPayment(unknownID, kasko.WithTraceparent("bogus"), kasko.WithTraceparent(validTraceparent)); err == nil {
		t.Fatal("no 404")
	} else {
		kaskoError(t, err, kasko.StatusNotFound)
	}
	// Nothing was sent: the offer is still unpaid.
	if _, err := client.CreatePayment(request(o, "invoice")); err != nil {
		t.Fatalf("the offer: %v", err)
	}
}

// The options reach the wire: a local server (not the sandbox, which does
// not echo headers) sees the trace headers, and a per-call timeout shorter
// than its delay ends the call while the client's own timeout would not.
func TestCallOptionsReachTheServer(t *testing.T) {
	const id = "tcalloptions0000000000000000000000"
	var mu sync.Mutex
	var seen []http.Header
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		if r.URL.Query().Get("slow") != "" || r.Header.Get("Traceparent") == "" {
			select {
			case <-release:
			case <-time.After(3 * time.Second):
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_local")
		fmt.Fprintf(w, `{"object":"payment","id":%q,"status":"ok"}`, id)
	}))
	defer server.Close()
	defer close(release)
	text, _ := json.Marshal(map[string]interface{}{
		"public_key": "pk_test_sandbox", "secret_key": "sk_test_sandbox",
		"base_url": server.URL, "max_retries": 0, "timeout_ms": 20000,
	})
	client, err := kasko.NewClient(string(text))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	state := "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
	payment, err := client.GetPayment(id, kasko.WithTraceparent(validTraceparent), kasko.WithTracestate(state))
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if payment.RequestID != "req_local" || payment.HTTPStatus != 200 || idOf(t, payment) != id {
		t.Fatalf("%+v", payment)
	}
	mu.Lock()
	got := seen[len(seen)-1]
	mu.Unlock()
	if got.Get("Traceparent") != validTraceparent || got.Get("Tracestate") != state {
		t.Fatalf("headers sent: traceparent %q, tracestate %q", got.Get("Traceparent"), got.Get("Tracestate"))
	}

	// Without a traceparent the server waits (up to 3 s); 300 ms is enough here.
	start := time.Now()
	_, err = client.GetPayment(id, kasko.WithTimeout(300*time.Millisecond))
	elapsed := time.Since(start)
	kerr := kaskoError(t, err, kasko.StatusNetwork)
	if elapsed > 2*time.Second || kerr.HTTPStatus != 0 || kerr.Attempts != 1 {
		t.Fatalf("after %v: %+v", elapsed, kerr)
	}
	mu.Lock()
	got = seen[len(seen)-1]
	mu.Unlock()
	if got.Get("Traceparent") != "" || got.Get("Tracestate") != "" {
		t.Fatalf("no trace headers without the options: %v", got)
	}
}

func TestWithoutSecretKeyAViewIsUnauthorized(t *testing.T) {
	client, err := kasko.NewClient(config(t, false))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetPayment(field(t, created.JSON, "id"))
	if kerr := kaskoError(t, err, kasko.StatusUnauthorized); kerr.HTTPStatus != 401 && kerr.HTTPStatus != 403 {
		t.Fatalf("%+v", kerr)
	}
}

func TestClosedClientIsRefused(t *testing.T) {
	client, err := kasko.NewClient(config(t, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal("a second Close:", err)
	}
	_, err = client.GetPayment(unknownID)
	kaskoError(t, err, kasko.StatusInvalidArgument)
	_, err = client.CreatePayment(request(newOffer(t), "invoice"))
	kaskoError(t, err, kasko.StatusInvalidArgument)
	refusedBeforeIO(t, err, "closed")
}

func TestErrorsWrap(t *testing.T) {
	_, err := newClient(t).GetPayment(unknownID)
	wrapped := fmt.Errorf("viewing: %w", err)
	if kerr := kaskoError(t, wrapped, kasko.StatusNotFound); kerr.HTTPStatus != 404 {
		t.Fatalf("%+v", kerr)
	}
}

func TestEightGoroutinesShareOneClient(t *testing.T) {
	client := newClient(t)
	var wg sync.WaitGroup
	problems := make(chan error, 8*3)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				o, err := fetchOffer()
				if err != nil {
					problems <- err
					return
				}
				created, err := client.CreatePayment(request(o, "invoice"))
				if err != nil {
					problems <- err
					return
				}
				var payment struct{ ID string }
				if err := json.Unmarshal([]byte(created.JSON), &payment); err != nil || payment.ID == "" {
					problems <- fmt.Errorf("no id in %s", created)
					return
				}
				viewed, err := client.GetPayment(payment.ID, kasko.WithTraceparent(validTraceparent))
				if err != nil || !strings.Contains(viewed.JSON, payment.ID) {
					problems <- fmt.Errorf("GetPayment(%s): %v %v", payment.ID, err, viewed)
					return
				}
				var kerr *kasko.Error
				if _, err := client.GetPayment(unknownID); !errors.As(err, &kerr) || kerr.Status != kasko.StatusNotFound {
					problems <- fmt.Errorf("want NOT_FOUND, got %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(problems)
	for err := range problems {
		t.Error(err)
	}
}

// One Payment read from many goroutines (results are immutable).
func TestOnePaymentReadFromEightGoroutines(t *testing.T) {
	client := newClient(t)
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	id := idOf(t, created)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if got, ok := created.MemberString("id"); !ok || got != id {
					t.Errorf("MemberString: %q %v", got, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Close ends the calls in flight (StatusCancelled, libkasko 1.4: it no
// longer waits them out) and refuses later ones.
func TestCloseWhileInUse(t *testing.T) {
	client, err := kasko.NewClient(config(t, true))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, err := client.GetPayment(unknownID)
				var kerr *kasko.Error
				if !errors.As(err, &kerr) ||
					(kerr.Status != kasko.StatusNotFound && kerr.Status != kasko.StatusInvalidArgument &&
						kerr.Status != kasko.StatusCancelled) {
					t.Errorf("want NOT_FOUND, CANCELLED (in flight at Close) or, once closed, INVALID_ARGUMENT: %v", err)
				}
			}
		}()
	}
	client.Close()
	wg.Wait()
}

// ---- a typed configuration: kasko.Config ------------------------------------

func secret(t testing.TB) string {
	return env(t, "KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox")
}

func intPtr(n int) *int { return &n }

func stringPtr(s string) *string { return &s }

// typedConfig is the sandbox's configuration as a kasko.Config: no JSON.
func typedConfig(t testing.TB, baseURL string, withSecret bool) kasko.Config {
	c := kasko.Config{
		PublicKey:  env(t, "KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox"),
		BaseURL:    baseURL,
		MaxRetries: intPtr(0),
	}
	if withSecret {
		c.SecretKey = secret(t)
	}
	return c
}

func sandboxConfig(t testing.TB) kasko.Config {
	return typedConfig(t, env(t, "KASKO_SANDBOX_URL", ""), true)
}

// refusedConfig requires NewClientWithConfig to refuse c before any I/O,
// with the library's message, which never holds the secret key.
func refusedConfig(t *testing.T, c kasko.Config, what string) *kasko.Error {
	t.Helper()
	client, err := kasko.NewClientWithConfig(c)
	if client != nil {
		client.Close()
		t.Fatalf("%s: a client", what)
	}
	kerr := refusedBeforeIO(t, err, what)
	if s := secret(t); strings.Contains(kerr.Message, s) || strings.Contains(kerr.JSON, s) {
		t.Fatalf("%s: the secret key is quoted: %s", what, kerr.JSON)
	}
	return kerr
}

func TestConfigClientCreatesThenViews(t *testing.T) {
	c := sandboxConfig(t)
	c.Timeout = 30 * time.Second
	c.ConnectTimeout = 5000 * time.Millisecond
	c.MaxRetries = intPtr(1)
	c.Proxy = stringPtr("")
	c.UserAgent = `go-test/1 ("quoted" \ text)`
	client, err := kasko.NewClientWithConfig(c)
	if err != nil {
		t.Fatalf("NewClientWithConfig: %v", err)
	}
	defer client.Close()
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	id := idOf(t, created)
	viewed, err := client.GetPayment(id)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if idOf(t, viewed) != id {
		t.Fatalf("another payment: %s", viewed.JSON)
	}
	if status, _ := viewed.MemberString("status"); status != "ok" || viewed.MemberType("policy_id") != kasko.JSONString {
		t.Fatalf("the full object, ok: %s", viewed.JSON)
	}

	// Without the secret key: the restricted object, and views refused.
	public, err := kasko.NewClientWithConfig(typedConfig(t, c.BaseURL, false))
	if err != nil {
		t.Fatal(err)
	}
	defer public.Close()
	restricted, err := public.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	if restricted.MemberType("policy_id") != kasko.JSONNone {
		t.Fatalf("restricted: %s", restricted.JSON)
	}
	_, err = public.GetPayment(idOf(t, restricted))
	kaskoError(t, err, kasko.StatusUnauthorized)
}

func TestConfigBadValueIsInvalidArgumentWithTheLibrarysMessage(t *testing.T) {
	c := sandboxConfig(t)
	c.MaxRetries = intPtr(11)
	kerr := refusedConfig(t, c, "max_retries 11")
	if !strings.Contains(kerr.Message, "max_retries") || !strings.Contains(kerr.Message, "0 to 10") {
		t.Fatalf("the message: %q", kerr.Message)
	}
	// The very message of the JSON configuration with the same value.
	_, err := kasko.NewClient(`{"public_key":"pk_test_abc","max_retries":11}`)
	if json := refusedBeforeIO(t, err, "JSON"); json.Message != kerr.Message {
		t.Fatalf("%q vs %q", json.Message, kerr.Message)
	}

	// Each field goes to its own key: a bad value is refused naming it.
	for _, bad := range []struct {
		what   string
		set    func(*kasko.Config)
		names  string
		hidden string
	}{
		{"a malformed public key", func(c *kasko.Config) { c.PublicKey = "pk_test_has space" }, "public_key", "has space"},
		{"a secret key as the public key", func(c *kasko.Config) { c.PublicKey = "sk_test_sandbox" }, "public_key", ""},
		{"a malformed secret key", func(c *kasko.Config) { c.SecretKey = `sk_test_Secret"With\Quote` }, "secret_key", "Secret"},
		{"test and live keys mixed", func(c *kasko.Config) { c.PublicKey = "pk_live_abc" }, "live", ""},
		{"plain http to another host", func(c *kasko.Config) { c.BaseURL = "http://example.com" }, "base_url", ""},
		{"a negative timeout", func(c *kasko.Config) { c.Timeout = -time.Second }, "timeout_ms", ""},
		{"a negative connect timeout", func(c *kasko.Config) { c.ConnectTimeout = -time.Second }, "connect_timeout_ms", ""},
		{"negative retries", func(c *kasko.Config) { c.MaxRetries = intPtr(-1) }, "max_retries", ""},
		{"a missing CA bundle", func(c *kasko.Config) { c.CABundle = "/nonexistent/ca.pem" }, "ca_bundle", ""},
		{"a proxy of another scheme", func(c *kasko.Config) { c.Proxy = stringPtr("ftp://proxy") }, "proxy", ""},
		{"a control character in the user agent", func(c *kasko.Config) { c.UserAgent = "a\nb" }, "user_agent", ""},
		{"no public key", func(c *kasko.Config) { c.PublicKey = "" }, "public_key", ""},
	} {
		c := sandboxConfig(t)
		bad.set(&c)
		kerr := refusedConfig(t, c, bad.what)
		if !strings.Contains(kerr.Message, bad.names) {
			t.Errorf("%s: the message names %q: %q", bad.what, bad.names, kerr.Message)
		}
		if bad.hidden != "" && (strings.Contains(kerr.Message, bad.hidden) || strings.Contains(kerr.JSON, bad.hidden)) {
			t.Errorf("%s: the value is quoted: %s", bad.what, kerr.JSON)
		}
	}
}

func TestConfigNULIsRefused(t *testing.T) {
	c := sandboxConfig(t)
	c.SecretKey = secret(t) + "\x00tail"
	kerr := refusedConfig(t, c, "a NUL byte in the secret key")
	if kerr.Message != `configuration key "secret_key" contains a NUL character` || strings.Contains(kerr.JSON, "tail") {
		t.Fatalf("the message: %s", kerr.JSON)
	}
	c = sandboxConfig(t)
	c.Proxy = stringPtr("\x00")
	if kerr := refusedConfig(t, c, "a NUL byte in the proxy"); !strings.Contains(kerr.Message, `"proxy"`) {
		t.Fatalf("the message: %q", kerr.Message)
	}
}

func TestConfigTimeoutsAreSentAsMilliseconds(t *testing.T) {
	for _, c := range []struct {
		timeout, connect time.Duration
		want             string
	}{
		{time.Hour + time.Millisecond, 0, "timeout_ms must be a whole number from 1 to 3600000, got 3600001"},
		{time.Hour + time.Nanosecond, 0, "got 3600001"}, // rounded up
		{-1500 * time.Microsecond, 0, "timeout_ms must be a whole number from 1 to 3600000, got -1"},
		{-time.Nanosecond, 0, "got -1"}, // a negative one never becomes 0
		{1000 * time.Hour, 0, "got 2147483647"},
		{0, 61 * time.Minute, "connect_timeout_ms must be a whole number from 1 to 3600000, got 3660000"},
		{time.Hour, -2 * time.Second, "connect_timeout_ms must be a whole number from 1 to 3600000, got -2000"},
	} {
		config := sandboxConfig(t)
		config.Timeout, config.ConnectTimeout = c.timeout, c.connect
		what := fmt.Sprintf("timeout %v, connect timeout %v", c.timeout, c.connect)
		if kerr := refusedConfig(t, config, what); !strings.Contains(kerr.Message, c.want) {
			t.Errorf("%s: %q, want %q", what, kerr.Message, c.want)
		}
	}
	// The ends of the range, and the zero value (the defaults), are accepted.
	for _, c := range [][2]time.Duration{{time.Hour, time.Hour}, {time.Nanosecond, time.Microsecond}, {0, 0}} {
		config := sandboxConfig(t)
		config.Timeout, config.ConnectTimeout = c[0], c[1]
		client, err := kasko.NewClientWithConfig(config)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		client.Close()
	}
}

// A local server (not the sandbox, which does not echo headers and never
// stalls) sees the User-Agent, and the configured timeout ends a call that
// gets no answer.
func TestConfigReachesTheServer(t *testing.T) {
	const id = "tconfig000000000000000000000000000"
	var mu sync.Mutex
	var agents []string
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.Header.Get("User-Agent"))
		mu.Unlock()
		if r.URL.Query().Get("slow") != "" || strings.Contains(r.URL.Path, "slow") {
			select {
			case <-release:
			case <-time.After(3 * time.Second):
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"payment","id":%q,"status":"ok"}`, id)
	}))
	defer server.Close()
	defer close(release)
	c := typedConfig(t, server.URL, true)
	c.Timeout = 300 * time.Millisecond
	c.UserAgent = `go-test/1 ("quoted" \ text)`
	client, err := kasko.NewClientWithConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	payment, err := client.GetPayment(id)
	if err != nil || idOf(t, payment) != id {
		t.Fatalf("GetPayment: %v", err)
	}
	mu.Lock()
	agent := agents[len(agents)-1]
	mu.Unlock()
	if !strings.HasPrefix(agent, c.UserAgent) {
		t.Fatalf("User-Agent %q, want it to start with %q", agent, c.UserAgent)
	}

	start := time.Now()
	_, err = client.GetPayment("tslow000000000000000000000000000000")
	elapsed := time.Since(start)
	kerr := kaskoError(t, err, kasko.StatusNetwork)
	if elapsed < 250*time.Millisecond || elapsed > 2*time.Second || kerr.Attempts != 1 {
		t.Fatalf("after %v (300 ms configured, not the default 60 s): %+v", elapsed, kerr)
	}
}

func TestConfigNeverPrintsTheSecretKey(t *testing.T) {
	c := kasko.Config{PublicKey: "pk_test_shown", SecretKey: "sk_test_verysecret", MaxRetries: intPtr(3),
		Proxy: stringPtr(""), Timeout: 1500 * time.Millisecond}
	type holder struct{ Config kasko.Config }
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%T %v"} {
		for _, value := range []interface{}{c, &c, holder{c}, []kasko.Config{c}} {
			shown := fmt.Sprintf(format, value)
			if strings.Contains(shown, "verysecret") {
				t.Errorf("%s of %T shows the secret key: %s", format, value, shown)
			}
		}
	}
	shown := c.String()
	for _, want := range []string{`PublicKey:"pk_test_shown"`, "SecretKey:[redacted]", "MaxRetries:3", `Proxy:""`, "Timeout:1.5s"} {
		if !strings.Contains(shown, want) {
			t.Errorf("String() %s: no %s", shown, want)
		}
	}
	if shown := (kasko.Config{}).String(); !strings.Contains(shown, `SecretKey:""`) || !strings.Contains(shown, "MaxRetries:nil") {
		t.Errorf("an empty Config: %s", shown)
	}
}
