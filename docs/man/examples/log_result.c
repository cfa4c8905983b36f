/* man: kasko_outcome_name kasko_result_status kasko_result_message kasko_result_http_status kasko_result_attempts kasko_result_request_id */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* One log line per call, on success as on failure: what support asks
 * for is the request id. */
static void log_result(const char *what, const kasko_result *result)
{
  const char *message = kasko_result_message(result); /* NULL: OK */
  const char *request_id = kasko_result_request_id(result);

  fprintf(stderr, "%s: %s, %s, HTTP %d, %d attempt(s), "
          "request %s%s%s\n",
          what, kasko_status_name(kasko_result_status(result)),
          kasko_outcome_name(kasko_result_outcome(result)),
          kasko_result_http_status(result),
          kasko_result_attempts(result),
          request_id != NULL ? request_id : "(none)",
          message != NULL ? ": " : "", message != NULL ? message : "");
}

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
  if (status != KASKO_OK) {
    log_result("client", result);
    kasko_result_free(result);
    return 1;
  }
  status = kasko_payment_get_v2(client, argv[1], NULL, &result);
  log_result("view", result);
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
