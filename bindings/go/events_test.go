// Tests of the event hook (Client.SetEventHook, libkasko 1.2) and of
// TotalTime against a running kasko-sandbox started with --faults
// (scripts/check-bindings go starts one), whose armed faults force a retry.
package kasko_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kasko "example.org/libkasko/bindings/go"
)

// armFault arms a sandbox fault (docs/sandbox-faults.md) for the next
// `times` requests whose fault key is key (a view's payment id).
func armFault(t testing.TB, key, fault string, times int) {
	t.Helper()
	url := os.Getenv("KASKO_SANDBOX_URL") + "/__sandbox/faults"
	body := fmt.Sprintf(`{"key":%q,"fault":%s,"times":%d}`, key, fault, times)
	response, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	answer, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusCreated {
		t.Fatalf("arming %s on %s: %s %s (is the sandbox running with --faults?)", fault, key, response.Status, answer)
	}
}

func clientWithRetries(t testing.TB, retries int) *kasko.Client {
	t.Helper()
	c := sandboxConfig(t)
	c.MaxRetries = intPtr(retries)
	client, err := kasko.NewClientWithConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func newPayment(t testing.TB, client *kasko.Client) string {
	t.Helper()
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	return idOf(t, created)
}

// recorder is a hook that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []kasko.Event
}

func (r *recorder) hook(e kasko.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []kasko.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	events := r.events
	r.events = nil
	return events
}

// noKeys requires that no event names a key (in full, nor a real key's
// random part) or has a query in its path.
func noKeys(t *testing.T, events []kasko.Event) {
	t.Helper()
	for _, e := range events {
		for _, key := range []string{env(t, "KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox"), secret(t)} {
			if strings.Contains(e.JSON, key) || (len(key) >= 40 && strings.Contains(e.JSON, key[8:])) {
				t.Errorf("a key in an event: %s", e.JSON)
			}
		}
		if strings.ContainsAny(e.Path, "?") || strings.Contains(e.Path, "key=") {
			t.Errorf("a query in the path: %s", e.JSON)
		}
	}
}

