/* man: kasko_status */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* After a failed create: what the caller does next, by status. */
static void next_step(const kasko_result *result)
{
  const char *pending = kasko_result_pending_payment_id(result);

  switch (kasko_result_status(result)) {
  case KASKO_OK:
    break;
  case KASKO_ERR_INVALID_ARGUMENT: /* nothing was sent */
  case KASKO_ERR_BAD_REQUEST:
    fprintf(stderr, "fix it: %s\n", kasko_result_message(result));
    break;
  case KASKO_ERR_UNAUTHORIZED:
  case KASKO_ERR_NOT_FOUND:
    fprintf(stderr, "check the keys, the provider and the ids\n");
    break;
  case KASKO_ERR_PENDING_PAYMENT:
    fprintf(stderr, "already pending: view %s\n",
            pending != NULL ? pending : "the policy's payment");
    break;
  case KASKO_ERR_RATE_LIMITED: /* not carried out */
    fprintf(stderr, "slow down, then create it again\n");
    break;
  case KASKO_ERR_SERVER:
  case KASKO_ERR_NETWORK:
  case KASKO_ERR_INVALID_RESPONSE:
    if (kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN)
      fprintf(stderr, "the payment may exist: view it first\n");
    else
      fprintf(stderr, "not carried out: try again later\n");
    break;
  case KASKO_ERR_INTERNAL:
  default: /* a status newer than this program */
    fprintf(stderr, "%s\n", kasko_result_message(result));
    break;
  }
}

int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
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
  if (status == KASKO_OK)
    status = kasko_payment_create_v2(client, argv[2], "invoice",
                                     "invoice", argv[1], NULL,
                                     &result);
  next_step(result);
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
