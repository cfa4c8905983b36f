package kasko_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	kasko "example.org/libkasko/bindings/go"
)

func Example() {
	retries := 1
	client, err := kasko.NewClientWithConfig(kasko.Config{
		PublicKey:  "pk_test_...",
		SecretKey:  "sk_test_...",
		Timeout:    30 * time.Second,
		MaxRetries: &retries,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	payment, err := client.CreatePayment(
		kasko.PaymentRequest{Token: "...", Provider: "invoice", Method: "invoice", PolicyID: "tpol_..."},
		kasko.WithTimeout(10*time.Second),
		kasko.WithTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	var kerr *kasko.Error
	switch {
	case errors.As(err, &kerr) && kerr.Status == kasko.StatusPendingPayment:
		fmt.Println("already pending:", kerr.PendingPaymentID)
	case errors.As(err, &kerr) && kerr.Outcome == kasko.OutcomeUnknown:
		fmt.Println("may have been created: look before creating again;", kerr.Message)
	case err != nil:
		log.Fatal(err)
	default:
		id, _ := payment.MemberString("id")
		fmt.Println(id, payment.HTTPStatus, payment) // payment prints as the JSON the API sent
	}
}

func ExampleClient_SetEventHook() {
	client, err := kasko.NewClientWithConfig(kasko.Config{PublicKey: "pk_test_...", SecretKey: "sk_test_..."})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	// Called on the client's engine thread, before each call returns (and on
	// the calling goroutines for blocking calls): log is safe for that.
	err = client.SetEventHook(func(e kasko.Event) {
		if e.Kind == kasko.EventAttempt {
			log.Printf("%s %s attempt %d: HTTP %d %v in %v (retry: %v)",
				e.Method, e.Route, e.Attempt, e.HTTPStatus, e.Status, e.Total, e.Retry)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	payment, err := client.GetPayment("t84223322f013e2287210b6295010fc6d")
	if err == nil {
		fmt.Println(payment.RequestID, payment.TotalTime())
	}
}

func ExampleClient_GetPaymentContext() {
	client, err := kasko.NewClientWithConfig(kasko.Config{PublicKey: "pk_test_...", SecretKey: "sk_test_..."})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	// The goroutine waits on a channel, holding no OS thread, until the
	// answer comes or the deadline passes (then the call is cancelled).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	payment, err := client.GetPaymentContext(ctx, "t84223322f013e2287210b6295010fc6d")
	var kerr *kasko.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) && errors.As(err, &kerr):
		fmt.Println("gave up:", kerr.Status, kerr.Outcome) // KASKO_ERR_CANCELLED, and whether it was sent
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(payment.HTTPStatus, payment.RequestID)
	}
}
