// Tests of the calls over the asynchronous C API (libkasko 1.4): no OS
// thread held per call in flight, context cancellation and deadlines, and
// Close with calls in flight, against a running kasko-sandbox started with
// --faults (scripts/check-bindings go starts one), whose delay_ms faults
// hold calls in flight. No test prints a key or a payment token.
package kasko_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	kasko "example.org/libkasko/bindings/go"
)

// sandboxDo makes one request to the sandbox's own endpoints and returns
// the answer's body, failing the test on another status than want.
func sandboxDo(t testing.TB, method, path, body string, want int) []byte {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, os.Getenv("KASKO_SANDBOX_URL")+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	if response.StatusCode != want {
		t.Fatalf("%s %s: %s %s (is the sandbox running with --faults?)", method, path, response.Status, answer)
	}
	return answer
}

// holdCalls arms a delay of ms on every request whose fault key is key,
// until the test ends, and forgets the key's attempts.
func holdCalls(t testing.TB, key string, ms int) {
	t.Helper()
	sandboxDo(t, http.MethodDelete, "/__sandbox/attempts/"+key, "", http.StatusOK)
	sandboxDo(t, http.MethodPost, "/__sandbox/faults",
		fmt.Sprintf(`{"key":%q,"fault":{"delay_ms":%d}}`, key, ms), http.StatusCreated)
	t.Cleanup(func() { sandboxDo(t, http.MethodDelete, "/__sandbox/faults/"+key, "", http.StatusOK) })
}

// attempts is how many requests with this fault key the sandbox has seen.
func attempts(t testing.TB, key string) int {
	t.Helper()
	var counter struct{ Attempts int }
	if err := json.Unmarshal(sandboxDo(t, http.MethodGet, "/__sandbox/attempts/"+key, "", http.StatusOK), &counter); err != nil {
		t.Fatal(err)
	}
	return counter.Attempts
}

