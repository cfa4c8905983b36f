/* man: kasko_result_pending_payment_id */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* A create refused because the policy already has a pending payment:
 * view that payment instead of creating a second one. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *created = NULL, *pending = NULL;
  const char *pending_id, *state = NULL;
  kasko_status status;

  if (argc != 3) {
    fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &created);
  kasko_config_free(cfg);
  if (status == KASKO_OK)
    status = kasko_payment_create_v2(client, argv[2], "invoice",
                                     "invoice", argv[1], NULL,
                                     &created);
  pending_id = kasko_result_pending_payment_id(created);
  if (status == KASKO_ERR_PENDING_PAYMENT && pending_id != NULL) {
    /* pending_id belongs to created: free that after this call */
    if (kasko_payment_get_v2(client, pending_id, NULL, &pending)
            == KASKO_OK
        && kasko_result_member_string(pending, "status", &state, NULL)
            == KASKO_OK)
      printf("payment %s is pending: %s\n", pending_id, state);
    kasko_result_free(pending);
  } else if (status != KASKO_OK) {
    fprintf(stderr, "%s\n", kasko_result_message(created));
  }
  kasko_result_free(created);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