func TestEventHookRetriedViewIsOneAttemptEventPerAttemptThenOneCallEnd(t *testing.T) {
	client := clientWithRetries(t, 2)
	id := newPayment(t, client)
	var r recorder
	if err := client.SetEventHook(r.hook); err != nil {
		t.Fatal(err)
	}
	armFault(t, id, `{"status":503}`, 1)
	viewed, err := client.GetPayment(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	events := r.take()
	if viewed.Attempts != 2 || len(events) != viewed.Attempts+1 {
		t.Fatalf("%d attempts, %d events: %+v", viewed.Attempts, len(events), events)
	}
	for i, e := range events[:2] {
		if e.Kind != kasko.EventAttempt || e.Attempt != i+1 || e.Operation != "payment_get" || e.Method != "GET" ||
			e.Route != "/payments/{id}" || !strings.HasSuffix(e.Path, "/payments/"+id) {
			t.Errorf("attempt %d: %+v", i+1, e)
		}
		if e.Total <= 0 || e.FirstByte <= 0 || e.BytesSent <= 0 || e.BytesReceived <= 0 || e.RequestID == "" {
			t.Errorf("attempt %d's numbers: %s", i+1, e.JSON)
		}
	}
	if e := events[0]; e.HTTPStatus != 503 || e.Status != kasko.StatusServer || !e.Retry || e.RetryDelay < 0 || e.Message == "" {
		t.Errorf("the failed attempt: %+v", e)
	}
	if e := events[1]; e.HTTPStatus != 200 || e.Status != kasko.StatusOK || e.Outcome != kasko.OutcomeSucceeded ||
		e.Retry || e.RetryDelay != 0 || e.Message != "" {
		t.Errorf("the second attempt: %+v", e)
	}
	end := events[2]
	if end.Kind != kasko.EventCallEnd || end.Attempt != 2 || end.Status != kasko.StatusOK || end.HTTPStatus != 200 ||
		end.DNS != 0 || end.RequestID != viewed.RequestID {
		t.Errorf("the call end: %+v", end)
	}
	if viewed.TotalTime() <= 0 || end.Total != viewed.TotalTime() || viewed.TotalTime() < events[0].Total+events[1].Total {
		t.Errorf("total time %v, call_end's %v, attempts' %v + %v", viewed.TotalTime(), end.Total, events[0].Total, events[1].Total)
	}
	noKeys(t, events)
}

func TestEventHookCreateEventsNameNoKeyAndTotalTime(t *testing.T) {
	client := clientWithRetries(t, 0)
	var r recorder
	if err := client.SetEventHook(r.hook); err != nil {
		t.Fatal(err)
	}
	created, err := client.CreatePayment(request(newOffer(t), "invoice"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetPayment(unknownID)
	kerr := kaskoError(t, err, kasko.StatusNotFound)
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	events := r.take()
	if len(events) != 4 {
		t.Fatalf("%d events: %+v", len(events), events)
	}
	if e := events[0]; e.Operation != "payment_create" || e.Method != "POST" || e.Route != "/payments" || e.Path != "/payments" {
		t.Errorf("the create's attempt: %+v", e)
	}
	if e := events[3]; e.Kind != kasko.EventCallEnd || e.Status != kasko.StatusNotFound ||
		e.Outcome != kasko.OutcomeRejected || e.Message != kerr.Message || e.Total != kerr.TotalTime() {
		t.Errorf("the view's end: %+v (error %+v, %v)", e, kerr, kerr.TotalTime())
	}
	noKeys(t, events)
	if created.TotalTime() <= 0 || kerr.TotalTime() <= 0 {
		t.Errorf("total times %v, %v", created.TotalTime(), kerr.TotalTime())
	}
	_, err = client.GetPayment("not a payment id")
	if refused := kaskoError(t, err, kasko.StatusInvalidArgument); refused.TotalTime() != 0 {
		t.Errorf("refused before any I/O, yet %v", refused.TotalTime())
	}
	if (&kasko.Payment{}).TotalTime() != 0 {
		t.Error("a zero Payment")
	}
}

func TestEventHookPanicDoesNotChangeTheCall(t *testing.T) {
	client := clientWithRetries(t, 0)
	id := newPayment(t, client)
	var called atomic.Int64
	err := client.SetEventHook(func(e kasko.Event) {
		called.Add(1)
		if e.Kind == kasko.EventAttempt {
			panic("a hook's own failure")
		}
		panic(errors.New("an error value"))
	})
	if err != nil {
		t.Fatal(err)
	}
	viewed, err := client.GetPayment(id)
	if err != nil || idOf(t, viewed) != id || viewed.Attempts != 1 {
		t.Fatalf("the call's own result: %v %v", viewed, err)
	}
	_, err = client.GetPayment(unknownID)
	kaskoError(t, err, kasko.StatusNotFound)
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	if called.Load() != 4 || client.EventHookPanics() != 4 {
		t.Errorf("%d events, %d panics counted", called.Load(), client.EventHookPanics())
	}
}

func TestEventHookCallsInsideAHookDeliverNoEvents(t *testing.T) {
	client := clientWithRetries(t, 0)
	other := clientWithRetries(t, 0)
	id := newPayment(t, client)
	var otherEvents recorder
	if err := other.SetEventHook(otherEvents.hook); err != nil {
		t.Fatal(err)
	}
	var called, nestedOK, refused atomic.Int64
	err := client.SetEventHook(func(e kasko.Event) {
		called.Add(1)
		if e.Kind != kasko.EventAttempt {
			return
		}
		for _, target := range []*kasko.Client{client, other} {
			if p, err := target.GetPayment(id); err == nil && p.JSON != "" {
				nestedOK.Add(1)
			}
			var kerr *kasko.Error
			if err := target.SetEventHook(nil); errors.As(err, &kerr) && kerr.Status == kasko.StatusInvalidArgument {
				refused.Add(1)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetPayment(id); err != nil {
		t.Fatal(err)
	}
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	if called.Load() != 2 || nestedOK.Load() != 2 || refused.Load() != 2 {
		t.Errorf("%d events (want one attempt and one call end), %d nested calls succeeded, %d sets refused",
			called.Load(), nestedOK.Load(), refused.Load())
	}
	if events := otherEvents.take(); len(events) != 0 {
		t.Errorf("the other client's call inside the hook delivered %+v", events)
	}
}

// A call on the client from inside its hook while Close waits: the nested
// call must not wait for Close (which waits for the outer call).
func TestEventHookNestedCallWhileClosing(t *testing.T) {
	client, err := kasko.NewClientWithConfig(sandboxConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	id := newPayment(t, client)
	inHook := make(chan struct{})
	closing := make(chan struct{})
	var once sync.Once
	var nested error
	if err := client.SetEventHook(func(e kasko.Event) {
		if e.Kind != kasko.EventAttempt {
			return
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			return
		}
		close(inHook)
		<-closing
		for i := 0; i < 100; i++ { // give Close time to be waiting for the lock
			runtime.Gosched()
		}
		_, nested = client.GetPayment(id)
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := client.GetPayment(id)
		done <- err
	}()
	<-inHook
	closed := make(chan struct{})
	go func() {
		client.Close()
		close(closed)
	}()
	close(closing)
	select {
	case err := <-done:
		if err != nil || nested != nil {
			t.Errorf("outer %v, nested %v", err, nested)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("deadlock: a call inside the hook waits for Close, which waits for the call")
	}
	<-closed
}

// viewers are goroutines viewing one payment until stopped, counting the
// calls made and failed (a goroutine stops at its first failure).
type viewers struct {
	done, failures atomic.Int64
	stop           chan struct{}
	wg             sync.WaitGroup
	once           sync.Once
}

func startViewers(client *kasko.Client, id string, n int) *viewers {
	v := &viewers{stop: make(chan struct{})}
	for g := 0; g < n; g++ {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for {
				select {
				case <-v.stop:
					return
				default:
				}
				if _, err := client.GetPayment(id); err != nil {
					v.failures.Add(1)
					return
				}
				v.done.Add(1)
			}
		}()
	}
	return v
}

// stopAll stops the goroutines and waits for them; again, it does nothing.
func (v *viewers) stopAll() {
	v.once.Do(func() {
		close(v.stop)
		v.wg.Wait()
	})
}

func TestEventHookReplacedAndClearedWhileEightGoroutinesCall(t *testing.T) {
	const hooks = 150
	client := clientWithRetries(t, 0)
	id := newPayment(t, client)
	var calls [hooks]atomic.Int64
	var calledAfterRelease atomic.Int64
	var released [hooks]atomic.Bool
	v := startViewers(client, id, 8)
	defer v.stopAll()
	done := &v.done
	callsMade := func(atLeast int64) { // waits for the workers to make more calls
		for done.Load() < atLeast {
			if v.failures.Load() > 0 {
				v.stopAll()
				t.Fatal("a worker's call failed")
			}
			runtime.Gosched()
		}
	}
	callsMade(8)
	afterReplaced := make([]int64, hooks)
	for h := range afterReplaced {
		afterReplaced[h] = -1
	}
	for h := 0; h < hooks; h++ {
		h := h
		err := client.SetEventHook(func(e kasko.Event) {
			for i := 0; i < 20; i++ { // a hook that takes a while, to overlap a replacement
				if released[h].Load() || e.JSON == "" {
					calledAfterRelease.Add(1)
				}
			}
			calls[h].Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		if h > 0 {
			// The previous hook is not running and never runs again.
			released[h-1].Store(true)
			afterReplaced[h-1] = calls[h-1].Load()
		}
		callsMade(done.Load() + 4)
		if h%10 == 9 {
			if err := client.SetEventHook(nil); err != nil {
				t.Fatal(err)
			}
			released[h].Store(true)
			afterReplaced[h] = calls[h].Load()
			callsMade(done.Load() + 4)
		}
	}
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	released[hooks-1].Store(true)
	callsMade(done.Load() + 8)
	v.stopAll()
	var total int64
	for h := 0; h < hooks; h++ {
		total += calls[h].Load()
		if afterReplaced[h] >= 0 && calls[h].Load() != afterReplaced[h] {
			t.Errorf("hook %d called after it was replaced: %d, then %d", h, afterReplaced[h], calls[h].Load())
		}
	}
	if total == 0 || calledAfterRelease.Load() != 0 || client.EventHookPanics() != 0 {
		t.Errorf("%d events, %d after a hook was replaced, %d panics", total, calledAfterRelease.Load(), client.EventHookPanics())
	}
}

func TestEventHookOnAClosedClientIsRefused(t *testing.T) {
	client, err := kasko.NewClientWithConfig(sandboxConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SetEventHook(func(kasko.Event) {}); err != nil {
		t.Fatal(err)
	}
	client.Close() // lets go of the hook
	kerr := kaskoError(t, client.SetEventHook(func(kasko.Event) {}), kasko.StatusInvalidArgument)
	if kerr.Outcome != kasko.OutcomeNotSent {
		t.Errorf("%+v", kerr)
	}
}

// Replacing the hook while calls run loses no event: each goes to the old
// hook or the new one (a view without retries is two events).
func TestEventHookReplacedWhileEightGoroutinesCallLosesNoEvent(t *testing.T) {
	client := clientWithRetries(t, 0)
	id := newPayment(t, client)
	var events atomic.Int64
	hook := func(kasko.Event) { events.Add(1) }
	if err := client.SetEventHook(hook); err != nil {
		t.Fatal(err)
	}
	v := startViewers(client, id, 8)
	defer v.stopAll()
	done, failures := &v.done, &v.failures
	for h := 0; h < 200 && failures.Load() == 0; h++ {
		if err := client.SetEventHook(func(kasko.Event) { events.Add(1) }); err != nil {
			t.Error(err)
			break
		}
		for then := done.Load(); done.Load() < then+2 && failures.Load() == 0; {
			runtime.Gosched()
		}
	}
	v.stopAll()
	if err := client.SetEventHook(nil); err != nil {
		t.Fatal(err)
	}
	if failures.Load() != 0 || done.Load() == 0 || events.Load() != 2*done.Load() {
		t.Errorf("%d calls (%d failed): %d events, want %d", done.Load(), failures.Load(), events.Load(), 2*done.Load())
	}
}