// seen waits until the sandbox has seen n requests with this key (then
// they are held by its delay), for at most 10 s.
func seen(t testing.TB, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for attempts(t, key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox saw %d requests for the key, want %d", attempts(t, key), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// osThreads is the process's number of OS threads (Threads: in
// /proc/self/status), C threads included.
func osThreads(t testing.TB) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if line := scanner.Text(); strings.HasPrefix(line, "Threads:") {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads: in /proc/self/status")
	return 0
}

// cancelled requires err to be a call ended StatusCancelled with the given
// outcome, wrapping cause (nil: wrapping no context error).
func cancelled(t testing.TB, err error, outcome kasko.Outcome, cause error) *kasko.Error {
	t.Helper()
	kerr := kaskoError(t, err, kasko.StatusCancelled)
	if kerr.Outcome != outcome || kerr.HTTPStatus != 0 || kerr.Message == "" || kerr.Retryable {
		t.Errorf("want %v, no HTTP status: %+v", outcome, kerr)
	}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if is := errors.Is(err, c); is != (c == cause) {
			t.Errorf("errors.Is(err, %v) = %v: %v", c, is, err)
		}
	}
	if cause != nil && !strings.Contains(err.Error(), cause.Error()) {
		t.Errorf("the message does not say why: %v", err)
	}
	if field(t, kerr.JSON, "code") != "KASKO_ERR_CANCELLED" {
		t.Errorf("the library's error object: %s", kerr.JSON)
	}
	return kerr
}

// A thousand goroutines each waiting for an answer hold a thousand parked
// goroutines, not a thousand OS threads blocked in C: the point.
func TestAsyncThousandCallsInFlightHoldFewThreads(t *testing.T) {
	const calls, delay, threadLimit = 1000, 300 * time.Millisecond, 50
	// Over plain http:// each call in flight holds a socket (Go raised the
	// soft limit to the hard one at start).
	var files syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &files); err == nil && files.Cur < calls+100 {
		t.Skipf("RLIMIT_NOFILE is %d: %d calls in flight need more descriptors", files.Cur, calls)
	}
	client := newClient(t)
	id := newPayment(t, client)
	holdCalls(t, id, int(delay/time.Millisecond))
	before := osThreads(t)

	var most atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // samples the thread count while the calls are in flight
		defer close(sampled)
		for {
			if n := int64(osThreads(t)); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstFailure atomic.Value
	start := time.Now()
	for g := 0; g < calls; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			viewed, err := client.GetPayment(id)
			if err != nil || viewed.HTTPStatus != 200 {
				if failures.Add(1) == 1 {
					firstFailure.Store(fmt.Sprint(err))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed; the first: %v", failures.Load(), calls, firstFailure.Load())
	}
	if n := attempts(t, id); n != calls {
		t.Fatalf("the sandbox saw %d views, want %d", n, calls)
	}
	// With T threads each blocked in a call, 1000 calls of 300 ms would
	// take at least 1000 * 300 ms / T: the calls were in flight together.
	inFlight := float64(calls) * delay.Seconds() / elapsed.Seconds()
	t.Logf("%d calls held %v each: %v in all (%.0f in flight on average); OS threads %d before, at most %d during",
		calls, delay, elapsed.Round(time.Millisecond), inFlight, before, most.Load())
	if most.Load() >= threadLimit {
		t.Errorf("%d OS threads with %d calls in flight, want fewer than %d", most.Load(), calls, threadLimit)
	}
	if inFlight <= float64(most.Load()) {
		t.Errorf("%.0f calls in flight on average, no more than the %d threads: were they in flight together?",
			inFlight, most.Load())
	}
}

// A call the sandbox has received and holds (delay_ms 5000): cancelling its
// context ends it at once, CANCELLED, outcome unknown (the request was sent).
func TestAsyncContextCancelledWhileTheSandboxHoldsTheCall(t *testing.T) {
	client := newClient(t)
	id := newPayment(t, client)
	holdCalls(t, id, 5000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type answer struct {
		payment *kasko.Payment
		err     error
		at      time.Time
	}
	done := make(chan answer, 1)
	go func() {
		p, err := client.GetPaymentContext(ctx, id)
		done <- answer{p, err, time.Now()}
	}()
	seen(t, id, 1)
	cancelledAt := time.Now()
	cancel()
	var a answer
	select {
	case a = <-done:
	case <-time.After(4 * time.Second):
		t.Fatal("the cancelled call did not return before the sandbox's delay ran out")
	}
	if took := a.at.Sub(cancelledAt); took > time.Second {
		t.Errorf("returned %v after the cancellation", took)
	}
	if a.payment != nil {
		t.Fatalf("a payment from a cancelled call: %v", a.payment.HTTPStatus)
	}
	kerr := cancelled(t, a.err, kasko.OutcomeUnknown, context.Canceled)
	if kerr.Attempts != 1 {
		t.Errorf("attempts %d, want 1", kerr.Attempts)
	}
	var asError *kasko.Error
	if !errors.As(fmt.Errorf("viewing: %w", a.err), &asError) || asError != kerr {
		t.Error("errors.As through a wrap")
	}
	// The client goes on.
	sandboxDo(t, http.MethodDelete, "/__sandbox/faults/"+id, "", http.StatusOK)
	if viewed, err := client.GetPaymentContext(context.Background(), id); err != nil || idOf(t, viewed) != id {
		t.Fatalf("a call after the cancelled one: %v", err)
	}
}

func TestAsyncContextDeadline(t *testing.T) {
	client := newClient(t)
	id := newPayment(t, client)
	holdCalls(t, id, 5000)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.GetPaymentContext(ctx, id)
	if took := time.Since(start); took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("returned after %v, want about 300 ms", took)
	}
	kerr := kaskoError(t, err, kasko.StatusCancelled)
	// Sent in all likelihood, but not before the deadline on a busy machine.
	cancelled(t, err, kerr.Outcome, context.DeadlineExceeded)
	if kerr.Outcome != kasko.OutcomeUnknown && kerr.Outcome != kasko.OutcomeNotSent {
		t.Errorf("outcome %v", kerr.Outcome)
	}
}

// A context done before the call: nothing is made, nothing sent, by every
// call taking a context.
func TestAsyncContextDoneBeforeTheCallMakesNone(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	id := newPayment(t, client)
	sandboxDo(t, http.MethodDelete, "/__sandbox/attempts/"+id, "", http.StatusOK)
	sandboxDo(t, http.MethodDelete, "/__sandbox/attempts/"+o.PolicyID, "", http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"CreatePaymentContext": func() error { _, err := client.CreatePaymentContext(ctx, request(o, "invoice")); return err },
		"GetPaymentContext":    func() error { _, err := client.GetPaymentContext(ctx, id); return err },
		"CreateQuoteContext":   func() error { _, err := client.CreateQuoteContext(ctx, travelQuote); return err },
		"CreateOfferContext":   func() error { _, err := client.CreateOfferContext(ctx, offerRequest("qtok_x")); return err },
		"GetOfferContext":      func() error { _, err := client.GetOfferContext(ctx, o.PolicyID); return err },
		"GetPolicyContext":     func() error { _, err := client.GetPolicyContext(ctx, o.PolicyID); return err },
	}
	for name, call := range calls {
		kerr := cancelled(t, call(), kasko.OutcomeNotSent, context.Canceled)
		if kerr.Attempts != 0 {
			t.Errorf("%s: %d attempts", name, kerr.Attempts)
		}
	}
	if n, m := attempts(t, id), attempts(t, o.PolicyID); n != 0 || m != 0 {
		t.Errorf("the sandbox saw %d and %d requests", n, m)
	}
}

// Each Context call goes through the asynchronous C call and its callback,
// with the blocking call's results.
func TestAsyncContextCallsOfTheCheckout(t *testing.T) {
	client := newClient(t)
	ctx := context.Background()
	quote, err := client.CreateQuoteContext(ctx, travelQuote)
	if err != nil || !strings.HasPrefix(quote.Token, "qtok_") || quote.GrossPaymentAmount <= 0 {
		t.Fatalf("CreateQuoteContext: %v", err)
	}
	o, err := client.CreateOfferContext(ctx, offerRequest(quote.Token))
	if err != nil || !strings.HasPrefix(o.PolicyID, "tpol_") || !strings.HasPrefix(o.PaymentToken, "ptok_") {
		t.Fatalf("CreateOfferContext: %v %v", err, o)
	}
	viewed, err := client.GetOfferContext(ctx, o.PolicyID)
	if err != nil || viewed.PolicyID != o.PolicyID || viewed.Status == "" {
		t.Fatalf("GetOfferContext: %v %v", err, viewed)
	}
	payment, err := client.CreatePaymentContext(ctx, paymentRequest(o))
	if err != nil || payment.HTTPStatus/100 != 2 {
		t.Fatalf("CreatePaymentContext: %v", err)
	}
	policy, err := client.GetPolicyContext(ctx, o.PolicyID)
	if err != nil || policy.PolicyID != o.PolicyID || policy.ETag() == "" || policy.LastModified() == "" {
		t.Fatalf("GetPolicyContext: %v", err)
	}
	_, err = client.GetPolicyContext(ctx, unknownPolicy)
	if kerr := kaskoError(t, err, kasko.StatusNotFound); kerr.Outcome != kasko.OutcomeRejected || errors.Unwrap(err) != nil {
		t.Fatalf("an unknown policy: %+v", kerr)
	}
	_, err = client.GetPolicyContext(ctx, "tpol_a/b")
	refusedBeforeIO(t, err, "policy tpol_a/b")
}

// A create cancelled after the sandbox received it is outcome unknown, and
// it is: the sandbox carries it out after its delay. ResolvePayment then
// finds it paid, and there is one payment.
func TestAsyncCancelledCreateMayHaveBeenMadeAndResolveFindsIt(t *testing.T) {
	client := newClient(t)
	o := newOffer(t)
	r := request(o, "invoice")
	sandboxDo(t, http.MethodDelete, "/__sandbox/attempts/"+o.PolicyID, "", http.StatusOK)
	armRouteFault(t, o.PolicyID, "payment_create", `{"delay_ms":1000}`, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := client.CreatePaymentContext(ctx, r)
		done <- err
	}()
	seen(t, o.PolicyID, 1)
	cancel()
	cancelled(t, <-done, kasko.OutcomeUnknown, context.Canceled)
	time.Sleep(time.Until(start.Add(1500 * time.Millisecond))) // the sandbox carries it out meanwhile
	resolved, err := client.ResolvePayment(r)
	if err != nil {
		t.Fatalf("ResolvePayment: %v", err)
	}
	if resolved.State != kasko.PaymentPaid || resolved.CreatedByThisCall {
		t.Fatalf("the resolution: %v %v %s", resolved.State, resolved.CreatedByThisCall, resolved.Evidence)
	}
	if n := paymentsOn(t, o.PolicyID); n != 1 {
		t.Fatalf("%d payments, want exactly 1", n)
	}
}

// Close with calls in flight ends them at once, CANCELLED (outcome unknown:
// sent), wrapping no context error; later calls are refused.
func TestAsyncCloseEndsTheCallsInFlight(t *testing.T) {
	const inFlight = 5
	client, err := kasko.NewClientWithConfig(sandboxConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	id := newPayment(t, client)
	holdCalls(t, id, 5000)
	errs := make(chan error, inFlight)
	for g := 0; g < inFlight; g++ {
		go func() {
			_, err := client.GetPayment(id)
			errs <- err
		}()
	}
	seen(t, id, inFlight)
	start := time.Now()
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v: it waited for the sandbox", took)
	}
	for g := 0; g < inFlight; g++ {
		select {
		case err := <-errs:
			if kerr := cancelled(t, err, kasko.OutcomeUnknown, nil); kerr.Attempts != 1 {
				t.Errorf("attempts %d", kerr.Attempts)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a call in flight did not return after Close")
		}
	}
	_, err = client.GetPayment(id)
	refusedBeforeIO(t, err, "after Close")
}

// A cancellation does not wait for a Close that waits for a blocking call
// (ResolvePayment, held by the sandbox): the call ends at once, and Close
// once the blocking call has.
func TestAsyncCancelWhileCloseWaitsForABlockingCall(t *testing.T) {
	client, err := kasko.NewClientWithConfig(sandboxConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	id := newPayment(t, client)
	holdCalls(t, id, 5000)
	o := newOffer(t)
	armRouteFault(t, o.PolicyID, "policy_view", `{"delay_ms":1500}`, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	viewed := make(chan error, 1)
	go func() {
		_, err := client.GetPaymentContext(ctx, id)
		viewed <- err
	}()
	seen(t, id, 1)
	resolved := make(chan error, 1)
	go func() {
		_, err := client.ResolvePayment(request(o, "invoice"))
		resolved <- err
	}()
	seen(t, o.PolicyID, 1) // the resolution's view, held
	closed := make(chan struct{})
	go func() {
		client.Close() // waits for ResolvePayment
		close(closed)
	}()
	time.Sleep(100 * time.Millisecond) // Close is waiting by now
	cancelledAt := time.Now()
	cancel()
	select {
	case err := <-viewed:
		cancelled(t, err, kasko.OutcomeUnknown, context.Canceled)
		if took := time.Since(cancelledAt); took > time.Second {
			t.Errorf("returned %v after the cancellation", took)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the cancellation waited for Close")
	}
	select {
	case <-closed:
		t.Error("Close did not wait for the blocking ResolvePayment")
	default:
	}
	if err := <-resolved; err != nil {
		t.Errorf("ResolvePayment: %v", err)
	}
	<-closed
}

// A goroutine waiting for its call keeps the client alive: the client's
// finalizer (Close) would cancel the call.
func TestAsyncCallKeepsItsClientFromTheFinalizer(t *testing.T) {
	id := newPayment(t, newClient(t))
	holdCalls(t, id, 500)
	done := make(chan error, 1)
	go func() {
		client, err := kasko.NewClientWithConfig(sandboxConfig(t))
		if err != nil {
			done <- err
			return
		}
		_, err = client.GetPayment(id) // no Close: only the call refers to the client
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the call of an otherwise unreachable client: %v", err)
			}
			return
		case <-time.After(10 * time.Millisecond):
			runtime.GC()
		}
	}
}

// Hooks of asynchronous calls run on the client's engine thread: a call
// made there is blocking (it would otherwise wait for its own thread), and
// Close of the hook's own client is refused rather than freeing it under
// the hook.
func TestAsyncHookOnTheEngineThread(t *testing.T) {
	client := newClient(t)
	id := newPayment(t, client)
	var nested, closeRefused atomic.Int64
	err := client.SetEventHook(func(e kasko.Event) {
		if e.Kind != kasko.EventCallEnd {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if p, err := client.GetPaymentContext(ctx, id); err == nil && p.HTTPStatus == 200 {
			nested.Add(1)
		}
		var kerr *kasko.Error
		if err := client.Close(); errors.As(err, &kerr) && kerr.Status == kasko.StatusInvalidArgument {
			closeRefused.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := client.GetPayment(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	if nested.Load() != 3 || closeRefused.Load() != 3 {
		t.Errorf("%d nested calls succeeded, %d Close refused; want 3 and 3", nested.Load(), closeRefused.Load())
	}
}
