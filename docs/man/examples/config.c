/* man: kasko_config_new kasko_config_free kasko_config_set_string kasko_config_set_int kasko_client_new_from_config */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* A client configured key by key: no JSON to write or escape. The keys
 * come from the environment, never from the source. */
int main(void)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *error = NULL;
  kasko_status status;

  if (cfg == NULL)
    return 1;
  /* NULL (an unset variable) removes a key: the public key is then
   * reported missing, and an optional key gets its default. */
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  kasko_config_set_string(cfg, "ca_bundle", getenv("KASKO_CA_BUNDLE"));
  kasko_config_set_string(cfg, "user_agent", "shop-checkout/2.4");
  kasko_config_set_int(cfg, "timeout_ms", 20000);
  kasko_config_set_int(cfg, "max_retries", 3);
  /* A setter's refusal (an unknown key, a number given as a string)
   * is remembered: the client is refused with its reason here. */
  status = kasko_client_new_from_config(cfg, &client, &error);
  kasko_config_free(cfg); /* the client keeps what it needs */
  if (status != KASKO_OK) {
    fprintf(stderr, "config: %s\n", kasko_result_message(error));
    kasko_result_free(error);
    return 1;
  }
  /* ... calls ... */
  kasko_client_free(client);
  return 0;
}
