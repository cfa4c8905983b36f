/* man: kasko_quote_create_v2 kasko_offer_create_v2 */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quote, then offer, with typed access: the quote's token is read
 * from the result and put into the offer request. */
int main(void)
{
  kasko_config *cfg = kasko_config_new();
  kasko_client *client = NULL;
  kasko_result *quote = NULL, *offer = NULL;
  const char *token = NULL, *policy_id = NULL;
  char request[4096];
  kasko_status status;

  kasko_config_set_string(cfg, "public_key",
                          getenv("KASKO_PUBLIC_KEY"));
  kasko_config_set_string(cfg, "secret_key",
                          getenv("KASKO_SECRET_KEY"));
  status = kasko_client_new_from_config(cfg, &client, &quote);
  kasko_config_free(cfg);
  if (status != KASKO_OK) {
    fprintf(stderr, "%s\n", kasko_result_message(quote));
    kasko_result_free(quote);
    return 1;
  }
  status = kasko_quote_create_v2(client,
      "{\"integration_id\":\"in_sandbox_travel\","
      "\"item_id\":\"ins_sandbox_travel\","
      "\"subscription_plan_id\":\"pp_sandbox_single\","
      "\"data\":{\"trip_cost\":120000,"
      "\"policy_start_date\":\"2027-01-15\"}}",
      NULL, &quote);
  if (status == KASKO_OK &&
      kasko_result_member_string(quote, "token", &token, 0)
          == KASKO_OK &&
      strlen(token) < 2048) {
    snprintf(request, sizeof request,
             "{\"quote_token\":\"%s\",\"first_name\":\"Ada\","
             "\"last_name\":\"Lovelace\","
             "\"email\":\"ada@example.com\","
             "\"language\":\"en\"}", token);
    status = kasko_offer_create_v2(client, request, NULL, &offer);
    if (status == KASKO_OK &&
        kasko_result_member_string(offer, "id", &policy_id, 0)
            == KASKO_OK)
      printf("offer %s\n", policy_id);
    else
      fprintf(stderr, "offer: %s\n", kasko_result_message(offer));
  } else {
    fprintf(stderr, "quote: %s\n", kasko_result_message(quote));
  }
  kasko_result_free(offer); /* NULL-safe */
  kasko_result_free(quote);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
