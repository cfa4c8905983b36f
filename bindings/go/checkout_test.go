// The checkout calls (libkasko 1.3) against a running kasko-sandbox
// started with --faults (scripts/check-bindings go starts one), over real
// HTTP. No test prints an offer's JSON or a payment token.
package kasko_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	kasko "example.org/libkasko/bindings/go"
)

const (
	travelQuote = `{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single",` +
		`"integration_id":"in_sandbox_travel","data":{"trip_cost":100000,"policy_start_date":"2027-01-15"}}`
	unknownPolicy = "tpol_0000000000000000000000000000"
)

func offerRequest(quoteToken string) string {
	return fmt.Sprintf(`{"quote_token":%q,"first_name":"Ada","last_name":"Lovelace",`+
		`"email":"ada@example.com","language":"de"}`, quoteToken)
}

func publicOnlyClient(t *testing.T) *kasko.Client {
	t.Helper()
	client, err := kasko.NewClient(config(t, false))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// checkoutOffer makes a quote and an offer through the binding.
func checkoutOffer(t *testing.T, client *kasko.Client) *kasko.Offer {
	t.Helper()
	quote, err := client.CreateQuote(travelQuote)
	if err != nil {
		t.Fatalf("CreateQuote: %v", err)
	}
	if !strings.HasPrefix(quote.Token, "qtok_") {
		t.Fatalf("a quote token: %s", quote.JSON)
	}
	o, err := client.CreateOffer(offerRequest(quote.Token))
	if err != nil {
		t.Fatalf("CreateOffer: %v", err)
	}
	if !strings.HasPrefix(o.PolicyID, "tpol_") || !strings.HasPrefix(o.PaymentToken, "ptok_") {
		t.Fatalf("an offer with an id and a token: %v", o) // printed redacted
	}
	return o
}

func paymentRequest(o *kasko.Offer) kasko.PaymentRequest {
	return kasko.PaymentRequest{Token: o.PaymentToken, Provider: "invoice", Method: "invoice", PolicyID: o.PolicyID}
}

// armRouteFault arms a fault for one route only (docs/sandbox.md, "Faults").
func armRouteFault(t *testing.T, key, route, fault string, times int) {
	t.Helper()
	url := os.Getenv("KASKO_SANDBOX_URL") + "/__sandbox/faults"
	body := fmt.Sprintf(`{"key":%q,"route":%q,"fault":%s,"times":%d}`, key, route, fault, times)
	response, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusCreated {
		t.Fatalf("arming %s on %s: %s %s", fault, route, response.Status, answer)
	}
}

// paymentsOn is how many payments the sandbox ever created on the policy.
func paymentsOn(t *testing.T, policyID string) int {
	t.Helper()
	response, err := http.Get(os.Getenv("KASKO_SANDBOX_URL") + "/__sandbox/policies/" + policyID + "/payments")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var counter struct {
		PolicyID string   `json:"policy_id"`
		Payments []string `json:"payments"`
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("the payment counter: %s", response.Status)
	}
	if err := json.NewDecoder(response.Body).Decode(&counter); err != nil || counter.PolicyID != policyID {
		t.Fatalf("the payment counter: %v %+v", err, counter)
	}
	return len(counter.Payments)
}

// policyWithStatus views the policy until its status is status, for at most 10 s.
func policyWithStatus(t *testing.T, client *kasko.Client, policyID, status string) *kasko.Policy {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		policy, err := client.GetPolicy(policyID)
		if err != nil {
			t.Fatalf("GetPolicy: %v", err)
		}
		if policy.Status == status {
			return policy
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s within 10 s: %s", status, policy.JSON)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCheckoutQuoteOfferAndViews(t *testing.T) {
	client := newClient(t)
	quote, err := client.CreateQuote(travelQuote)
	if err != nil {
		t.Fatalf("CreateQuote: %v", err)
	}
	if quote.GrossPaymentAmount != 4000 || quote.HTTPStatus != 200 || quote.MemberType("extra_data") != kasko.JSONObject {
		t.Fatalf("the quote: %s", quote.JSON)
	}
	again, err := client.CreateQuote(travelQuote)
	if err != nil || again.Token != quote.Token {
		t.Fatalf("the same quote, the same token: %v", err)
	}

	o, err := client.CreateOffer(offerRequest(quote.Token), kasko.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("CreateOffer: %v", err)
	}
	if o.HTTPStatus != 201 || o.ETag() != "" {
		t.Fatalf("a created offer: HTTP %d", o.HTTPStatus)
	}
	for _, printed := range []string{fmt.Sprint(o), fmt.Sprintf("%v %+v %#v %s %q", o, o, o, o, o), fmt.Sprint(*o)} {
		if strings.Contains(printed, o.PaymentToken) || !strings.Contains(printed, "[redacted]") {
			t.Fatalf("printing an offer shows its token")
		}
	}

	viewed, err := client.GetOffer(o.PolicyID)
	if err != nil {
		t.Fatalf("GetOffer: %v", err)
	}
	if viewed.PolicyID != o.PolicyID || viewed.Status != "ready" || viewed.PaymentToken != o.PaymentToken {
		t.Fatalf("the viewed offer: %v", viewed)
	}

	policy, err := client.GetPolicy(o.PolicyID, kasko.WithTraceparent(validTraceparent))
	if err != nil {
		t.Fatalf("GetPolicy: %v", err)
	}
	if policy.PolicyID != o.PolicyID || policy.Status != "pending" || policy.Paid() {
		t.Fatalf("the policy: %s", policy.JSON)
	}
	if !strings.HasPrefix(policy.ETag(), "tpv_") || policy.ETag() != policy.VersionID {
		t.Fatalf("ETag %q, version_id %q", policy.ETag(), policy.VersionID)
	}
	if !strings.HasSuffix(policy.LastModified(), "GMT") {
		t.Fatalf("Last-Modified %q", policy.LastModified())
	}
}

func TestCheckoutDocumentedErrors(t *testing.T) {
	client := newClient(t)
	// 400, with the server's errors array.
	_, err := client.CreateQuote(`{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single",` +
		`"integration_id":"in_sandbox_travel","data":{"trip_cost":0}}`)
	kerr := kaskoError(t, err, kasko.StatusBadRequest)
	var object struct {
		Errors []struct{ Code, Field string } `json:"errors"`
	}
	if err := json.Unmarshal([]byte(kerr.JSON), &object); err != nil || kerr.HTTPStatus != 400 {
		t.Fatalf("the error object: %v %s", err, kerr.JSON)
	}
	want := map[string]string{"trip_cost": "invalid_value", "policy_start_date": "required"}
	for _, e := range object.Errors {
		if want[e.Field] == e.Code {
			delete(want, e.Field)
		}
	}
	if len(want) != 0 {
		t.Fatalf("missing %v in %s", want, kerr.JSON)
	}
	_, err = client.CreateOffer(offerRequest("qtok_0000000000000000000000000000000000000000"))
	kerr = kaskoError(t, err, kasko.StatusBadRequest)
	if kerr.Outcome != kasko.OutcomeRejected || !strings.Contains(kerr.JSON, `"quote_token"`) {
		t.Fatalf("unknown quote token: %s", kerr.JSON)
	}
	// 404.
	_, err = client.GetOffer(unknownPolicy)
	if kerr = kaskoError(t, err, kasko.StatusNotFound); kerr.HTTPStatus != 404 {
		t.Fatalf("unknown offer: %s", kerr.JSON)
	}
	_, err = client.GetPolicy(unknownPolicy)
	if kerr = kaskoError(t, err, kasko.StatusNotFound); kerr.HTTPStatus != 404 {
		t.Fatalf("unknown policy: %s", kerr.JSON)
	}
	// 401: views need the secret key; quotes and offers do not.
	publicOnly := publicOnlyClient(t)
	o := checkoutOffer(t, publicOnly)
	_, err = publicOnly.GetOffer(o.PolicyID)
	kaskoError(t, err, kasko.StatusUnauthorized)
	_, err = publicOnly.GetPolicy(o.PolicyID)
	kaskoError(t, err, kasko.StatusUnauthorized)
	// Refused before any I/O.
	_, err = client.CreateQuote("not json")
	refusedBeforeIO(t, err, "quote not JSON")
	_, err = client.CreateOffer(`{"quote_token":"qtok_1"}`)
	refusedBeforeIO(t, err, "offer missing members")
	_, err = client.GetOffer("tpol_1/../x")
	refusedBeforeIO(t, err, "bad offer id")
	_, err = client.GetPolicy("")
	refusedBeforeIO(t, err, "empty policy id")
	_, err = client.GetPolicy("tpol_1\x00x")
	refusedBeforeIO(t, err, "NUL in policy id")
	_, err = client.ResolvePayment(kasko.PaymentRequest{Token: "", Provider: "invoice", Method: "invoice", PolicyID: o.PolicyID})
	refusedBeforeIO(t, err, "resolve with an empty token")
	_, err = client.GetPolicy(o.PolicyID, kasko.WithTraceparent("bogus"))
	refusedBeforeIO(t, err, "bad options")
}

func TestCheckoutInvoicePaymentMakesThePolicyPaidWithANewETag(t *testing.T) {
	client := newClient(t)
	o := checkoutOffer(t, client)
	before, err := client.GetPolicy(o.PolicyID)
	if err != nil || before.Status != "pending" || before.ETag() == "" {
		t.Fatalf("before: %v", err)
	}
	if _, err := client.CreatePayment(paymentRequest(o)); err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	after := policyWithStatus(t, client, o.PolicyID, "paid")
	if !after.Paid() || after.ETag() == before.ETag() || after.ETag() != after.VersionID || after.LastModified() == "" {
		t.Fatalf("ETag %q then %q: %s", before.ETag(), after.ETag(), after.JSON)
	}
	if after.MemberType("policy_created_date") != kasko.JSONString {
		t.Fatalf("no policy_created_date: %s", after.JSON)
	}
	viewed, err := client.GetOffer(o.PolicyID)
	if err != nil || viewed.Status != "accepted" {
		t.Fatalf("the offer after payment: %v %v", err, viewed)
	}
}

func TestCheckoutResolveAfterADroppedCreateIsPaidWithOnePayment(t *testing.T) {
	client := newClient(t)
	o := checkoutOffer(t, client)
	armRouteFault(t, o.PolicyID, "payment_create", `{"drop":"after_body"}`, 1)
	_, err := client.CreatePayment(paymentRequest(o))
	if kerr := kaskoError(t, err, kasko.StatusNetwork); kerr.Outcome != kasko.OutcomeUnknown {
		t.Fatalf("the dropped create: outcome %v", kerr.Outcome)
	}
	resolved, err := client.ResolvePayment(paymentRequest(o))
	if err != nil {
		t.Fatalf("ResolvePayment: %v", err)
	}
	if resolved.State != kasko.PaymentPaid || resolved.CreatedByThisCall || resolved.PolicyID != o.PolicyID || resolved.Message == "" {
		t.Fatalf("the resolution: %s", resolved.JSON)
	}
	if resolved.Evidence != "policy_paid" && resolved.Evidence != "already_paid" {
		t.Fatalf("evidence: %s", resolved.JSON)
	}
	if strings.Contains(resolved.JSON, o.PaymentToken) {
		t.Fatal("a token in the resolution")
	}
	if n := paymentsOn(t, o.PolicyID); n != 1 {
		t.Fatalf("%d payments, want exactly 1", n)
	}
	// Resolving again never pays again.
	again, err := client.ResolvePayment(paymentRequest(o))
	if err != nil || again.State != kasko.PaymentPaid {
		t.Fatalf("again: %v", err)
	}
	if n := paymentsOn(t, o.PolicyID); n != 1 {
		t.Fatalf("%d payments after a second resolve, want 1", n)
	}
}

func TestCheckoutResolveWithNothingPaidPaysAndAWrongTokenIsNotPaid(t *testing.T) {
	client := newClient(t)
	o := checkoutOffer(t, client)
	made, err := client.ResolvePayment(paymentRequest(o), kasko.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("ResolvePayment: %v", err)
	}
	if made.State != kasko.PaymentPaid || !made.CreatedByThisCall || made.Evidence != "created" || made.PaymentID == "" {
		t.Fatalf("the resolution: %s", made.JSON)
	}
	payment, err := client.GetPayment(made.PaymentID)
	if err != nil || idOf(t, payment) != made.PaymentID {
		t.Fatalf("the payment made: %v", err)
	}
	if n := paymentsOn(t, o.PolicyID); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}

	other := checkoutOffer(t, client)
	wrong := paymentRequest(other)
	wrong.Token = o.PaymentToken // another offer's token
	refused, err := client.ResolvePayment(wrong)
	if err != nil {
		t.Fatalf("ResolvePayment: %v", err)
	}
	if refused.State != kasko.PaymentNotPaid || refused.CreatedByThisCall || refused.Evidence != "create_refused" || refused.PaymentID != "" {
		t.Fatalf("the refusal: %s", refused.JSON)
	}
	if strings.Contains(refused.JSON, o.PaymentToken) {
		t.Fatal("a token in the resolution")
	}
	if n := paymentsOn(t, other.PolicyID); n != 0 {
		t.Fatalf("%d payments on the other policy, want 0", n)
	}
}

// The documented statuses the tests above leave out (docs/sandbox.md,
// Tests/C/test_checkout.c), each with the binding's status and outcome.

// strangerClient has a public key the sandbox does not know, and no secret key.
func strangerClient(t *testing.T) *kasko.Client {
	t.Helper()
	text, err := json.Marshal(map[string]interface{}{
		"public_key":  "pk_test_" + strings.Repeat("0", 32),
		"base_url":    env(t, "KASKO_SANDBOX_URL", ""),
		"max_retries": 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := kasko.NewClient(string(text))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func quoteOf(integration, plan string) string {
	return fmt.Sprintf(`{"integration_id":%q,"item_id":"ins_sandbox_travel","subscription_plan_id":%q,`+
		`"data":{"trip_cost":100000,"policy_start_date":"2027-01-15"}}`, integration, plan)
}

// rejected requires err to be status with HTTP httpStatus and outcome rejected.
func rejected(t *testing.T, err error, status kasko.Status, httpStatus int, what string) *kasko.Error {
	t.Helper()
	kerr := kaskoError(t, err, status)
	if kerr.HTTPStatus != httpStatus || kerr.Outcome != kasko.OutcomeRejected {
		t.Fatalf("%s: HTTP %d outcome %v: %s", what, kerr.HTTPStatus, kerr.Outcome, kerr.JSON)
	}
	return kerr
}

func TestCheckoutQuoteStatuses(t *testing.T) {
	client := newClient(t)
	_, err := strangerClient(t).CreateQuote(travelQuote)
	rejected(t, err, kasko.StatusUnauthorized, 401, "another public key")
	_, err = client.CreateQuote(quoteOf("in_nope", "pp_sandbox_single"))
	if kerr := rejected(t, err, kasko.StatusNotFound, 404, "unknown integration"); !strings.Contains(kerr.JSON, "in_nope") {
		t.Fatalf("the message names the integration: %s", kerr.JSON)
	}
	_, err = client.CreateQuote(quoteOf("in_sandbox_travel", "pp_nope"))
	if kerr := rejected(t, err, kasko.StatusNotFound, 404, "unknown plan"); !strings.Contains(kerr.JSON, "pp_nope") {
		t.Fatalf("the message names the plan: %s", kerr.JSON)
	}
	_, err = client.CreateQuote(quoteOf("in_sandbox_building", "pp_sandbox_single"))
	rejected(t, err, kasko.StatusServer, 409, "pricing being built")
	_, err = client.CreateQuote("[]")
	refusedBeforeIO(t, err, "quote not an object")
	_, err = client.CreateQuote(`{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","data":{}}`)
	refusedBeforeIO(t, err, "quote without integration_id")
}

func TestCheckoutOfferStatuses(t *testing.T) {
	client := newClient(t)
	o := checkoutOffer(t, client)
	if len(o.PolicyID) != len("tpol_")+28 {
		t.Fatalf("tpol_ and 28 characters: %q", o.PolicyID)
	}
	quote, err := client.CreateQuote(travelQuote)
	if err != nil {
		t.Fatalf("CreateQuote: %v", err)
	}
	_, err = client.CreateOffer(fmt.Sprintf(`{"quote_token":%q,"first_name":"Ada","last_name":"Lovelace",`+
		`"email":"no-at-sign","language":"de"}`, quote.Token))
	kerr := rejected(t, err, kasko.StatusBadRequest, 400, "bad e-mail")
	if !strings.Contains(kerr.JSON, `"email"`) {
		t.Fatalf("the errors name email: %s", kerr.JSON)
	}
	_, err = strangerClient(t).CreateOffer(offerRequest(quote.Token))
	rejected(t, err, kasko.StatusUnauthorized, 401, "another public key")
	_, err = client.CreateOffer(fmt.Sprintf(`{"quote_token":%q,"first_name":"Ada","last_name":"Lovelace","language":"de"}`,
		quote.Token))
	refusedBeforeIO(t, err, "offer without email")
}

func TestCheckoutManualUnderwritingNeedsApproval(t *testing.T) {
	client := newClient(t)
	quote, err := client.CreateQuote(travelQuote)
	if err != nil {
		t.Fatalf("CreateQuote: %v", err)
	}
	request := strings.TrimSuffix(offerRequest(quote.Token), "}") + `,"data":{"manual_underwriting":true}}`
	o, err := client.CreateOffer(request)
	if err != nil {
		t.Fatalf("CreateOffer: %v", err)
	}
	if o.HTTPStatus != 201 || !strings.HasPrefix(o.PolicyID, "tpol_") || o.PaymentToken != "" ||
		o.MemberType("payment_token") != kasko.JSONNone {
		t.Fatalf("a manual offer without a token: %v", o)
	}
	pending, err := client.GetOffer(o.PolicyID)
	if err != nil || pending.PolicyID != o.PolicyID || pending.Status != "pending" || pending.PaymentToken != "" {
		t.Fatalf("the manual offer pending: %v %v", err, pending)
	}
	response, err := http.Post(os.Getenv("KASKO_SANDBOX_URL")+"/__sandbox/offers/"+o.PolicyID+"/approve",
		"application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, response.Body) // holds the token: not printed
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("approve: %s", response.Status)
	}
	ready, err := client.GetOffer(o.PolicyID)
	if err != nil || ready.Status != "ready" || !strings.HasPrefix(ready.PaymentToken, "ptok_") {
		t.Fatalf("the approved offer ready with a token: %v %v", err, ready)
	}
}

func TestCheckoutViewsRefuseABadID(t *testing.T) {
	client := newClient(t)
	_, err := client.GetOffer("tpol_a/b")
	refusedBeforeIO(t, err, "offer tpol_a/b")
	_, err = client.GetPolicy("tpol_a/b")
	refusedBeforeIO(t, err, "policy tpol_a/b")
}

func TestCheckoutResolveAfterADroppedDeferredCreateIsPending(t *testing.T) {
	client := newClient(t)
	o := checkoutOffer(t, client)
	request := kasko.PaymentRequest{Token: o.PaymentToken, Provider: "deferred", Method: "deferred", PolicyID: o.PolicyID}
	armRouteFault(t, o.PolicyID, "payment_create", `{"drop":"after_body"}`, 1)
	_, err := client.CreatePayment(request)
	if kerr := kaskoError(t, err, kasko.StatusNetwork); kerr.Outcome != kasko.OutcomeUnknown {
		t.Fatalf("the dropped create: outcome %v", kerr.Outcome)
	}
	resolved, err := client.ResolvePayment(request)
	if err != nil {
		t.Fatalf("ResolvePayment: %v", err)
	}
	if resolved.State != kasko.PaymentPending || resolved.CreatedByThisCall || resolved.PaymentID == "" ||
		resolved.PolicyID != o.PolicyID {
		t.Fatalf("the resolution: %s", resolved.JSON)
	}
	if strings.Contains(resolved.JSON, o.PaymentToken) {
		t.Fatal("a token in the resolution")
	}
	if n := paymentsOn(t, o.PolicyID); n != 1 {
		t.Fatalf("%d payments, want exactly 1", n)
	}
	payment, err := client.GetPayment(resolved.PaymentID)
	if err != nil || idOf(t, payment) != resolved.PaymentID {
		t.Fatalf("the pending payment is the one counted: %v", err)
	}
}
