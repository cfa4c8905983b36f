/* man: kasko_status_name */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Views a payment; a failure is logged with the status's name, which
 * stays readable in logs when the numbers are not. */
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
  if (status != KASKO_OK)
    fprintf(stderr, "view %s: %s: %s\n", argv[1],
            kasko_status_name(status), kasko_result_message(result));
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
