/* man: kasko_webhook_verify */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* A receiver's check before it acts on a delivery: body is
 * the raw request body, body_len bytes as received (it may
 * hold NUL bytes); signature is X-KASKO-Signature's value.
 * Answer 2xx only if it matches; de-duplicate deliveries by
 * their X-KASKO-Delivery header. */
static int accept_delivery(const char *secret,
                           const char *body, size_t body_len,
                           const char *signature)
{
  kasko_status status;

  status = kasko_webhook_verify(secret, body, body_len,
                                signature);
  switch (status) {
  case KASKO_OK:
    return 1;
  case KASKO_ERR_BAD_SIGNATURE: /* not from KASKO */
    fprintf(stderr, "dropped: the signature does not match\n");
    return 0;
  case KASKO_ERR_INVALID_ARGUMENT: /* no "sha1=" + 40 hex */
  default:
    fprintf(stderr, "dropped: %s\n", kasko_status_name(status));
    return 0;
  }
}

int main(void)
{
  /* The secret KASKO gave for this webhook, kept out of
   * the source. */
  const char *secret = getenv("KASKO_WEBHOOK_SECRET");
  static const char body[] =
      "{\"id\":\"tpol_0000000000000000000000000000\","
      "\"livemode\":false,"
      "\"policy_id\":\"TEST-POLICY-12345\"}";
  const char *signature =
      "sha1=bed331ec2031e668907869f5ed39cf12136167a9";

  if (secret == NULL)
    secret = "whsec_test_secret";
  if (!accept_delivery(secret, body, sizeof body - 1,
                       signature))
    return 1; /* answer 400: not received */
  printf("accepted: answer 204\n");
  return 0;
}
