package kasko

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// WithTimeout's conversion to kasko_call_options_set_timeout_ms: a positive
// duration never becomes 0 (the client's timeout), a negative one never
// becomes valid, and out-of-range ones stay out of range.
func TestMilliseconds(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want int64
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{30 * time.Second, 30000},
		{time.Hour, 3600000},
		{-time.Nanosecond, -1},
		{-1500 * time.Microsecond, -1},
		{-time.Second, -1000},
		{math.MaxInt64, math.MaxInt32},
		{math.MinInt64, math.MinInt32},
	} {
		if got := int64(milliseconds(c.in)); got != c.want {
			t.Errorf("milliseconds(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// The configuration keys are the library's, all of them: it lists them when
// it refuses an unknown one.
func TestConfigKeysAreTheLibrarys(t *testing.T) {
	_, err := NewClient(`{"public_key":"pk_test_abc","no_such_key":1}`)
	var kerr *Error
	if !errors.As(err, &kerr) {
		t.Fatalf("want an *Error, got %v", err)
	}
	_, known, found := strings.Cut(kerr.Message, "known keys: ")
	if !found {
		t.Fatalf("no list of keys: %q", kerr.Message)
	}
	ours := []string{keyPublicKey, keySecretKey, keyBaseURL, keyTimeoutMS, keyConnectTimeoutMS, keyMaxRetries,
		keyCABundle, keyProxy, keyUserAgent}
	if got := strings.Split(known, ", "); !reflect.DeepEqual(got, ours) {
		t.Fatalf("the library's keys %q, the package's %q", got, ours)
	}
	// One field of Config per key (which field sets which key:
	// TestConfigBadValueIsInvalidArgumentWithTheLibrarysMessage).
	if n := reflect.TypeOf(Config{}).NumField(); n != len(ours) {
		t.Fatalf("Config has %d fields for %d keys", n, len(ours))
	}
}
