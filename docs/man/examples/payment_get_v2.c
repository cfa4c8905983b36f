/* man: kasko_payment_get_v2 kasko_result_free kasko_result_member_string */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Views a payment and prints its status, read without a JSON parser.
 * Every string read from a result belongs to it: use it before
 * kasko_result_free(), or copy it. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  const char *status_text = NULL;
  size_t length = 0;
  kasko_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PAYMENT_ID\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &result);
  kasko_config_free(cfg);
  if (status == KASKO_OK)
    status = kasko_payment_get_v2(client, argv[1], NULL, &result);
  if (status != KASKO_OK) {
    fprintf(stderr, "%s: %s\n", kasko_status_name(status),
            kasko_result_message(result));
  } else if (kasko_result_member_string(result, "status", &status_text,
                                        &length) == KASKO_OK) {
    printf("%s: %.*s\n", argv[1], (int)length, status_text);
  }
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
