/* man: kasko_offer_get kasko_offer_get_v2 */
#include <kasko.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads an offer: once as a JSON string, once with typed access
 * to its status (an offer awaiting manual underwriting is
 * "pending" and has no payment token yet). */
int main(int argc, char **argv)
{
  char config[512];
  kasko_client *client = NULL;
  kasko_result *result = NULL;
  char *text = NULL;
  const char *state = NULL;
  kasko_status status;

  if (argc != 2) {
    fprintf(stderr, "usage: %s POLICY_ID\n", argv[0]);
    return 2;
  }
  snprintf(config, sizeof config,
           "{\"public_key\":\"%s\",\"secret_key\":\"%s\"}",
           getenv("KASKO_PUBLIC_KEY"), getenv("KASKO_SECRET_KEY"));
  if (kasko_client_new(config, &client, &text) != KASKO_OK) {
    fprintf(stderr, "%s\n", text);
    kasko_string_free(text);
    return 1;
  }
  status = kasko_offer_get(client, argv[1], &text);
  if (status != KASKO_OK) fprintf(stderr, "%s\n", text);
  kasko_string_free(text); /* holds the payment token: not printed */

  status = kasko_offer_get_v2(client, argv[1], NULL, &result);
  if (status == KASKO_OK &&
      kasko_result_member_string(result, "status", &state, 0)
          == KASKO_OK)
    printf("offer %s is %s\n", argv[1], state);
  else
    fprintf(stderr, "%s\n", kasko_result_message(result));
  kasko_result_free(result);
  kasko_client_free(client);
  return status == KASKO_OK ? 0 : 1;
}
