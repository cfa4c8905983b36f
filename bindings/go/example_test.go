package kasko_test

import (
	"errors"
	"fmt"
	"log"

	"example.org/libkasko/kasko"
)

func Example() {
	client, err := kasko.NewClient(`{"public_key":"pk_test_...","secret_key":"sk_test_..."}`)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	payment, err := client.CreatePayment(
		`{"token":"...","provider":"invoice","method":"invoice","policy_id":"tpol_..."}`)
	var kerr *kasko.Error
	switch {
	case errors.As(err, &kerr) && kerr.Status == kasko.StatusPendingPayment:
		fmt.Println("already pending:", kerr.PendingPaymentID)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(payment) // the payment object, as the API sent it
	}
}
