// Tests of VerifyWebhook (libkasko 1.3): the wider-API reference's test
// vector (section 6.3, all three lines), tampering, NUL bytes, hex case,
// malformed headers, NULs, goroutines. No sandbox needed.
package kasko_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	kasko "example.org/libkasko/bindings/go"
)

const (
	webhookSecret    = "whsec_test_secret"
	webhookBody      = `{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}`
	webhookSignature = "sha1=bed331ec2031e668907869f5ed39cf12136167a9"
)

func webhookStatus(err error) kasko.Status {
	if err == nil {
		return kasko.StatusOK
	}
	var kerr *kasko.Error
	if !errors.As(err, &kerr) {
		return kasko.Status(-1)
	}
	return kerr.Status
}

func TestWebhookReferenceVector(t *testing.T) {
	if len(webhookBody) != 91 {
		t.Fatalf("the body is %d bytes, not 91", len(webhookBody))
	}
	cases := []struct{ secret, body, header string }{
		{webhookSecret, webhookBody, webhookSignature},
		{webhookSecret, webhookBody + "\n", "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320"},
		{"test_secret", webhookBody, "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295"},
	}
	for _, c := range cases {
		if err := kasko.VerifyWebhook(c.secret, []byte(c.body), c.header); err != nil {
			t.Errorf("%q %q: %v", c.secret, c.header, err)
		}
	}
}

func TestWebhookBadSignature(t *testing.T) {
	cases := []struct{ secret, body, header string }{
		{webhookSecret, webhookBody + "\n", webhookSignature},
		{webhookSecret, webhookBody[:90], webhookSignature},
		{"test_secret", webhookBody, webhookSignature},
		{webhookSecret, webhookBody, "sha1=bed331ec2031e668907869f5ed39cf12136167a8"},
		{webhookSecret, "", webhookSignature},
	}
	for _, c := range cases {
		err := kasko.VerifyWebhook(c.secret, []byte(c.body), c.header)
		var kerr *kasko.Error
		if !errors.As(err, &kerr) || kerr.Status != kasko.StatusBadSignature {
			t.Errorf("%q %q: %v, want StatusBadSignature", c.secret, c.header, err)
			continue
		}
		if kerr.Status.String() != "KASKO_ERR_BAD_SIGNATURE" || !strings.Contains(kerr.JSON, `"code":"KASKO_ERR_BAD_SIGNATURE"`) {
			t.Errorf("%s %s", kerr.Status, kerr.JSON)
		}
		if strings.Contains(kerr.JSON, webhookSecret) {
			t.Errorf("the error quotes the secret: %s", kerr.JSON)
		}
	}
	if int(kasko.StatusBadSignature) != 11 {
		t.Errorf("StatusBadSignature is %d", int(kasko.StatusBadSignature))
	}
}

func TestWebhookNulBytesAndHexCase(t *testing.T) {
	body := []byte("{\"a\":\"x\x00y\"}\x00tail")
	const signature = "sha1=64b69479808ca69a18e0c186d6059958e972b6c1"
	if err := kasko.VerifyWebhook(webhookSecret, body, signature); err != nil {
		t.Errorf("NUL body: %v", err)
	}
	if s := webhookStatus(kasko.VerifyWebhook(webhookSecret, body[:7], signature)); s != kasko.StatusBadSignature {
		t.Errorf("the body up to its first NUL: %s", s)
	}
	upper := "sha1=" + strings.ToUpper(webhookSignature[5:])
	if err := kasko.VerifyWebhook(webhookSecret, []byte(webhookBody), upper); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
	if err := kasko.VerifyWebhook(webhookSecret, nil, "sha1=2f0bd1d2d712bf4a22d695e03115fa82101d175e"); err != nil {
		t.Errorf("empty body: %v", err)
	}
}

func TestWebhookInvalidArguments(t *testing.T) {
	digits := webhookSignature[5:]
	headers := []string{"", digits, "SHA1=" + digits, "sha256=" + digits, "sha1:" + digits,
		webhookSignature[:44], webhookSignature + "0", webhookSignature[:44] + "g", " " + webhookSignature,
		webhookSignature + " ", webhookSignature[:44] + "é"}
	for _, header := range headers {
		if s := webhookStatus(kasko.VerifyWebhook(webhookSecret, []byte(webhookBody), header)); s != kasko.StatusInvalidArgument {
			t.Errorf("header %q: %s", header, s)
		}
	}
	if s := webhookStatus(kasko.VerifyWebhook("", []byte(webhookBody), webhookSignature)); s != kasko.StatusInvalidArgument {
		t.Errorf("empty secret: %s", s)
	}
	err := kasko.VerifyWebhook(webhookSecret, []byte(webhookBody), webhookSignature+"\x00junk")
	if webhookStatus(err) != kasko.StatusInvalidArgument || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL in the header: %v", err)
	}
	if s := webhookStatus(kasko.VerifyWebhook(webhookSecret+"\x00x", []byte(webhookBody), webhookSignature)); s != kasko.StatusInvalidArgument {
		t.Errorf("NUL in the secret: %s", s)
	}
}

func TestWebhookGoroutines(t *testing.T) {
	var right atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if kasko.VerifyWebhook(webhookSecret, []byte(webhookBody), webhookSignature) == nil {
					right.Add(1)
				}
				if webhookStatus(kasko.VerifyWebhook(webhookSecret, []byte(webhookBody+"x"), webhookSignature)) == kasko.StatusBadSignature {
					right.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if right.Load() != 1600 {
		t.Errorf("1600 right answers, got %d", right.Load())
	}
}
