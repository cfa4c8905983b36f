/* man: kasko_call_options_new kasko_call_options_free kasko_call_options_set_timeout_ms kasko_call_options_set_traceparent kasko_call_options_set_tracestate kasko_call_options_check */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* A view with a shorter time limit, inside the caller's trace (the
 * W3C headers, e.g. from an incoming request). */
int main(int argc, char **argv)
{
  kasko_config *cfg = kasko_config_new();
  kasko_call_options *options = kasko_call_options_new();
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  kasko_status status;

  if (argc != 2 || options == NULL) {
    fprintf(stderr, "usage: %s PAYMENT_ID\n", argv[0]);
    return 2;
  }
  kasko_call_options_set_timeout_ms(options, 5000);
  kasko_call_options_set_traceparent(options, getenv("TRACEPARENT"));
  kasko_call_options_set_tracestate(options, getenv("TRACESTATE"));
  /* A malformed header value is remembered, not silently dropped:
   * say why before making any call with these options. */
  if (kasko_call_options_check(options, &result) != KASKO_OK) {
    fprintf(stderr, "options: %s\n", kasko_result_message(result));
    kasko_result_free(result);
    kasko_call_options_free(options);
    return 2;
  }
  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &result);
  kasko_config_free(cfg);
  if (status == KASKO_OK) /* one set of options may serve many calls */
    status = kasko_payment_get_v2(client, argv[1], options, &result);
  if (status != KASKO_OK)
    fprintf(stderr, "%s\n", kasko_result_message(result));
  kasko_result_free(result);
  kasko_call_options_free(options); /* once no call is using it */
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
