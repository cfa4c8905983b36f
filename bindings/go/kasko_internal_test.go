package kasko

import (
	"math"
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
