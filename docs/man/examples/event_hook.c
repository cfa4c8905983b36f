/* man: kasko_client_set_event_hook kasko_result_total_time_us */
#include <kasko.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* One line per event on the stream given as user data. The
 * event is redacted (no key, no token, no body): log it as is. */
static void log_event(const kasko_result *event, void *user_data)
{
  const char *json = kasko_result_json(event);
  fprintf((FILE *)user_data, "kasko event: %s\n", json);
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
    fprintf(stderr, "%s\n", kasko_result_message(result));
    kasko_result_free(result);
    return 1;
  }
  status = kasko_client_set_event_hook(client, log_event, stderr);
  if (status != KASKO_OK)
    return 1;
  status = kasko_payment_get_v2(client, argv[1], NULL, &result);
  printf("%s in %" PRId64 " us\n", kasko_status_name(status),
         kasko_result_total_time_us(result));
  kasko_result_free(result);
  /* Once this returns, the hook is never called again. */
  if (kasko_client_set_event_hook(client, NULL, NULL) != KASKO_OK)
    return 1;
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
