/* man: kasko_payment_get */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* The 1.0 view: the answer is a JSON string, the payment object on
 * KASKO_OK, else the error object. Both are the caller's to free. */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *error = NULL;
  char *json = NULL;
  kasko_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PAYMENT_ID\n", argv[0]);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &error);
  kasko_config_free(cfg);
  if (status != KASKO_OK) {
    fprintf(stderr, "client: %s\n", kasko_result_message(error));
    kasko_result_free(error);
    return 1;
  }
  status = kasko_payment_get(client, argv[1], &json);
  if (status == KASKO_OK)
    printf("%s\n", json);
  else if (json != NULL)
    fprintf(stderr, "%s: %s\n", kasko_status_name(status), json);
  kasko_string_free(json); /* NULL is fine */
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
