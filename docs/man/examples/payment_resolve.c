/* man: kasko_payment_resolve */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pays a policy; when the create's outcome is unknown (sent, no
 * answer), finds out what it did instead of guessing, and never
 * pays twice. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  const char *state = NULL, *payment_id = NULL, *why = NULL;
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
  if (status != KASKO_OK) {
    fprintf(stderr, "%s\n", kasko_result_message(result));
    kasko_result_free(result);
    return 1;
  }
  status = kasko_payment_create_v2(client, argv[2], "invoice",
                                   "invoice", argv[1], NULL, &result);
  if (status != KASKO_OK &&
      kasko_result_outcome(result) == KASKO_OUTCOME_UNKNOWN) {
    kasko_result_free(result);
    status = kasko_payment_resolve(client, argv[2], "invoice",
                                   "invoice", argv[1], NULL, &result);
    if (status == KASKO_OK &&
        kasko_result_member_string(result, "state", &state, 0)
            == KASKO_OK) {
      if (kasko_result_member_string(result, "payment_id",
                                     &payment_id, 0) != KASKO_OK)
        payment_id = NULL; /* null: the answer named no payment */
      if (strcmp(state, "paid") == 0)
        printf("paid\n");
      else if (strcmp(state, "pending") == 0)
        printf("pending (payment %s)\n",
               payment_id ? payment_id : "?");
      else if (kasko_result_member_string(result, "message", &why, 0)
               == KASKO_OK)
        printf("not paid, safe to create again: %s\n", why);
    } else {
      fprintf(stderr, "still unknown: %s\n",
              kasko_result_message(result));
    }
  } else if (status != KASKO_OK) {
    fprintf(stderr, "%s\n", kasko_result_message(result));
  }
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
