/* man: libkasko */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Pays a policy with the offer's payment token, then views the payment
 * created. Keys come from the environment; KASKO_BASE_URL, when set,
 * points the client at another server (such as kasko-sandbox(1)). */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *created = NULL, *viewed = NULL;
  const char *id = NULL, *state = NULL;
  kasko_status status;

  if (argc != 3) {
    fprintf(stderr, "usage: %s POLICY_ID PAYMENT_TOKEN\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  kasko_config_set_string(cfg, "base_url", getenv("KASKO_BASE_URL"));
  status = kasko_client_new_from_config(cfg, &client, &created);
  kasko_config_free(cfg);
  if (status == KASKO_OK)
    status = kasko_payment_create_v2(client, argv[2], "invoice",
                                     "invoice", argv[1], NULL,
                                     &created);
  if (status != KASKO_OK) {
    fprintf(stderr, "%s: %s (outcome %s)\n", kasko_status_name(status),
            kasko_result_message(created),
            kasko_outcome_name(kasko_result_outcome(created)));
    kasko_result_free(created);
    kasko_client_free(client);
    return 1;
  }
  if (kasko_result_member_string(created, "id", &id, NULL) != KASKO_OK)
    id = "(no id)"; /* then the view below is refused */
  /* id belongs to created, which is freed after the view */
  status = kasko_payment_get_v2(client, id, NULL, &viewed);
  if (status != KASKO_OK)
    fprintf(stderr, "view %s: %s\n", id, kasko_result_message(viewed));
  else if (kasko_result_member_string(viewed, "status", &state, NULL)
           == KASKO_OK)
    printf("%s: %s\n", id, state);
  kasko_result_free(viewed);
  kasko_result_free(created);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
