/* man: kasko_result_new_error */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A wrapper that takes a payment id as bytes and a length, as a
 * binding would: an id with a NUL byte cannot become a C string, so
 * the wrapper refuses it itself, with an error of the library's shape.
 * Its callers then handle every failure alike. */
static kasko_status view(kasko_client *client, const char *id,
                         size_t length, kasko_result **out_result)
{
  char copy[129];

  if (memchr(id, '\0', length) != NULL || length >= sizeof copy)
    return kasko_result_new_error(KASKO_ERR_INVALID_ARGUMENT,
        "payment id has a NUL byte or is too long", out_result);
  memcpy(copy, id, length);
  copy[length] = '\0';
  return kasko_payment_get_v2(client, copy, NULL, out_result);
}

int main(void)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  kasko_status status;

  kasko_config_set_string(cfg, "public_key",

                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &result);
  kasko_config_free(cfg);
  if (status == KASKO_OK)
    status = view(client, "pay_\0x", 6, &result);
  /* The same accessors as for the library's own errors: outcome
   * "not_sent", 0 attempts, not retryable. */
  if (status != KASKO_OK)
    fprintf(stderr, "%s (%s)\n", kasko_result_message(result),
            kasko_outcome_name(kasko_result_outcome(result)));
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
