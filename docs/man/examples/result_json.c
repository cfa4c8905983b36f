/* man: kasko_result_json */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Writes a payment's JSON, as the API sent it, to standard output (for
 * jq, or to store), or the error object to standard error. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
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
  /* The text belongs to the result: print it before freeing that. */
  fprintf(status == KASKO_OK ? stdout : stderr, "%s\n",
          kasko_result_json(result));
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
