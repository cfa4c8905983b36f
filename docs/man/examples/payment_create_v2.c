/* man: kasko_payment_create_v2 kasko_result_outcome kasko_result_retryable kasko_outcome */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Creates a payment, and after a failure decides from the outcome what
 * is safe: a create must never be repeated when it may have worked. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  const char *id = NULL;
  kasko_status status;

  if (argc != 3) {
    fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &result);
  kasko_config_free(cfg);
  if (status == KASKO_OK) {
    kasko_result_free(result); /* NULL after a success */
    status = kasko_payment_create_v2(client, argv[2], "invoice",
                                     "invoice", argv[1], NULL,
                                     &result);
  }
  switch (kasko_result_outcome(result)) {
  case KASKO_OUTCOME_SUCCEEDED:
    if (kasko_result_member_string(result, "id", &id, 0) == KASKO_OK)
      printf("created %s\n", id);
    break;
  case KASKO_OUTCOME_NOT_SENT: /* nothing left the host */
    fprintf(stderr, "not sent: %s%s\n", kasko_result_message(result),
            kasko_result_retryable(result) ? " (try again)" : "");
    break;
  case KASKO_OUTCOME_REJECTED: /* the API refused: fix, then retry */
    fprintf(stderr, "rejected: %s\n", kasko_result_message(result));
    break;
  case KASKO_OUTCOME_UNKNOWN:
  default:
    fprintf(stderr, "%s: the payment may exist: view the policy's "
            "payments before creating one again\n",
            kasko_result_message(result));
    break;
  }
  kasko_result_free(result); /* and with it id */
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
