/* man: kasko_quote_create kasko_offer_create */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Prices a trip insurance and makes an offer of it, with JSON
 * strings in and out. A real program reads "token" out of the
 * quote with its JSON parser (or uses kasko_quote_create_v2 and
 * kasko_result_member_string); here it is passed as an argument. */
int main(int argc, char **argv)
{
  char config[512], offer_request[1024];
  kasko_client *client = NULL;
  char *error = NULL, *quote = NULL, *offer = NULL;
  kasko_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s QUOTE_TOKEN_TO_OFFER\n", argv[0]);
    return 2;
  }
  snprintf(config, sizeof config,
           "{\"public_key\":\"%s\",\"secret_key\":\"%s\"}",
           getenv("KASKO_PUBLIC_KEY"), getenv("KASKO_SECRET_KEY"));
  if (kasko_client_new(config, &client, &error) != KASKO_OK) {
    fprintf(stderr, "%s\n", error);
    kasko_string_free(error);
    return 1;
  }
  status = kasko_quote_create(client,
      "{\"integration_id\":\"in_sandbox_travel\","
      "\"item_id\":\"ins_sandbox_travel\","
      "\"subscription_plan_id\":\"pp_sandbox_single\","
      "\"data\":{\"trip_cost\":120000,"
      "\"policy_start_date\":\"2027-01-15\"}}",
      &quote);
  printf("%s: %s\n", kasko_status_name(status), quote);
  kasko_string_free(quote);

  snprintf(offer_request, sizeof offer_request,
           "{\"quote_token\":\"%s\",\"first_name\":\"Ada\","
           "\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\","
           "\"language\":\"en\",\"data\":{}}", argv[1]);
  status = kasko_offer_create(client, offer_request, &offer);
  /* An offer holds its payment token: do not log it. */
  printf("offer: %s\n", kasko_status_name(status));
  kasko_string_free(offer);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
