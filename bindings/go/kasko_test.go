// Tests of the kasko package against a running kasko-sandbox
// (KASKO_SANDBOX_URL, as scripts/with-sandbox sets it).
package kasko_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"example.org/libkasko/kasko"
)

const unknownID = "t00000000000000000000000000000000"

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

func request(o offer, provider string) string {
	text, _ := json.Marshal(map[string]string{
		"token": o.Token, "provider": provider, "method": provider, "policy_id": o.PolicyID,
	})
	return string(text)
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

func TestVersionAndStatusNames(t *testing.T) {
	if !strings.HasPrefix(kasko.Version(), "1.") {
		t.Fatalf("major version 1, got %s", kasko.Version())
	}
	names := []string{"KASKO_OK", "KASKO_ERR_INVALID_ARGUMENT", "KASKO_ERR_BAD_REQUEST",
		"KASKO_ERR_UNAUTHORIZED", "KASKO_ERR_NOT_FOUND", "KASKO_ERR_PENDING_PAYMENT",
		"KASKO_ERR_RATE_LIMITED", "KASKO_ERR_SERVER", "KASKO_ERR_NETWORK",
		"KASKO_ERR_INVALID_RESPONSE", "KASKO_ERR_INTERNAL"}
	statuses := []kasko.Status{kasko.StatusOK, kasko.StatusInvalidArgument, kasko.StatusBadRequest,
		kasko.StatusUnauthorized, kasko.StatusNotFound, kasko.StatusPendingPayment,
		kasko.StatusRateLimited, kasko.StatusServer, kasko.StatusNetwork,
		kasko.StatusInvalidResponse, kasko.StatusInternal}
	for i, status := range statuses {
		if int(status) != i || status.String() != names[i] {
			t.Errorf("status %d: %d %s, want %s", i, int(status), status, names[i])
		}
	}
}

func TestCreateThenGet(t *testing.T) {
	client := newClient(t)
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if field(t, created, "object") != "payment" {
		t.Fatalf("not a payment: %s", created)
	}
	id := field(t, created, "id")
	viewed, err := client.GetPayment(id)
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	if field(t, viewed, "id") != id || field(t, viewed, "status") != "ok" {
		t.Fatalf("viewed %s", viewed)
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

func TestUnknownProviderIsNotFound(t *testing.T) {
	_, err := newClient(t).CreatePayment(request(newOffer(t), "no_such_provider"))
	if kerr := kaskoError(t, err, kasko.StatusNotFound); kerr.HTTPStatus != 404 {
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
	pending := field(t, created, "id")
	_, err = client.CreatePayment(request(o, "deferred"))
	kerr := kaskoError(t, err, kasko.StatusPendingPayment)
	if kerr.HTTPStatus != 422 || kerr.PendingPaymentID != pending {
		t.Fatalf("want 422 with %s, got %+v", pending, kerr)
	}
	if !strings.Contains(kerr.Message, pending) {
		t.Fatalf("the message names it: %s", kerr.Message)
	}
}

func TestBadPaymentIDIsRefusedBeforeIO(t *testing.T) {
	_, err := newClient(t).GetPayment("../x")
	kerr := kaskoError(t, err, kasko.StatusInvalidArgument)
	if kerr.HTTPStatus != 0 || !strings.Contains(kerr.JSON, `"outcome":"not_sent"`) {
		t.Fatalf("%+v", kerr)
	}
}

func TestRequestWithoutAFieldIsInvalid(t *testing.T) {
	o := newOffer(t)
	incomplete, _ := json.Marshal(map[string]string{"token": o.Token, "provider": "invoice", "policy_id": o.PolicyID})
	_, err := newClient(t).CreatePayment(string(incomplete))
	kerr := kaskoError(t, err, kasko.StatusInvalidArgument)
	if kerr.HTTPStatus != 0 || !strings.Contains(kerr.Message, "method") {
		t.Fatalf("the message names the field: %+v", kerr)
	}
}

func TestNULIsRefusedNotTruncated(t *testing.T) {
	_, err := newClient(t).GetPayment("t123\x00../x")
	if kerr := kaskoError(t, err, kasko.StatusInvalidArgument); !strings.Contains(kerr.Message, "NUL") {
		t.Fatalf("%+v", kerr)
	}
}

func TestBadConfigurationIsInvalid(t *testing.T) {
	client, err := kasko.NewClient(`{"public_key":"pk_test_x","typo":1}`)
	if client != nil {
		t.Fatal("a client from a bad configuration")
	}
	kerr := kaskoError(t, err, kasko.StatusInvalidArgument)
	if kerr.HTTPStatus != 0 || !strings.Contains(kerr.JSON, `"object":"error"`) {
		t.Fatalf("%+v", kerr)
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
	_, err = client.GetPayment(field(t, created, "id"))
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
				if err := json.Unmarshal([]byte(created), &payment); err != nil || payment.ID == "" {
					problems <- fmt.Errorf("no id in %s", created)
					return
				}
				viewed, err := client.GetPayment(payment.ID)
				if err != nil || !strings.Contains(viewed, payment.ID) {
					problems <- fmt.Errorf("GetPayment(%s): %v %s", payment.ID, err, viewed)
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

// Close waits for calls in progress and refuses later ones.
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
					(kerr.Status != kasko.StatusNotFound && kerr.Status != kasko.StatusInvalidArgument) {
					t.Errorf("want NOT_FOUND or, once closed, INVALID_ARGUMENT: %v", err)
				}
			}
		}()
	}
	client.Close()
	wg.Wait()
}
