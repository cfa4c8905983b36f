/* man: kasko_client_new kasko_client_free kasko_string_free */
#include <kasko.h>
#include <stdio.h>

/* The 1.0 constructor, from JSON. This configuration holds only the
 * public key, which is not a secret; to add the secret key, prefer
 * kasko_config_set_string(), which needs no JSON escaping. */
int main(void)
{
  const char *config_json =
      "{\"public_key\": \"pk_test_0123456789abcdef0123456789abcdef\","
      " \"timeout_ms\": 30000, \"max_retries\": 3}";
  kasko_client *client = NULL;
  char *error_json = NULL;
  kasko_status status;

  status = kasko_client_new(config_json, &client, &error_json);

  if (status != KASKO_OK) {
    /* {"object":"error","code":...,"message":...}: it is ours */
    fprintf(stderr, "%s\n", error_json);
    kasko_string_free(error_json);
    return 1;
  }
  /* ... kasko_payment_create(client, ...) from any thread ... */
  kasko_client_free(client);
  return 0;
}
